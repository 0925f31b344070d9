"""What several commands share: loading the flow with clear errors, and an NLU client."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime
from typing import Any

import click

from bot.flow import Flow, FlowError, load_flow
from bot.nlu.rasa import RasaNLU
from ivr.nlu.service import NLUServerHandle, ensure_nlu_server, free_port
from ivr.nlu.training import NLUError

flows_option = click.option(
    "--flows",
    "flows_path",
    type=click.Path(exists=True),
    default=None,
    help="Flow folder (default: IVR_FLOWS or flows/).",
)

language_option = click.option(
    "--language",
    default=None,
    help="The call's language, one of the flow's (default: the flow's default language).",
)


def flow_language_or_exit(flow: Flow, language: str | None, command: str) -> str:
    """``language`` if the flow speaks it (the flow's default when not given), else exit 2."""
    if language is None:
        return flow.default_language
    if language not in flow.languages:
        spoken = ", ".join(flow.languages)
        click.echo(
            f"{command}: the line does not speak '{language}' (it speaks {spoken})", err=True
        )
        raise SystemExit(2)
    return language


def load_flow_or_exit(path: str, command: str) -> Flow:
    """The flow at ``path``; on problems print each one and exit 1."""
    try:
        return load_flow(path)
    except FlowError as error:
        for problem in error.problems:
            click.echo(str(problem), err=True)
        raise SystemExit(f"{command}: the flows in {path} have problems; fix them first") from None


@contextmanager
def nlu_client(
    config: Mapping[str, Any],
    flow: Flow,
    command: str,
    *,
    timeout: float | None = None,
    keep_server: bool = False,
) -> Iterator[RasaNLU]:
    """A client of a server for ``flow``: reused, or started (and stopped) by us."""
    with (
        nlu_server(config, flow, command, keep_server=keep_server) as handle,
        handle.client(timeout=timeout or float(config["NLU_TIMEOUT"])) as client,
    ):
        yield client


@contextmanager
def nlu_server(
    config: Mapping[str, Any], flow: Flow, command: str, *, keep_server: bool = False
) -> Iterator[NLUServerHandle]:
    """A Rasa server for ``flow``: reused, or started by us and stopped after (unless kept)."""
    try:
        handle = ensure_nlu_server(config, flow)
    except NLUError as error:
        raise SystemExit(f"{command}: {error}") from None
    try:
        yield handle
    finally:
        if keep_server and handle.owned:
            click.echo(f"{command}: NLU server left running at {handle.url}", err=True)
        else:
            handle.stop()


def unreachable_nlu(timeout: float = 1.0) -> RasaNLU:
    """A real client of a port nobody listens on: how 'NLU down' looks to the app."""
    return RasaNLU(f"http://127.0.0.1:{free_port()}", "", timeout=timeout)


def parse_now(value: str | None, flow: Flow) -> datetime | None:
    """``--now`` as an aware datetime (naive times are in the flow's time zone)."""
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not an ISO 8601 time", param_hint="--now") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=flow.business_hours.zone)


def quiet_turn_logs() -> None:
    """Mute per-turn INFO records where the command prints the turns itself.

    Only at the default level: a user who asked for DEBUG still gets them.
    """
    if logging.getLogger().getEffectiveLevel() == logging.INFO:
        logging.getLogger("bot.dialogue").setLevel(logging.WARNING)
