"""``ivr test``: run the conversation tests next to the flows against the real NLU."""

from __future__ import annotations

from pathlib import Path

import click

from bot.convtest import ConversationTestError, load_tests, run_test
from bot.engine import Engine
from ivr.commands.common import (
    flows_option,
    load_flow_or_exit,
    nlu_client,
    quiet_turn_logs,
    unreachable_nlu,
)
from ivr.config import load_config


@click.command("test")
@flows_option
@click.argument("paths", nargs=-1, type=click.Path(exists=True))
@click.option("-k", "keyword", default=None, help="Only tests whose name contains this.")
@click.option("--verbose", "-v", is_flag=True, help="Show the transcript of passing tests too.")
def test_command(
    flows_path: str | None, paths: tuple[str, ...], keyword: str | None, verbose: bool
) -> None:
    """Run conversation tests (default: the flows' tests/ folder); exit 1 if any fails."""
    config = load_config()
    quiet_turn_logs()
    flows_path = flows_path or config["FLOWS"]
    flow = load_flow_or_exit(flows_path, "test")
    try:
        tests = [
            t for path in (paths or (str(Path(flows_path) / "tests"),)) for t in load_tests(path)
        ]
    except ConversationTestError as error:
        raise SystemExit(f"test: {error}") from None
    if keyword:
        tests = [t for t in tests if keyword.lower() in t.name.lower()]
    if not tests:
        raise SystemExit("test: no conversation tests found")
    engine = Engine(flow)
    failed = 0
    with nlu_client(config, flow, "test", timeout=10.0) as nlu, unreachable_nlu() as down:
        for test in tests:
            outcome = run_test(test, engine, nlu, down)
            failed += not outcome.passed
            mark = "PASS" if outcome.passed else "FAIL"
            click.echo(f"{mark}  {test.where}  {test.name}")
            for failure in outcome.failures:
                click.echo(f"      {failure}")
            if verbose or not outcome.passed:
                click.echo("\n".join(f"        {line}" for line in outcome.transcript))
    click.echo(f"{len(tests) - failed} passed, {failed} failed")
    if failed:
        raise SystemExit(1)
