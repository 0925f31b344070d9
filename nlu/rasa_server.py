"""Start ``rasa run --enable-api`` with model swaps taken off the event loop.

Runs under ``.venv-nlu`` (Python 3.10, Rasa 3.6.21), never in the app:

    .venv-nlu/bin/python nlu/rasa_server.py --model M.tar.gz --port 5005 --auth-token T

Why: Rasa 3.6's ``PUT /model`` awaits ``rasa.server._load_agent``, which calls the synchronous
``Agent.load_model`` on the Sanic event loop, so every ``/model/parse`` stalls for the whole
load (tens of seconds for a DIET model). The launcher replaces ``_load_agent`` with a wrapper
that runs the original in a worker thread, on that thread's own event loop, and awaits the
result; parses keep being answered by the old agent until the new one is swapped in.
Everything else is the real ``rasa run`` CLI.
"""

from __future__ import annotations

import argparse
import asyncio
import concurrent.futures
import contextlib
import functools
import os
import sys
import threading
import warnings
from typing import Any

# Before Rasa is imported: no telemetry, and no SQLAlchemy 2.0 banner on every start.
os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")
os.environ.setdefault("SQLALCHEMY_SILENCE_UBER_WARNING", "1")
warnings.filterwarnings("ignore", message=".*Deprecated API features detected.*")


def patch_load_agent() -> None:
    """Make ``rasa.server._load_agent`` load in a worker thread instead of on the loop."""
    import rasa.server

    original = rasa.server._load_agent
    if getattr(original, "_off_loop", False):
        return

    # One loader thread: two PUTs in a row load one after the other instead of doubling the
    # memory and CPU spent; it runs at a lower priority so parses win the CPU meanwhile.
    loader = concurrent.futures.ThreadPoolExecutor(
        max_workers=1, thread_name_prefix="model-loader", initializer=_lower_priority
    )

    @functools.wraps(original)
    async def load_agent_off_loop(*args: Any, **kwargs: Any) -> Any:
        loop = asyncio.get_running_loop()
        # asyncio.run gives the worker its own loop: load_agent awaits broker set-up, which
        # must not touch the Sanic loop from another thread.
        work = functools.partial(asyncio.run, _load_and_warm_up(original, *args, **kwargs))
        return await loop.run_in_executor(loader, work)

    load_agent_off_loop._off_loop = True  # type: ignore[attr-defined]
    rasa.server._load_agent = load_agent_off_loop


def _lower_priority() -> None:
    # On Linux a thread is a task with its own nice value; this touches only the loader.
    with contextlib.suppress(OSError, AttributeError):
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), _LOADER_NICENESS)


_LOADER_NICENESS = 10


async def _load_and_warm_up(load: Any, *args: Any, **kwargs: Any) -> Any:
    agent = await load(*args, **kwargs)
    # The first parse of a fresh model traces its TensorFlow graph (seconds of work). Do it
    # here, off the loop, so the first caller after the swap is not the one who pays.
    await agent.parse_message(_WARM_UP_TEXT)
    return agent


_WARM_UP_TEXT = "hello, this warms the model up"


def main(argv: list[str] | None = None) -> None:
    """Parse our few options, patch Rasa, then hand over to ``rasa run``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True, help="trained model (.tar.gz)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5005)
    parser.add_argument("--auth-token", required=True)
    parser.add_argument("--log-level", choices=["quiet", "info", "debug"], default="quiet")
    args = parser.parse_args(argv)

    patch_load_agent()
    import rasa.__main__

    level = {"quiet": ["--quiet"], "info": ["-v"], "debug": ["-vv"]}[args.log_level]
    sys.argv = [
        "rasa",
        "run",
        "--enable-api",
        "--model",
        args.model,
        "--interface",
        args.host,
        "--port",
        str(args.port),
        # "=": a token may begin with "-", which argparse would read as an option.
        f"--auth-token={args.auth_token}",
        *level,
    ]
    rasa.__main__.main()


if __name__ == "__main__":
    main()
