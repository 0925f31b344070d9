"""``ivr flows check [PATH ...]``: every problem of a flow, one per line, and an exit code."""

from __future__ import annotations

import click

from bot.flow import Flow, check_flow
from bot.flow.errors import display_path
from ivr.config import load_config


@click.group()
def flows() -> None:
    """Check the call flows admins edit."""


def summary(flow: Flow) -> str:
    """``14 steps, 12 intents, 30 prompts, languages en, 6 queues, 3 agents``."""
    return (
        f"{len(flow.steps)} steps, {len(flow.intents)} intents, "
        f"{len(flow.all_prompts())} prompts, languages {', '.join(flow.languages)}, "
        f"{len(flow.queues)} queues, {len(flow.agents)} agents"
    )


@flows.command("check")
@click.argument("paths", nargs=-1, type=click.Path(path_type=str))
def check_command(paths: tuple[str, ...]) -> None:
    """Check the flows in PATH (a folder or a file; default: the FLOWS setting).

    Prints every problem on its own line and exits 1 if there is any.
    """
    targets = paths or (str(load_config()["FLOWS"]),)
    failed = False
    for path in targets:
        shown = display_path(path)
        flow, problems = check_flow(path)
        if flow is None:
            failed = True
            for problem in problems:
                click.echo(str(problem), err=True)
            count = len(problems)
            click.echo(f"{shown}: {count} problem{'s' if count != 1 else ''}", err=True)
        else:
            click.echo(f"{shown}: OK — {summary(flow)}")
    if failed:
        raise SystemExit(1)
