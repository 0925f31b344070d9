"""A call in progress: its pipeline, one job at a time in the order things arrived.

A transport (the Twilio socket, the browser phone) opens a :class:`LiveCall` when its stream
starts and hands over what it receives. While the call keeps up, its own thread runs each
frame at once; recognition, the NLU's pause answers and words decoded later never hold it up
(they come back as queued jobs). :class:`CallOpener` builds each call's stages from the
process's parts.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from concurrent.futures import Executor
from dataclasses import dataclass
from functools import partial

from bot.dialogue import Dialogue
from bot.engine import Engine
from bot.engine.events import CallbackOffer
from bot.flow.model import Flow
from bot.nlu.result import NLU
from ivr.call.ears import CallEars
from ivr.call.handover import HandoverBoard
from ivr.call.pipeline import CallPipeline, Outbox
from ivr.call.recorder import CallRecorder
from ivr.call.understanding import PauseUnderstanding
from ivr.call.watch import LiveCalls
from ivr.callbacks.desk import CallbackDesk
from ivr.store import Store, StoreUnavailable
from voice.hearing import Hearing
from voice.listener import Listener
from voice.prompt_cache import PromptCache
from voice.recognizer_thread import RecognizerThread
from voice.turns import TurnConfig

log = logging.getLogger(__name__)

#: A worker this far behind real time is logged: the machine is over capacity.
BACKLOG_WARNING_FRAMES = 25
#: A single step longer than this holds the call's audio back noticeably.
SLOW_JOB_MS = 100


Job = Callable[[], None]


class CallWorker:
    """Runs one call's jobs one at a time, in the order they were submitted.

    The transport's own thread runs a job at once (:meth:`run_here`) when nothing is queued
    or running: a frame then costs no hand-off to another thread, which on a busy machine is
    most of a frame's cost. Whatever arrives while a job runs, and every job from another
    thread (words decoded later, a typed line), waits in the queue for the call's thread.
    """

    def __init__(self, call_id: str) -> None:
        self.call_id = call_id
        self._jobs: deque[tuple[str, Job]] = deque()
        self._state = threading.Condition()
        self._busy = False  # a job is running, here or on the call's thread
        self._finishing = False
        self._thread = threading.Thread(target=self._run, name=f"call-{call_id[-8:]}", daemon=True)
        self._thread.start()

    def submit(self, what: str, job: Job) -> None:
        """Queue ``job`` (named ``what`` in logs) behind everything already received."""
        with self._state:
            self._jobs.append((what, job))
            backlog = len(self._jobs)
            self._state.notify()
        if backlog % BACKLOG_WARNING_FRAMES == 0:
            log.warning(
                "call falling behind real time", extra={"call_id": self.call_id, "backlog": backlog}
            )

    def run_here(self, what: str, job: Job) -> None:
        """Run ``job`` on this thread if the call is idle, else queue it like :meth:`submit`."""
        self.run_part_here(what, job, job)

    def run_part_here(self, what: str, part: Callable[[], Job | None], whole: Job) -> None:
        """Run ``part`` here if the call is idle; the job it leaves runs next on the call's thread.

        Queues ``whole`` instead when the call is busy. For a thread shared by many calls:
        ``part`` must be quick, whatever may take long is left to the call's own thread.
        """
        with self._state:
            idle = not self._busy and not self._jobs and not self._finishing
            if idle:
                self._busy = True
        if not idle:
            self.submit(what, whole)
            return
        rest: Job | None = None
        try:
            rest = self._run_one(what, part)
        finally:
            with self._state:
                if rest is not None:  # before anything queued meanwhile: it follows this frame
                    self._jobs.appendleft((what, rest))
                self._busy = False
                if self._jobs or self._finishing:  # else the call's thread has nothing to do:
                    self._state.notify()  # waking it per frame would cost what the hub saves

    def finish(self, timeout: float = 10.0) -> None:
        """Run what is queued, then stop."""
        with self._state:
            self._finishing = True
            self._state.notify()
        self._thread.join(timeout)

    def _run(self) -> None:
        while (item := self._next()) is not None:
            try:
                self._run_one(*item)
            finally:
                with self._state:
                    self._busy = False

    def _next(self) -> tuple[str, Job] | None:
        """The next queued job once no other runs; ``None`` when finished and drained."""
        with self._state:
            while self._busy or not self._jobs:
                if self._finishing and not self._busy and not self._jobs:
                    return None
                self._state.wait()
            self._busy = True
            return self._jobs.popleft()

    def _run_one(self, what: str, job: Callable[[], Job | None]) -> Job | None:
        started = time.perf_counter()
        rest = None
        try:
            rest = job()
        except Exception:  # the pipeline guards itself; this is the last line of defence
            log.exception("call worker job failed", extra={"call_id": self.call_id})
        took_ms = (time.perf_counter() - started) * 1000
        if took_ms > SLOW_JOB_MS:
            log.warning(
                "slow call pipeline step",
                extra={"call_id": self.call_id, "step": what, "ms": round(took_ms, 1)},
            )
        return rest


class LiveCall:
    """One call's pipeline behind its worker: the transport's thread runs it while it keeps up.

    ``start``, ``audio``, ``dtmf``, ``marked`` and ``stop`` come from the transport's thread;
    ``typed`` may come from any thread and only queues. When the transport's thread serves
    many calls (``on_shared_thread``), it only listens to the audio: what the audio decided,
    keys, marks and the stop are acted on by the call's own thread, in the order they came.
    """

    def __init__(
        self,
        pipeline: CallPipeline,
        ears: CallEars | None,
        calls: LiveCalls | None = None,
    ) -> None:
        self.call_id = pipeline.call_id
        self._pipeline = pipeline
        self._ears = ears
        self._calls = calls
        self._worker = CallWorker(pipeline.call_id)
        pipeline.pending.later = self._worker.submit
        #: The transport's thread serves many calls (a socket hub): only listening runs on it.
        self.on_shared_thread = False

    @property
    def mid_turn(self) -> bool:
        """Whether the caller is speaking a turn (its end is best heard at once)."""
        listener = self._pipeline.listener
        return listener is not None and listener.in_speech

    def start(self, parameters: Mapping[str, str]) -> None:
        """The stream is up: greet the caller (or book the callback it was opened for)."""
        caller = parameters.get("caller") or None
        called = parameters.get("called") or None
        language = parameters.get("language") or None
        offer = callback_offer(parameters)
        pipeline = self._pipeline
        self._worker.run_here("start", lambda: pipeline.started(caller, called, language, offer))
        if self._calls is not None:  # typed lines are taken from now on, after the start
            self._calls.running(self.call_id, self)

    def audio(self, ulaw: bytes) -> None:
        """Caller audio (μ-law 8 kHz), on the transport's thread as it arrives."""
        pipeline = self._pipeline
        if self.on_shared_thread:  # listen here; act on the call's own thread
            self._worker.run_part_here(
                "audio", lambda: pipeline.listen(ulaw), lambda: pipeline.audio(ulaw)
            )
        else:
            self._worker.run_here("audio", lambda: pipeline.audio(ulaw))

    def dtmf(self, digit: str) -> None:
        """The caller pressed a key."""
        pipeline = self._pipeline
        self._run("dtmf", lambda: pipeline.dtmf(digit))

    def typed(self, text: str) -> None:
        """The caller typed ``text`` instead of saying it (the browser phone; any thread)."""
        pipeline = self._pipeline
        self._worker.submit("typed", lambda: pipeline.typed(text))

    def marked(self, name: str) -> None:
        """The audio before mark ``name`` has played (or was cleared)."""
        pipeline = self._pipeline
        self._run("mark", lambda: pipeline.marked(name))

    def stop(self) -> None:
        """The stream stopped (the caller hung up, or the call moved on)."""
        self._run("stop", self._pipeline.stopped)

    def _run(self, what: str, job: Job) -> None:
        """Run ``job`` here, or on the call's own thread when this thread serves many calls."""
        if self.on_shared_thread:
            self._worker.submit(what, job)
        else:
            self._worker.run_here(what, job)

    def close(self) -> None:
        """Finish what is queued (stopping the call if nothing did) and free the recogniser."""
        if not self._pipeline.closed:
            self._worker.submit("stop", self._pipeline.stopped)  # the transport dropped under us
        if self._calls is not None:  # no typed line is taken that could not be heard
            self._calls.ended(self.call_id, self)
        self._worker.finish()
        if self._ears is not None:
            self._ears.close()


