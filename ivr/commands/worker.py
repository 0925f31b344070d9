"""``ivr worker``: place due callbacks through Twilio's REST API (the ``Procfile`` ``worker``).

Run as many as you like against one PostgreSQL database; each claims callbacks under a lease.
SIGTERM (or Ctrl-C) lets the dispatch in hand finish, gives back the rest of the batch, exits 0.
"""

from __future__ import annotations

import os
import signal
import socket
import threading

import click

from ivr.commands.common import flows_option, load_flow_or_exit
from ivr.config import env_name, load_config


@click.command("worker")
@flows_option
@click.option("--id", "worker_id", default=None, help="Name in leases and logs (default host:pid).")
@click.option("--batch", type=int, default=5, show_default=True, help="Callbacks claimed at once.")
@click.option("--once", is_flag=True, help="One pass over what is due, then exit.")
def worker_command(flows_path: str | None, worker_id: str | None, batch: int, once: bool) -> None:
    """Place due callbacks (agent first or customer first), retrying with back-off."""
    from ivr.parts import build_worker
    from ivr.store import StoreUnavailable

    config = load_config({"FLOWS": flows_path} if flows_path else None)
    flow = load_flow_or_exit(config["FLOWS"], "worker")
    if not config["TWILIO_ACCOUNT_SID"] and config["MODE"] == "development" and not once:
        _wait_without_account()  # `make run` keeps its other processes; bookings just wait
        return
    try:
        run = build_worker(
            config, flow, worker_id or f"{socket.gethostname()}:{os.getpid()}", batch
        )
    except SystemExit as error:  # ConfigurationError: one line, no traceback
        raise SystemExit(f"worker: {error}") from None
    worker = run.worker
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: worker.stop())
    try:
        if once:
            while len(worker.tick()) >= batch and not worker.stopping:
                pass
        else:
            worker.run(float(config["WORKER_POLL_SECONDS"]))
    except StoreUnavailable as error:
        raise SystemExit(f"worker: {error}") from None
    finally:
        run.store.close()


def _wait_without_account() -> None:
    """Development without a Twilio account: say so, then idle until stopped."""
    click.echo(
        f"worker: {env_name('TWILIO_ACCOUNT_SID')} is not set, so callbacks are booked but not "
        "placed; set it (or point IVR_TWILIO_API_URL at an emulator) and restart",
        err=True,
    )
    stopped = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stopped.set())
    stopped.wait()
