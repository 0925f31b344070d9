"""``ivr nlu train|serve|parse``: the Rasa NLU service from the command line."""

from __future__ import annotations

import json
import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import click

from bot.engine.base import is_confident
from bot.engine.language import identifier_for
from bot.flow import FlowError, load_flow
from bot.language import detect_switch
from bot.nlu.result import NLUUnavailable
from ivr.commands.common import (
    flow_language_or_exit,
    flows_option,
    language_option,
    load_flow_or_exit,
    nlu_client,
)
from ivr.config import load_config
from ivr.nlu.service import NLUError, serve, train_model


@click.group()
def nlu() -> None:
    """Train, serve and try the Rasa NLU model of the flows."""


@contextmanager
def _one_line_errors(what: str) -> Iterator[None]:
    """Flow and NLU errors end the command with one clear line and exit 1."""
    try:
        yield
    except FlowError as error:
        for problem in error.problems:
            click.echo(str(problem), err=True)
        raise SystemExit(f"nlu {what}: the flows have problems; fix them first") from None
    except NLUError as error:
        raise SystemExit(f"nlu {what}: {error}") from None


@nlu.command("train")
@flows_option
@click.option("--force", is_flag=True, help="Train even when the model is cached.")
def train_command(flows_path: str | None, force: bool) -> None:
    """Train the model for the flows (cached by fingerprint) and print its path."""
    config = load_config()
    with _one_line_errors("train"):
        flow = load_flow(flows_path or config["FLOWS"])
        model = train_model(flow, config, force=force)
    click.echo(str(model))


@nlu.command("serve")
@flows_option
@click.option("--port", type=int, default=None, help="Port (default: IVR_NLU_PORT or 5005).")
def serve_command(flows_path: str | None, port: int | None) -> None:
    """Serve the model; retrain and hot-swap it when the flows' examples change."""
    config = load_config()

    def on_signal(signum: int, frame: Any) -> None:
        # SIGTERM (honcho, systemd) unwinds like Ctrl-C, whether we are training, starting
        # or serving, so the trainer, the server and the state file are always cleaned up.
        # A second signal must not interrupt that clean-up.
        for each in (signal.SIGTERM, signal.SIGINT):
            signal.signal(each, signal.SIG_IGN)
        raise KeyboardInterrupt

    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, on_signal)
    try:
        with _one_line_errors("serve"):
            serve(config, flows_path or config["FLOWS"], port=port or config["NLU_PORT"])
    except KeyboardInterrupt:
        click.echo("nlu serve: stopped", err=True)


@nlu.command("parse")
@flows_option
@click.option("--keep-server", is_flag=True, help="Leave a server we started running.")
@language_option
def parse_command(flows_path: str | None, keep_server: bool, language: str | None) -> None:
    """Parse utterances from stdin, one per line; print one JSON object per line.

    ``fallback`` is what the engine acts on: true means the caller would get the clarifying
    question (and then a person), not a route. ``switch`` names the language a call in
    ``--language`` would switch to on these words.
    """
    config = load_config()
    flow = load_flow_or_exit(flows_path or config["FLOWS"], "nlu parse")
    language = flow_language_or_exit(flow, language, "nlu parse")
    identifier = identifier_for(flow)
    timeout = max(float(config["NLU_TIMEOUT"]), 10.0)  # a person is waiting, not a caller
    with nlu_client(config, flow, "nlu parse", timeout=timeout, keep_server=keep_server) as client:
        for line in sys.stdin:
            text = line.strip()
            if not text:
                continue
            try:
                result = client.parse(text)
            except NLUUnavailable as error:
                raise SystemExit(f"nlu parse: the NLU service failed: {error.reason}") from None
            entities = [{"entity": e.name, "value": e.value} for e in result.entities]
            record = {
                "text": text,
                "intent": result.intent,
                "confidence": round(result.confidence, 4),
                "entities": entities,
                "fallback": not is_confident(result, flow),
                "language": language,
            }
            understood = not record["fallback"]
            switch = detect_switch(
                text, language, flow.languages, identifier, understood=understood
            )
            if switch is not None:
                record["switch"] = switch.language
            click.echo(json.dumps(record, ensure_ascii=False))