def callback_offer(parameters: Mapping[str, str]) -> CallbackOffer | None:
    """The callback booking a stream was opened for (a transfer rang out), if any."""
    queue_name = parameters.get("offer_queue")
    if not queue_name:
        return None
    return CallbackOffer(
        queue_name,
        parameters.get("offer_reason") or "callback",
        parameters.get("offer_prompt") or None,
    )


@dataclass(frozen=True)
class CallSettings:
    """Turn-taking and hearing settings (milliseconds), from the configuration."""

    silence_ms: int = 600
    confident_silence_ms: int = 300
    barge_in_ms: int = 120
    hold_ms: int = 4000  # a turn's audio held back until the pause (voice.recognizer_thread)
    hold_from_calls: int = 3  # ... once this many calls are up in the process (fewer: as it comes)
    handover_ms: int = 40  # silence after which the held audio starts decoding (voice.listener)


@dataclass(frozen=True)
class CallOpener:
    """Builds each call's stages from the process's shared parts."""

    flow: Callable[[], Flow]
    nlu: NLU
    voice: PromptCache
    recognizers: Callable[[], Hearing]
    store: Callable[[], Store | None]  # the connected store, if any (a call never waits for it)
    board: HandoverBoard
    desk: CallbackDesk
    calls: LiveCalls  # each call's clock, its watchers and its typed input
    understanding: Executor  # threads that understand a pause's words, shared by all calls
    settings: CallSettings = CallSettings()

    def open(self, call_id: str, parameters: Mapping[str, str], outbox: Outbox) -> LiveCall:
        """A call whose stream just started; ``outbox`` takes what the caller should hear."""
        flow = self.flow()
        publish = self.calls.publisher(call_id)
        thread = partial(
            RecognizerThread,
            name=f"asr-{call_id[-8:]}",
            on_partial=lambda words: publish("partial", {"text": words}),
            partials_wanted=lambda: self.calls.watched(call_id),  # only a watcher sees them
            hold_ms=self.settings.hold_ms,
            hold_wanted=self._line_busy,
        )
        ears = CallEars(self.recognizers(), self._listener, thread)
        language = parameters.get("language") or ""
        listener = ears.use(language if language in flow.languages else flow.default_language)
        clock = self.calls.clock(call_id)
        pipeline = CallPipeline(
            dialogue=Dialogue(Engine(flow), self.nlu, call_id),
            voice=self.voice,
            outbox=outbox,
            listener=listener,
            recorder=CallRecorder(
                self.store(),
                call_id,
                clock,
                first_turn=self._turns_so_far(call_id, parameters),
                publish=publish,
            ),
            board=self.board,
            clock=clock,
            understanding=PauseUnderstanding(self.understanding),
            confident_silence_ms=self.settings.confident_silence_ms,
            callbacks=self.desk,
            typing=self.calls.typing(call_id),
            ears=ears,
        )
        return LiveCall(pipeline, ears, self.calls)

    def _line_busy(self) -> bool:
        """Whether enough calls are up to hold each turn's audio back for a burst at its pause.

        Holding saves CPU only where turns overlap; on a quiet line the audio is decoded as it
        comes, so the words a recogniser has never heard cost their graph's expansion while the
        caller speaks, not in the pause (a just-started line's first reply, docs/benchmarks.md).
        Below the default of 3 calls, the two recognisers warmed at start-up
        (``IVR_ASR_WARM_RECOGNIZERS``) hear every turn that streams at once.
        """
        return self.calls.running_count() >= self.settings.hold_from_calls

    def _listener(self, recognizer: RecognizerThread) -> Listener:
        settings = self.settings
        turn = TurnConfig(silence_ms=settings.silence_ms, start_ms=settings.barge_in_ms)
        # Words are settled and understood halfway through the short pause, ready at its end.
        return Listener(
            recognizer,
            turn,
            prepare_ms=settings.confident_silence_ms // 2,
            handover_ms=settings.handover_ms,
        )

    def _turns_so_far(self, call_id: str, parameters: Mapping[str, str]) -> int:
        """Turns the call already has: a second stream (callback booking) numbers on from there."""
        store = self.store()
        if not parameters.get("offer_queue") or store is None:
            return 0
        try:
            call = store.get_call(call_id)
        except StoreUnavailable:
            return 0
        return len(call.turns) if call else 0
