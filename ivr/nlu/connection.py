"""The NLU as calls see it: a client of the configured Rasa server, or of one we start.

Starting a server may mean training a model first (minutes), so it happens on a thread; until
it answers, :meth:`NLUConnection.parse` raises :class:`NLUUnavailable` and callers who speak
reach a person.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from typing import Any, Literal

from bot.flow.model import Flow
from bot.nlu.compile import compile_nlu_project
from bot.nlu.rasa import RasaNLU
from bot.nlu.result import NLUResult, NLUUnavailable

log = logging.getLogger(__name__)

ModelState = Literal["ready", "retraining", "starting", "unavailable"]


class NLUConnection:
    """The NLU as calls see it: a client of the configured server, or of one we start.

    ``parse`` raises :class:`NLUUnavailable` while no server is ready, so calls in the first
    minute still reach a person.
    """

    def __init__(self, config: Mapping[str, Any], flow: Flow) -> None:
        self._config = config
        self._client: RasaNLU | None = None
        self._handle: Any = None
        self._failed: str | None = None
        self._ready = threading.Event()
        self._model_of: tuple[Flow, str] | None = None  # the last flow asked about, its model
        if config["NLU_URL"]:
            self._client = RasaNLU(
                str(config["NLU_URL"]), str(config["NLU_TOKEN"]), float(config["NLU_TIMEOUT"])
            )
            self._ready.set()
        else:
            threading.Thread(
                target=self._start_server, args=(flow,), name="nlu-start", daemon=True
            ).start()

    def _start_server(self, flow: Flow) -> None:
        from ivr.nlu.service import ensure_nlu_server  # lazy: only when we start the server

        try:
            self._handle = ensure_nlu_server(self._config, flow, progress=None)
            self._client = self._handle.client(timeout=float(self._config["NLU_TIMEOUT"]))
            log.info("nlu server ready", extra={"url": self._handle.url})
        except Exception as failure:  # training or start-up failed: calls go to people
            self._failed = str(failure)
            log.exception("nlu server could not be started; callers will reach people")
        finally:
            self._ready.set()

    def wait(self, timeout: float | None = None) -> bool:
        """Wait until a client exists (or starting one failed)."""
        return self._ready.wait(timeout) and self._client is not None

    def parse(self, text: str) -> NLUResult:
        """Understand ``text`` with the server; :class:`NLUUnavailable` when there is none."""
        if self._client is None:
            raise NLUUnavailable(self._failed or "the NLU server is still starting")
        return self._client.parse(text)

    def model_state(self, flow: Flow) -> ModelState:
        """Whether the server answers with the model trained on ``flow``'s examples.

        ``retraining``: it answers with an older model (the NLU process retrains after an
        edit and swaps the new one in); ``starting``: no server yet; ``unavailable``: none.
        """
        if self._client is None:
            return "unavailable" if self._failed else "starting"
        try:
            model_file = str(self._client.status().get("model_file") or "")
        except NLUUnavailable:
            return "unavailable"
        if not model_file:
            return "starting"
        return "ready" if model_file.endswith(self._model_name(flow)) else "retraining"

    def _model_name(self, flow: Flow) -> str:
        """The model ``flow``'s examples train, compiled once per flow (pages ask every 2 s)."""
        known = self._model_of
        if known is None or known[0] is not flow:
            known = self._model_of = (flow, compile_nlu_project(flow).model_name)
        return known[1]

    def is_ready(self) -> bool:
        """Whether the server answers and has a model."""
        return self._client is not None and self._client.is_ready()

    @property
    def url(self) -> str | None:
        """The server's address, once known."""
        return self._client.url if self._client is not None else None

    def close(self) -> None:
        """Close the client and stop a server we started."""
        if self._client is not None:
            self._client.close()
        if self._handle is not None and self._handle.owned:
            self._handle.stop()
