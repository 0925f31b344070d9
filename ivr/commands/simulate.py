"""``ivr simulate``: talk to the bot in the terminal (or run a script of turns, or a WAV)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import TextIO

import click

from bot.engine import Engine
from bot.language import choose_language
from ivr.commands.common import (
    flow_language_or_exit,
    flows_option,
    language_option,
    load_flow_or_exit,
    nlu_client,
    parse_now,
    quiet_turn_logs,
)
from ivr.config import load_config
from ivr.simulator import ScriptError, Simulator


@click.command("simulate")
@flows_option
@click.option(
    "--script",
    type=click.File("r"),
    default=None,
    help="Play the turns in FILE (one per line) instead of asking.",
)
@click.option(
    "--audio",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="Be the caller with this WAV (16-bit PCM) on the real phone path: the app on a local "
    "port, the Twilio emulator, Vosk.",
)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per turn.")
@click.option("--verbose", "-v", is_flag=True, help="Show intent, confidence and decision.")
@click.option(
    "--from", "caller", default="+447700900123", show_default=True, help="The caller's number."
)
@click.option(
    "--to", "called", default=None, help="The number called (it may choose the language)."
)
@click.option("--now", default=None, help="Pretend it is this time (ISO 8601).")
@click.option("--keep-server", is_flag=True, help="Leave an NLU server we started running.")
@language_option
def simulate_command(
    flows_path: str | None,
    script: TextIO | None,
    audio: Path | None,
    as_json: bool,
    verbose: bool,
    caller: str,
    called: str | None,
    now: str | None,
    keep_server: bool,
    language: str | None,
) -> None:
    """Chat with the bot against the real engine and the real NLU.

    Type what the caller says; [keypad 0], [silence] and [hangup] act instead of speaking.
    With --audio, a WAV file calls the app instead, and the call's timeline is printed.
    """
    if script is not None and audio is not None:
        raise click.UsageError("give --script or --audio, not both")
    config = load_config()
    quiet_turn_logs()
    flows = flows_path or config["FLOWS"]
    flow = load_flow_or_exit(flows, "simulate")
    fixed_now = parse_now(now, flow)
    if language is not None:
        language = flow_language_or_exit(flow, language, "simulate")
    else:
        language = choose_language(flow, called=called, caller=caller).language
    if audio is not None:
        from ivr.commands.simulate_audio import AudioCall, simulate_audio

        call = AudioCall(
            audio, str(flows), caller, fixed_now, verbose, as_json, keep_server, language
        )
        simulate_audio(config, flow, call)
        return

    def clock() -> datetime:
        return fixed_now or datetime.now(flow.business_hours.zone)

    interactive = script is None and sys.stdin.isatty()
    with nlu_client(config, flow, "simulate", keep_server=keep_server) as nlu:
        simulator = Simulator(
            Engine(flow),
            nlu,
            sys.stdout,
            verbose=verbose,
            as_json=as_json,
            caller=caller,
            called=called,
            language=language,
        )
        if interactive and not as_json:
            click.echo("Say something (or [keypad 0], [silence], [hangup]); Ctrl-D ends.\n")
        lines = script if script is not None else _prompted(interactive)
        try:
            simulator.run(lines, clock)
        except ScriptError as error:
            raise SystemExit(f"simulate: {error}") from None


def _prompted(interactive: bool) -> Iterator[str]:
    """Lines from stdin, with a prompt when a person is typing."""
    while True:
        try:
            yield input("you:  ") if interactive else next(sys.stdin)
        except (EOFError, StopIteration):
            return
