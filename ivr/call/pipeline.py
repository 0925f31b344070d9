"""One call's pipeline: caller audio and keys in, the bot's audio out, a handover at the end.

    stream ──audio──▶ Listener ──Heard──▶ Dialogue (NLU + engine) ──actions──▶ voice ──▶ Outbox
           ──keys───▶ Keypad ───entry──▶ Dialogue
           ◀─marks── Playback (what the caller has heard)

The pipeline is synchronous and single-threaded: the socket edge runs it on one worker thread
per call and only receives, decodes and hands over. Its clock is the caller's audio (20 ms per
frame), so silence timeouts are exact and tests are deterministic. Every failure inside (our
voice, the recogniser, a bug) ends the same way: the stream closes with a handover that makes
Twilio apologise and put the caller through to a person.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Protocol

from bot.dialogue import Dialogue, Reply
from bot.engine.actions import Action, CancelCallback, Listen, Say, ScheduleCallback, describe
from bot.engine.events import CallbackOffer
from bot.flow.model import SlotType
from bot.nlu.result import NLUResult
from ivr.call.handover import Handover, HandoverBoard
from ivr.call.keypad import Keypad
from ivr.call.playback import Playback
from ivr.call.recorder import CallRecorder
from ivr.store import TurnRecord
from voice.listener import Heard, Listener, Paused, RecognitionFailed
from voice.prompt_cache import PromptCache
from voice.tts import SynthesisFailed
from voice.turns import BargeIn, SpeechStarted, TurnDiscarded

if TYPE_CHECKING:
    from ivr.callbacks.desk import CallbackDesk

#: The longest phone number (E.164 allows 15 digits).
PHONE_NUMBER_DIGITS = 15

log = logging.getLogger(__name__)

#: What the NLU made of some words: the result (or None), why not, and the milliseconds taken.
Understood = tuple[NLUResult | None, str | None, float]
#: How long the end of a turn waits for words already being understood in a pause.
NLU_WAIT_SECONDS = 2.0

_executor: ThreadPoolExecutor | None = None
_executor_lock = threading.Lock()


def _understanding() -> ThreadPoolExecutor:
    """Threads (shared by all calls) that settle a pause's words and ask the NLU about them."""
    global _executor
    with _executor_lock:
        if _executor is None:
            _executor = ThreadPoolExecutor(max_workers=16, thread_name_prefix="understand")
        return _executor


def _understand(dialogue: Dialogue, words: Future[str]) -> tuple[str, Understood]:
    text = words.result(timeout=NLU_WAIT_SECONDS)
    return text, dialogue.understand(text) if text else (None, None, 0.0)


class Outbox(Protocol):
    """Where the pipeline's output goes: the socket edge turns these into stream messages."""

    def play(self, ulaw: bytes) -> None:
        """Queue 8 kHz μ-law audio for the caller."""

    def mark(self, name: str) -> None:
        """Ask to be told (``CallPipeline.marked``) when the audio so far has played."""

    def clear(self) -> None:
        """Drop every queued audio (the caller interrupted)."""

    def close(self) -> None:
        """End the stream; the call moves on to the handover."""


@dataclass
class TurnTiming:
    """Milliseconds per stage of the turn being answered (keys as stored with the turn)."""

    stages: dict[str, float] = field(default_factory=dict)
    started: float = field(default_factory=time.perf_counter)

    def lap(self, stage: str, since: float) -> float:
        """Record ``stage`` as the time from ``since`` to now; returns now."""
        now = time.perf_counter()
        self.stages[stage] = round((now - since) * 1000, 2)
        return now


