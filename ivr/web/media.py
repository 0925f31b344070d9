"""The Media Streams socket: receive, decode, hand to the call's pipeline; encode, send.

The socket thread only moves messages. Each call gets one worker thread that runs its
pipeline (recognition, NLU, synthesis), so a slow stage never stops the socket from reading,
and audio is processed in order.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from simple_websocket import ConnectionClosed  # type: ignore[import-untyped]

from bot.dialogue import Dialogue
from bot.engine import Engine
from bot.engine.events import CallbackOffer
from ivr.call.pipeline import CallPipeline
from ivr.call.recorder import CallRecorder
from ivr.store import StoreUnavailable
from ivr.twilio import media_stream
from ivr.twilio.media_stream import (
    AudioReceived,
    DtmfReceived,
    MarkPlayed,
    StreamStarted,
    StreamStopped,
)
from ivr.web.services import Services
from voice.listener import Listener
from voice.recognizer_thread import RecognizerThread
from voice.turns import TurnConfig

log = logging.getLogger(__name__)

#: A worker this far behind real time is logged: the machine is over capacity.
BACKLOG_WARNING_FRAMES = 25
#: A single step longer than this holds the call's audio back noticeably.
SLOW_JOB_MS = 100


class StreamOutbox:
    """Our side of the stream: the pipeline's output as Twilio messages."""

    def __init__(self, ws: Any, stream_sid: str, call_id: str) -> None:
        self.ws = ws
        self.stream_sid = stream_sid
        self.call_id = call_id
        self.closed = threading.Event()
        self._lock = threading.Lock()

    def play(self, ulaw: bytes) -> None:
        """Send audio (one message; Twilio buffers and plays it in order)."""
        self._send(media_stream.encode_media(self.stream_sid, ulaw))

    def mark(self, name: str) -> None:
        """Ask Twilio to echo ``name`` once the audio before it has played."""
        self._send(media_stream.encode_mark(self.stream_sid, name))

    def clear(self) -> None:
        """Drop the audio Twilio still has buffered."""
        self._send(media_stream.encode_clear(self.stream_sid))

    def close(self) -> None:
        """Close the socket: Twilio then requests the ``<Connect action>`` URL."""
        self.closed.set()
        with self._lock:
            try:
                self.ws.close()
            except Exception:  # already gone: nothing left to close
                log.debug("socket already closed", extra={"call_id": self.call_id})

    def _send(self, message: str) -> None:
        with self._lock:
            if self.closed.is_set():
                return
            try:
                self.ws.send(message)
            except ConnectionClosed:
                self.closed.set()


class CallWorker:
    """Runs one call's pipeline on its own thread, in the order the socket received things."""

    def __init__(self, call_id: str) -> None:
        self.call_id = call_id
        self._jobs: queue.Queue[tuple[str, Callable[[], None]] | None] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name=f"call-{call_id[-8:]}", daemon=True)
        self._thread.start()

    def submit(self, what: str, job: Callable[[], None]) -> None:
        """Queue ``job`` (named ``what`` in logs) behind everything already received."""
        self._jobs.put((what, job))
        backlog = self._jobs.qsize()
        if backlog and backlog % BACKLOG_WARNING_FRAMES == 0:
            log.warning(
                "call falling behind real time", extra={"call_id": self.call_id, "backlog": backlog}
            )

    def finish(self, timeout: float = 10.0) -> None:
        """Run what is queued, then stop."""
        self._jobs.put(None)
        self._thread.join(timeout)

    def _run(self) -> None:
        while (item := self._jobs.get()) is not None:
            what, job = item
            started = time.perf_counter()
            try:
                job()
            except Exception:  # the pipeline guards itself; this is the last line of defence
                log.exception("call worker job failed", extra={"call_id": self.call_id})
            took_ms = (time.perf_counter() - started) * 1000
            if took_ms > SLOW_JOB_MS:
                log.warning(
                    "slow call pipeline step",
                    extra={"call_id": self.call_id, "step": what, "ms": round(took_ms, 1)},
                )


