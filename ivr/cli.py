"""The ``ivr`` command: one entry point for admins and developers.

Errors end in one clear line and a non-zero exit code, never a traceback: a broken flow exits
1 with every problem listed, a missing environment says which ``make`` target builds it.
"""

from __future__ import annotations

import click

from ivr.commands.call import call_command
from ivr.commands.convtest import test_command
from ivr.commands.db import db
from ivr.commands.flows import flows
from ivr.commands.models import models
from ivr.commands.nlu import nlu
from ivr.commands.run import run_command
from ivr.commands.serve import serve_command
from ivr.commands.simulate import simulate_command
from ivr.commands.users import users
from ivr.commands.worker import worker_command
from ivr.config import load_config
from ivr.logs import configure_logging


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--log-format",
    type=click.Choice(["text", "json"]),
    default=None,
    help="Log format (default: IVR_LOG_FORMAT or text).",
)
@click.option("--log-level", default=None, help="Log level (default: IVR_LOG_LEVEL or INFO).")
def cli(log_format: str | None, log_level: str | None) -> None:
    """A conversational phone line that hands callers to people."""
    config = load_config()
    configure_logging(log_format or config["LOG_FORMAT"], log_level or config["LOG_LEVEL"])


cli.add_command(flows)
cli.add_command(models)
cli.add_command(nlu)
cli.add_command(simulate_command)
cli.add_command(test_command)
cli.add_command(run_command)
cli.add_command(serve_command)
cli.add_command(call_command)
cli.add_command(worker_command)
cli.add_command(db)
cli.add_command(users)


def main() -> None:
    """Console-script entry point."""
    cli()