class LagMeter:
    """How long frames waited between arriving and being processed: distance from real time.

    Keeps the largest delay and a coarse histogram (10 ms buckets), not every value.
    """

    def __init__(self) -> None:
        self.count = 0
        self.max_ms = 0.0
        self._buckets: dict[int, int] = {}

    def add(self, ms: float) -> None:
        """Count one frame's delay."""
        self.count += 1
        self.max_ms = max(self.max_ms, ms)
        bucket = int(ms // 10)
        self._buckets[bucket] = self._buckets.get(bucket, 0) + 1

    def percentile(self, fraction: float) -> float:
        """Upper bound of the bucket holding ``fraction`` of the frames."""
        wanted, seen = fraction * self.count, 0
        for bucket in sorted(self._buckets):
            seen += self._buckets[bucket]
            if seen >= wanted:
                return float((bucket + 1) * 10)
        return self.max_ms

    def summary(self) -> dict[str, float]:
        """For the call's record."""
        return {
            "frames": self.count,
            "max_ms": round(self.max_ms, 1),
            "p95_ms": self.percentile(0.95),
            "over_100ms": sum(n for b, n in self._buckets.items() if b >= 10),
        }


class CallPipeline:
    """Runs one call. Not thread-safe: one worker thread calls every method.

    Args:
        dialogue: The call's dialogue (NLU and engine).
        voice: Prompt audio (cached for static prompts).
        outbox: The socket edge.
        listener: The call's listening stage; ``None`` when there is no speech model (the
            call is then handed to a person straight after the greeting's apology).
        recorder: The call's record in the store.
        board: Where the handover is left for the next request from Twilio.
        clock: Wall-clock time for the engine (business hours, turn times).
        confident_silence_ms: A pause this long ends the caller's turn when the words so far
            are already understood with confidence (the NLU is asked during the pause); 0
            always waits for the listener's full silence.
    """

    def __init__(
        self,
        dialogue: Dialogue,
        voice: PromptCache,
        outbox: Outbox,
        listener: Listener | None,
        recorder: CallRecorder,
        board: HandoverBoard,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        confident_silence_ms: int = 300,
        callbacks: CallbackDesk | None = None,
    ) -> None:
        self.call_id = dialogue.call_id
        self.dialogue = dialogue
        self.voice = voice
        self.outbox = outbox
        self.listener = listener
        self.recorder = recorder
        self.board = board
        self.clock = clock
        self.confident_silence_ms = confident_silence_ms
        self.callbacks = callbacks
        self.playback = Playback()
        self.keypad = Keypad()
        self.handover: Handover | None = None
        self.closed = False
        self.last_timing: TurnTiming | None = None
        self._caller: str | None = None
        self._called: str | None = None
        self._listening: Listen | None = None
        self._waiting_since_ms: int | None = None
        self._stream_ms = 0  # caller audio received so far: the call's clock
        self._lag = LagMeter()
        self._prepared: Future[tuple[str, Understood]] | None = None  # a pause's words, understood

    # --- what the stream reports ---------------------------------------------------------

    def started(
        self,
        caller: str | None,
        called: str | None,
        language: str | None,
        offer: CallbackOffer | None = None,
    ) -> None:
        """The stream is up: greet the caller (or, with ``offer``, book their callback)."""
        self._caller, self._called = caller, called
        self._guarded(lambda: self._start(caller, called, language, offer))

    def audio(self, ulaw: bytes, received_at: float | None = None) -> None:
        """The next piece of the caller's audio; ``received_at`` is its ``perf_counter``."""
        self._guarded(lambda: self._audio(ulaw, received_at))

    def dtmf(self, digit: str) -> None:
        """The caller pressed a key."""
        self._guarded(lambda: self._dtmf(digit))

    def marked(self, name: str) -> None:
        """The line echoed a mark: the audio before it has played (or was cleared)."""
        self._guarded(lambda: self._marked(name))

    def stopped(self) -> None:
        """The stream stopped: the caller hung up (or the call moved elsewhere)."""
        if self.closed:
            return
        self.closed = True
        self._record_lag()
        if self.handover is None and self.dialogue.started and self.dialogue.session.active:
            try:
                self.dialogue.hang_up(self.clock(), "caller_hung_up")
            except Exception:  # the caller has gone; a failure here only loses the record
                log.exception("hang-up not recorded", extra={"call_id": self.call_id})
                return
            self.recorder.event("caller_hung_up", {"step": self.dialogue.session.step_id})

    # --- the stages ----------------------------------------------------------------------

    def _start(
        self,
        caller: str | None,
        called: str | None,
        language: str | None,
        offer: CallbackOffer | None,
    ) -> None:
        desk = self.callbacks
        reply = self.dialogue.start(
            self.clock(),
            caller=caller,
            called=called,
            language=language,
            expected_waits=desk.expected_waits() if desk and offer is None else None,
            pending=desk.pending(caller) if desk and offer is None else None,
            offer=offer,
        )
        if self.listener is None:
            self._fail("asr_unavailable", apologise=True)
            return
        self._perform(reply, TurnTiming(), kind=None)

    def _audio(self, ulaw: bytes, received_at: float | None) -> None:
        if self.closed:
            return
        self._stream_ms += len(ulaw) // 8
        if self.listener is None:
            return
        timing = TurnTiming()
        if received_at is not None:
            timing.stages["queue"] = round((timing.started - received_at) * 1000, 2)
            self._lag.add(timing.stages["queue"])
        for event in self.listener.feed(ulaw):
            if self.closed:
                return
            if isinstance(event, SpeechStarted):
                self._waiting_since_ms = None
            elif isinstance(event, BargeIn):
                self._interrupt("speech", event.at_ms)
            elif isinstance(event, Paused):
                self._prepare(event)
            elif isinstance(event, Heard):
                self._heard(event, timing)
            elif isinstance(event, TurnDiscarded):
                self._start_waiting()
        self._maybe_end_early(timing)
        self._tick()

    def _prepare(self, paused: Paused) -> None:
        """The caller paused: understand their words off this thread while they are silent.

        Nothing here waits; later frames look at the answer.
        """
        self._prepared = None
        listening = self._listening
        if self.handover is not None or listening is None or listening.expect != "intent":
            return
        self._prepared = _understanding().submit(_understand, self.dialogue, paused.words)

    def _maybe_end_early(self, timing: TurnTiming) -> None:
        """End the turn at a short pause when its words were already understood confidently."""
        listener = self.listener
        if self._prepared is None or listener is None or not self.confident_silence_ms:
            return
        if listener.trailing_silence_ms < self.confident_silence_ms:
            return
        if not self._prepared.done() or self._prepared.exception() is not None:
            return  # not understood yet: the next frame looks again
        _, understood = self._prepared.result()
        if not self.dialogue.is_confident(understood[0]):
            return
        heard = listener.end_now()
        if isinstance(heard, Heard):
            self._heard(heard, timing)

    def _heard(self, heard: Heard, timing: TurnTiming) -> None:
        if self.handover is not None:
            return
        if not heard.text:  # speech without words (a cough, a door): keep listening
            self.recorder.event("no_words", {"speech_ms": heard.speech_ms})
            self._start_waiting()
            return
        timing.stages["end_of_turn"] = heard.end_of_turn_ms
        timing.stages["asr"] = round(heard.asr_ms, 2)
        prepared, self._prepared = self._prepared, None
        understood = None
        if prepared is not None:
            try:  # usually long done; the words and the NLU are quick once settled
                text, answer = prepared.result(timeout=NLU_WAIT_SECONDS)
            except Exception:  # the turn is understood afresh below
                text, answer = "", None
            understood = answer if text == heard.text else None
        reply = self.dialogue.hear(
            heard.text, self.clock(), asr_confidence=heard.confidence, understood=understood
        )
        timing.stages["nlu_in_pause"] = float(understood is not None)
        if reply.nlu_ms is not None:
            timing.stages["nlu"] = round(reply.nlu_ms, 2)
        self._perform(reply, timing, kind="speech", asr_confidence=heard.confidence)

    def _dtmf(self, digit: str) -> None:
        if self.closed or self.handover is not None:
            return
        self._interrupt("keypad", self._stream_ms)
        entry = self.keypad.press(digit, self._stream_ms)
        self.recorder.event("dtmf", {"digit": digit})
        if entry is not None:
            self._press(entry)

    def _press(self, entry: str) -> None:
        reply = self.dialogue.press(entry, self.clock())
        self._perform(reply, TurnTiming(), kind="dtmf")

    def _marked(self, name: str) -> None:
        played = self.playback.marked(name)
        if played is None:
            log.info("unknown mark ignored", extra={"call_id": self.call_id, "mark": name})
            return
        if self.playback.playing:
            return
        if self.listener is not None:
            self.listener.bot_speaking = False
        if self.handover is not None:
            self._close()
        else:
            self._start_waiting()

    def _tick(self) -> None:
        """Time passed: a half-typed number or a silence may now be due."""
        if self.closed or self.handover is not None:
            return
        entry = self.keypad.tick(self._stream_ms)
        if entry is not None:
            self._press(entry)
            return
        listening = self._listening
        if listening is None or self._waiting_since_ms is None or self.keypad.pending:
            return
        if self._stream_ms - self._waiting_since_ms >= listening.timeout_seconds * 1000:
            self._waiting_since_ms = None
            reply = self.dialogue.silence(self.clock())
            self._perform(reply, TurnTiming(), kind="silence")

    # --- acting on the engine's decisions ------------------------------------------------

    def _perform(
        self,
        reply: Reply,
        timing: TurnTiming,
        *,
        kind: str | None,
        asr_confidence: float | None = None,
    ) -> None:
        """Play the reply's prompts, then listen or hand over."""
        step_done = time.perf_counter()
        first_audio = True
        for action in reply.actions:
            if isinstance(action, Say):
                self._say(action, timing if first_audio else None, step_done)
                first_audio = False
                if self.closed:
                    return
            elif isinstance(action, Listen):
                self._listen(action)
            elif isinstance(action, CancelCallback):
                if self.callbacks is not None:
                    self.callbacks.cancel(action.callback_id, by=f"call:{self.call_id}")
                self.recorder.event("callback_cancelled", {"callback_id": action.callback_id})
            else:
                if isinstance(action, ScheduleCallback):
                    self._book(action)
                session = self.dialogue.session
                handover = Handover.from_action(
                    action, language=session.language, caller=self._caller, slots=session.slots
                )
                if handover is not None:
                    self._hand_over(handover)
        if self.listener is not None:
            self.listener.bot_speaking = self.playback.playing
        if not self.playback.playing:
            if self.handover is not None:
                self._close()
            else:
                self._start_waiting()
        self.last_timing = timing
        if kind is not None:
            self._record_turn(kind, reply.actions, timing, asr_confidence)

    def _book(self, action: ScheduleCallback) -> None:
        session = self.dialogue.session
        booked = (
            self.callbacks.book(
                action,
                call_id=self.call_id,
                caller=self._caller,
                called=self._called,
                language=session.language,
                slots=session.slots,
                promised=True,  # the caller has just heard it confirmed
            )
            if self.callbacks is not None
            else None
        )
        self.recorder.event(
            "callback_booked",
            {
                "callback_id": booked.id if booked else None,  # None: spooled or only logged
                "queue": action.queue,
                "at": action.at,
                "number": action.number or self._caller,
                "reason": action.reason,
            },
        )

    def _say(self, say: Say, timing: TurnTiming | None, since: float) -> None:
        audio = self.voice.get(say)  # SynthesisFailed → _guarded → apology by Twilio
        sent_from = timing.lap("tts", since) if timing else 0.0
        self.outbox.play(audio)
        self.outbox.mark(self.playback.sent(say.prompt_id))
        if timing:
            timing.lap("send", sent_from)

    def _listen(self, listen: Listen) -> None:
        self._listening = listen
        slot = self.dialogue.engine.flow.slots.get(listen.slot or "")
        if slot is not None and slot.type is SlotType.DIGITS:
            self.keypad.expect_number(slot.max_length)
        elif listen.expect == "phone_number":  # a callback number: keys until '#' or a pause
            self.keypad.expect_number(PHONE_NUMBER_DIGITS)
        else:
            self.keypad.expect_keys()

    def _hand_over(self, handover: Handover) -> None:
        self.handover = handover
        self._listening = None
        self.board.put(self.call_id, handover)
        self.recorder.outcome(handover.kind, handover.queue, handover.reason)
        self.recorder.event("handover", handover.as_data())
        log.info(
            "handover",
            extra={
                "call_id": self.call_id,
                "kind": handover.kind,
                "queue": handover.queue,
                "reason": handover.reason,
            },
        )

    def _interrupt(self, by: str, at_ms: int) -> None:
        """The caller spoke or pressed a key over the bot: stop the prompt now."""
        if not self.playback.playing:
            return
        prompt = self.playback.current
        self.outbox.clear()
        self.playback.cleared()
        if self.listener is not None:
            self.listener.bot_speaking = False
        self.recorder.event("barge_in", {"by": by, "prompt": prompt, "at_ms": at_ms})
        if self.handover is not None:  # only the goodbye or "putting you through" was left
            self._close()

    def _start_waiting(self) -> None:
        """The caller has heard everything: the silence timeout starts now."""
        if self._listening is not None and not self.playback.playing:
            self._waiting_since_ms = self._stream_ms

    def _close(self) -> None:
        if not self.closed:
            self.closed = True
            self.outbox.close()
            self._record_lag()

    def _record_lag(self) -> None:
        """How far behind real time this call's audio was processed (capacity planning)."""
        if self._lag.count:
            self.recorder.event("audio_lag", self._lag.summary())

    # --- records and failures ------------------------------------------------------------

    def _record_turn(
        self,
        kind: str,
        actions: list[Action],
        timing: TurnTiming,
        asr_confidence: float | None,
    ) -> None:
        session = self.dialogue.session
        turn = session.turns[-1] if session.turns else None
        self.recorder.turn(
            TurnRecord(
                index=0,
                at=self.clock(),
                step=turn.step_id if turn else session.step_id,
                kind=kind,
                text=turn.text if turn else None,
                asr_confidence=asr_confidence,
                intent=turn.intent if turn else None,
                confidence=turn.confidence if turn else None,
                decision=turn.decision if turn else None,
                actions=tuple(describe(action) for action in actions),
                latency_ms=dict(timing.stages),
            )
        )

    def _guarded(self, work: Callable[[], None]) -> None:
        """Run ``work``; any failure hands the caller to a person with an apology."""
        if self.closed:
            return
        try:
            work()
        except Exception as failure:
            reason = _failure_reason(failure)
            log.exception(
                "call pipeline failed; handing the caller to a person",
                extra={"call_id": self.call_id, "reason": reason},
            )
            self.recorder.event("failure", {"reason": reason, "error": repr(failure)})
            self._fail(reason, apologise=True)

    def _fail(self, reason: str, *, apologise: bool) -> None:
        """Give up on the bot: Twilio apologises and puts the caller through."""
        if self.closed:
            return
        if self.playback.playing:
            self.outbox.clear()
            self.playback.cleared()
        queue = self.dialogue.engine.flow.escalation.person_queue
        language = self.dialogue.session.language if self.dialogue.started else None
        self._hand_over(
            Handover(
                "transfer",
                reason,
                queue=queue,
                apologise=apologise,
                language=language,
                caller=self._caller,
            )
        )
        self._close()


def _failure_reason(failure: Exception) -> str:
    """A short reason for the record and the agent: which part failed."""
    if isinstance(failure, SynthesisFailed):
        return "tts_failed"
    if isinstance(failure, RecognitionFailed):
        return "asr_failed"
    return "internal_error"