def serve_stream(ws: Any, services: Services) -> None:
    """Run one Media Streams connection until it stops or the bot hands the call over."""
    worker: CallWorker | None = None
    pipeline: CallPipeline | None = None
    outbox: StreamOutbox | None = None
    recognizer: RecognizerThread | None = None
    try:
        while True:
            try:
                raw = ws.receive()
            except ConnectionClosed:
                break
            if raw is None:
                break
            received_at = time.perf_counter()
            event = media_stream.decode(
                raw if isinstance(raw, str) else raw.decode("utf-8", "replace")
            )
            if event is None:
                continue  # decode() logged what was wrong; the call goes on
            if isinstance(event, StreamStarted):
                if pipeline is not None:
                    log.warning("second start message ignored", extra={"call_id": event.call_id})
                    continue
                outbox = StreamOutbox(ws, event.stream_sid, event.call_id)
                if services.recognizers is not None:
                    recognizer = RecognizerThread(
                        services.recognizers.acquire(), name=f"asr-{event.call_id[-8:]}"
                    )
                pipeline = _pipeline(services, event, outbox, recognizer)
                worker = CallWorker(event.call_id)
                params = event.custom_parameters
                worker.submit(
                    "start",
                    lambda p=pipeline, e=params: p.started(
                        e.get("caller") or None,
                        e.get("called") or None,
                        e.get("language") or None,
                        _offer(e),
                    ),
                )
            elif pipeline is None or worker is None:
                continue  # media before start: nothing to attach it to
            elif isinstance(event, AudioReceived):
                worker.submit(
                    "audio", lambda p=pipeline, a=event.audio, t=received_at: p.audio(a, t)
                )
            elif isinstance(event, DtmfReceived):
                worker.submit("dtmf", lambda p=pipeline, d=event.digit: p.dtmf(d))
            elif isinstance(event, MarkPlayed):
                worker.submit("mark", lambda p=pipeline, n=event.name: p.marked(n))
            elif isinstance(event, StreamStopped):
                worker.submit("stop", pipeline.stopped)
                break
            if outbox is not None and outbox.closed.is_set():
                break
    finally:
        if worker is not None:
            if pipeline is not None and not pipeline.closed:
                worker.submit("stop", pipeline.stopped)  # the socket dropped under us
            worker.finish()
        if recognizer is not None and services.recognizers is not None:
            recognizer.close()
            services.recognizers.release(recognizer.inner)


def _offer(parameters: Mapping[str, str]) -> CallbackOffer | None:
    """The callback booking a stream was opened for (after a transfer rang out), if any."""
    queue = parameters.get("offer_queue")
    if not queue:
        return None
    return CallbackOffer(
        queue, parameters.get("offer_reason") or "callback", parameters.get("offer_prompt") or None
    )


def _pipeline(
    services: Services,
    start: StreamStarted,
    outbox: StreamOutbox,
    recognizer: RecognizerThread | None,
) -> CallPipeline:
    config = services.config
    confident_ms = int(config["TURN_CONFIDENT_SILENCE_MS"])
    listener = None
    if recognizer is not None:
        turn = TurnConfig(
            silence_ms=int(config["TURN_SILENCE_MS"]), start_ms=int(config["BARGE_IN_MS"])
        )
        # Words are settled and understood halfway through the short pause, ready at its end.
        listener = Listener(recognizer, turn, prepare_ms=confident_ms // 2)
    dialogue = Dialogue(Engine(services.flow), services.nlu, start.call_id)
    return CallPipeline(
        dialogue=dialogue,
        voice=services.voice,
        outbox=outbox,
        listener=listener,
        recorder=CallRecorder(
            services.store, start.call_id, services.clock, first_turn=_turns_so_far(services, start)
        ),
        board=services.board,
        clock=services.clock,
        confident_silence_ms=confident_ms,
        callbacks=services.desk,
    )


def _turns_so_far(services: Services, start: StreamStarted) -> int:
    """Turns the call already has: a second stream (callback booking) numbers on from there."""
    if not start.custom_parameters.get("offer_queue") or services.store is None:
        return 0
    try:
        call = services.store.get_call(start.call_id)
    except StoreUnavailable:
        return 0
    return len(call.turns) if call else 0
