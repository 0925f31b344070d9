"""The NLU protocol over HTTP: a client for a running Rasa server (``rasa run --enable-api``).

    nlu = RasaNLU("http://127.0.0.1:5005", token="secret", timeout=1.0)
    result = nlu.parse("my internet is down")  # NLUResult, or raises NLUUnavailable
    nlu.close()

TensorFlow stays in the Rasa process; this module only needs ``httpx``. Every way the service
can fail (slow, down, error status, nonsense body) becomes :class:`NLUUnavailable`, which the
engine turns into an apology and a person.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from types import TracebackType
from typing import Any

import httpx

from bot.nlu.result import FALLBACK_INTENT, Entity, IntentScore, NLUResult, NLUUnavailable
from bot.text import nlu_text

logger = logging.getLogger(__name__)


class RasaNLU:
    """A keep-alive HTTP client for Rasa's ``/model/parse``; safe to share between threads."""

    def __init__(self, url: str, token: str = "", timeout: float = 1.0) -> None:
        self.url = url.rstrip("/")
        self.timeout = timeout
        self._params = {"token": token} if token else {}
        # retries=1 covers only connection set-up, e.g. a keep-alive socket the server closed.
        self._client = httpx.Client(
            base_url=self.url,
            timeout=httpx.Timeout(timeout),
            transport=httpx.HTTPTransport(retries=1),
        )

    def parse(self, text: str) -> NLUResult:
        """Understand ``text``; raise :class:`NLUUnavailable` on any failure of the service."""
        started = time.perf_counter()
        folded = {"text": nlu_text(text)}  # as the model was trained (bot.nlu.compile)
        body = self._request("POST", "/model/parse", json=folded, level=logging.WARNING)
        latency_ms = (time.perf_counter() - started) * 1000
        try:
            result = result_from_rasa(text, body, latency_ms)
        except (KeyError, TypeError, ValueError) as error:
            reason = f"unexpected parse response: {error!r}"
            raise self._unavailable(reason, logging.WARNING) from error
        logger.debug(
            "nlu parse",
            extra={"intent": result.intent, "confidence": result.confidence, "ms": latency_ms},
        )
        return result

    def status(self) -> dict[str, Any]:
        """Rasa's ``GET /status``: ``model_file``, ``model_id``; raises NLUUnavailable."""
        # Quiet: callers poll this while a server starts, and failing is the expected answer.
        return self._request("GET", "/status", level=logging.DEBUG)

    def is_ready(self) -> bool:
        """Whether the server answers and has a model loaded."""
        try:
            return bool(self.status().get("model_file"))
        except NLUUnavailable:
            return False

    def close(self) -> None:
        """Close the pooled connections."""
        self._client.close()

    def __enter__(self) -> RasaNLU:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()

    def _request(
        self, method: str, path: str, *, level: int, json: object = None
    ) -> dict[str, Any]:
        try:
            response = self._client.request(method, path, params=self._params, json=json)
        except httpx.TimeoutException as error:
            raise self._unavailable(f"timed out after {self.timeout:g} s", level) from error
        except httpx.HTTPError as error:
            raise self._unavailable(f"{type(error).__name__}: {error}", level) from error
        if response.status_code != 200:
            reason = f"HTTP {response.status_code}: {response.text[:200]}"
            raise self._unavailable(reason, level)
        try:
            body = response.json()
        except ValueError as error:
            raise self._unavailable("response is not JSON", level) from error
        if not isinstance(body, dict):
            raise self._unavailable("response is not a JSON object", level)
        return body

    def _unavailable(self, reason: str, level: int) -> NLUUnavailable:
        logger.log(level, "nlu unavailable", extra={"url": self.url, "reason": reason})
        return NLUUnavailable(reason)


def result_from_rasa(text: str, body: Mapping[str, Any], latency_ms: float) -> NLUResult:
    """Translate Rasa's parse JSON; ``nlu_fallback`` becomes the ``fallback`` flag."""
    top = body.get("intent") or {}
    ranking = tuple(
        IntentScore(str(item["name"]), float(item["confidence"]))
        for item in body.get("intent_ranking") or ()
        if item.get("name") != FALLBACK_INTENT
    )
    if not ranking and top.get("name") and top["name"] != FALLBACK_INTENT:
        ranking = (IntentScore(str(top["name"]), float(top["confidence"])),)
    entities = tuple(
        Entity(
            name=str(item["entity"]),
            value=str(item["value"]),
            start=item.get("start"),
            end=item.get("end"),
            confidence=item.get("confidence_entity"),
        )
        for item in body.get("entities") or ()
    )
    best = ranking[0] if ranking else None
    return NLUResult(
        text=text,
        intent=best.name if best else None,
        confidence=best.confidence if best else 0.0,
        ranking=ranking,
        entities=entities,
        fallback=top.get("name") == FALLBACK_INTENT,
        latency_ms=latency_ms,
    )
