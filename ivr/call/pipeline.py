"""One call's pipeline: caller audio and keys in, the bot's audio out, a handover at the end.

    audio ─▶ Listener ─Paused─▶ PauseUnderstanding (NLU while the caller is silent)
                      ─Heard──▶ Dialogue (NLU + engine) ─Reply─▶ ActionPerformer ─▶ Outbox
    keys ──▶ Keypad ──entry───▶ Dialogue
    marks ─▶ Playback (what the caller has heard) ─▶ listen again, or close for the handover

The pipeline only dispatches: each stage returns its result and the pipeline passes it on and
keeps the call's state (what the caller is asked, the handover, the silence clock). It is
synchronous and single-threaded: the transport runs it on the call's own thread
(:mod:`ivr.call.live`). Its clock is the caller's audio (20 ms per frame), so silence timeouts
are exact and tests are deterministic. Every failure inside (our voice, the recogniser, a bug)
ends the same way: the stream closes with a handover that apologises and puts the caller
through to a person.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime

from bot.dialogue import Dialogue, Reply, Understood
from bot.engine.actions import Listen
from bot.engine.events import CallbackOffer
from ivr.call.ears import CallEars
from ivr.call.handover import Handover, HandoverBoard, failure_reason
from ivr.call.keypad import Keypad
from ivr.call.outbox import Outbox
from ivr.call.pending import PendingWords
from ivr.call.performer import ActionPerformer, CallParties, Performed
from ivr.call.playback import Playback
from ivr.call.recorder import CallRecorder, turn_record
from ivr.call.timing import LagMeter, TurnTiming
from ivr.call.understanding import PauseUnderstanding
from ivr.callbacks.desk import CallbackDesk
from voice.listener import Heard, HeardLater, Listener, Paused
from voice.prompt_cache import PromptCache
from voice.turns import BargeIn, SpeechStarted, TurnDiscarded

__all__ = ["CallPipeline", "Outbox"]

log = logging.getLogger(__name__)


class CallPipeline:
    """Runs one call. Not thread-safe: one worker thread calls every method.

    Args:
        dialogue: The call's dialogue (NLU and engine).
        voice: Prompt audio (cached for static prompts).
        outbox: The transport.
        listener: The call's listening stage; ``None`` when there is no speech model (the
            call is then handed to a person straight after the greeting's apology).
        recorder: The call's record in the store.
        board: Where the handover is left for the next request from the network.
        understanding: Understands a pause's words off this thread (on the app's pool).
        clock: Wall-clock time for the engine (business hours, turn times).
        confident_silence_ms: A pause this long ends the caller's turn when the words so far
            are already understood with confidence (the NLU is asked during the pause); 0
            always waits for the listener's full silence.
        callbacks: Books and cancels callbacks.
        typing: The caller types instead of speaking (the browser phone): no listener needed.
        ears: Changes the listener when the caller switches language.

    ``pending.later`` (the call's worker sets it) brings a turn's words back from the
    recogniser's thread behind the frames received meanwhile: no frame waits for recognition.
    """

    def __init__(
        self,
        dialogue: Dialogue,
        voice: PromptCache,
        outbox: Outbox,
        listener: Listener | None,
        recorder: CallRecorder,
        board: HandoverBoard,
        understanding: PauseUnderstanding,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        confident_silence_ms: int = 300,
        callbacks: CallbackDesk | None = None,
        typing: bool = False,
        ears: CallEars | None = None,
    ) -> None:
        self.call_id = dialogue.call_id
        self.ears = ears
        self.typing = typing
        self.dialogue = dialogue
        self.outbox = outbox
        self.listener = listener
        self.recorder = recorder
        self.board = board
        self.clock = clock
        self.understanding = understanding
        self.confident_silence_ms = confident_silence_ms
        self.callbacks = callbacks
        self.playback = Playback()
        self.keypad = Keypad()
        self.performer = ActionPerformer(
            self.call_id, voice, outbox, self.playback, recorder, callbacks
        )
        self.handover: Handover | None = None
        self.closed = False
        self.pending = PendingWords(self.call_id)  # the call's worker sets its queue
        self.last_timing: TurnTiming | None = None
        self._parties = CallParties()
        self._listening: Listen | None = None
        self._waiting_since_ms: int | None = None
        self._stream_ms = 0  # caller audio received so far: the call's clock
        self._lag = LagMeter()

    # --- what the transport reports ------------------------------------------------------

    def started(
        self,
        caller: str | None,
        called: str | None,
        language: str | None,
        offer: CallbackOffer | None = None,
    ) -> None:
        """The stream is up: greet the caller (or, with ``offer``, book their callback)."""
        self._parties = CallParties(caller, called)
        self._guarded(lambda: self._start(language, offer))

    def audio(self, ulaw: bytes) -> None:
        """The next piece of the caller's audio (μ-law 8 kHz, as it arrives in real time)."""
        self._guarded(lambda: self._audio(ulaw))

    def dtmf(self, digit: str) -> None:
        """The caller pressed a key."""
        self._guarded(lambda: self._dtmf(digit))

    def typed(self, text: str) -> None:
        """A line typed instead of spoken (the browser phone): the caller's next turn."""
        self._guarded(lambda: self._typed(text))

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

    # --- dispatching ---------------------------------------------------------------------

    def _start(self, language: str | None, offer: CallbackOffer | None) -> None:
        desk, caller = self.callbacks, self._parties.caller
        reply = self.dialogue.start(
            self.clock(),
            caller=caller,
            called=self._parties.called,
            language=language,
            expected_waits=desk.expected_waits() if desk and offer is None else None,
            pending=desk.pending(caller) if desk and offer is None else None,
            offer=offer,
        )
        if self.listener is None and not self.typing:
            self._fail("asr_unavailable")
            return
        self._perform(reply, TurnTiming(), kind=None)

    def _audio(self, ulaw: bytes) -> None:
        if self.closed:
            return
        timing = TurnTiming()
        late_ms = self._lag.frame(self._stream_ms, timing.started)
        self._stream_ms += len(ulaw) // 8
        if self.listener is None:
            return
        timing.stages["queue"] = round(late_ms, 2)
        for event in self.listener.feed(ulaw):
            if self.closed:
                return
            if isinstance(event, SpeechStarted):
                self._waiting_since_ms = None
            elif isinstance(event, BargeIn):
                self._interrupt("speech", event.at_ms)
            elif isinstance(event, Paused):
                self._paused(event)
            elif isinstance(event, Heard | HeardLater):
                self._heard(event, timing)
            elif isinstance(event, TurnDiscarded):
                self._start_waiting()
        self._maybe_end_early(timing)
        self._tick()

    def _paused(self, paused: Paused) -> None:
        """Understand a pause's words while the caller is silent (only open questions)."""
        self.understanding.forget()
        listening = self._listening
        if self.handover is None and listening is not None and listening.expect == "intent":
            self.understanding.pause(paused, self.dialogue)

    def _maybe_end_early(self, timing: TurnTiming) -> None:
        """End the turn at a short pause when its words were already understood confidently."""
        listener = self.listener
        if listener is None or not self.confident_silence_ms:
            return
        if listener.trailing_silence_ms < self.confident_silence_ms:
            return
        if self.understanding.confident(self.dialogue):
            heard = listener.end_now()
            if isinstance(heard, Heard | HeardLater):
                self._heard(heard, timing)

    def _heard(
        self, heard: Heard | HeardLater, timing: TurnTiming, pause: PauseUnderstanding | None = None
    ) -> None:
        if isinstance(heard, HeardLater):  # the frames' thread never waits for the words
            words, pause = heard.heard, self.understanding.detach()  # this turn's pause only

            def answer() -> None:
                self._guarded(lambda: self._heard(words.result(), timing, pause))

            if self.pending.defer(words, answer):
                return
            heard = words.result()
        if self.handover is not None or self.closed:
            return
        if not heard.text:  # speech without words (a cough, a door): keep listening
            self.recorder.event("no_words", {"speech_ms": heard.speech_ms})
            self._start_waiting()
            return
        timing.stages["end_of_turn"] = heard.end_of_turn_ms
        timing.stages["asr"] = round(heard.asr_ms, 2)
        understood = (pause or self.understanding).take(heard.text)
        timing.stages["nlu_in_pause"] = float(understood is not None)
        self._answer(heard.text, "speech", heard.confidence, timing, understood)

    def _typed(self, text: str) -> None:
        if self.closed or self.handover is not None or not text.strip():
            return
        self._interrupt("typing", self._stream_ms)
        self._answer(text.strip(), "typed", 1.0, TurnTiming())

    def _answer(
        self,
        words: str,
        kind: str,
        confidence: float,
        timing: TurnTiming,
        understood: Understood | None = None,
    ) -> None:
        """The caller's words (spoken or typed) to the dialogue, and its reply to the caller."""
        self.recorder.heard(words, kind)
        reply = self.dialogue.hear(words, self.clock(), confidence, understood)
        if reply.nlu_ms is not None:
            timing.stages["nlu"] = round(reply.nlu_ms, 2)
        if not self._follow_language():
            return
        self._perform(reply, timing, kind=kind, asr_confidence=confidence)

    def _follow_language(self) -> bool:
        """Hear a caller who switched language with that language's model; False: none."""
        language, ears = self.dialogue.session.language, self.ears
        if ears is not None and ears.language is not None and language != ears.language:
            self.recorder.language_switched(ears.language, language)
            self.listener = ears.use(language)
            if self.listener is None and not self.typing:
                self._fail("language_not_heard")  # a person who speaks it, not the wrong model
                return False
        return True

    def _dtmf(self, digit: str) -> None:
        if self.closed or self.handover is not None:
            return
        self._interrupt("keypad", self._stream_ms)
        entry = self.keypad.press(digit, self._stream_ms)
        self.recorder.event("dtmf", {"digit": digit})
        if entry is not None:
            self._perform(self.dialogue.press(entry, self.clock()), TurnTiming(), kind="dtmf")

    def _marked(self, name: str) -> None:
        if self.playback.marked(name) is None:
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
            self._perform(self.dialogue.press(entry, self.clock()), TurnTiming(), kind="dtmf")
            return
        listening = self._listening
        if listening is None or self._waiting_since_ms is None or self.keypad.pending:
            return
        if self._stream_ms - self._waiting_since_ms >= listening.timeout_seconds * 1000:
            self._waiting_since_ms = None
            self._perform(self.dialogue.silence(self.clock()), TurnTiming(), kind="silence")

    # --- applying the stages' results ----------------------------------------------------

    def _perform(
        self,
        reply: Reply,
        timing: TurnTiming,
        *,
        kind: str | None,
        asr_confidence: float | None = None,
    ) -> None:
        """Play the reply through the performer, then listen or hand over as it says."""
        performed = self.performer.perform(reply, self.dialogue.session, self._parties, timing)
        self.recorder.at_step(self.dialogue.session.step_id)
        self._apply(performed)
        self.last_timing = timing
        if kind in ("dtmf", "typed", "silence"):
            self.pending.moved_on()  # words still decoding would answer the wrong question
        if kind is not None:
            session, stages = self.dialogue.session, timing.stages
            record = turn_record(session, kind, reply.actions, stages, asr_confidence, self.clock())
            self.recorder.turn(record)

    def _apply(self, performed: Performed) -> None:
        if performed.listen is not None:
            self._listen(performed.listen)
        if performed.handover is not None:
            self._hand_over(performed.handover)
        if self.listener is not None:
            self.listener.bot_speaking = self.playback.playing
        if not self.playback.playing:
            if self.handover is not None:
                self._close()
            else:
                self._start_waiting()

    def _listen(self, listen: Listen) -> None:
        self._listening = listen
        self.keypad.expect_for(listen, self.dialogue.engine.flow.slots.get(listen.slot or ""))

    def _hand_over(self, handover: Handover) -> None:
        self.handover = handover
        self._listening = None
        self.board.put(self.call_id, handover)
        self.recorder.outcome(handover.kind, handover.queue, handover.reason)
        self.recorder.event("handover", handover.as_data())
        fields = {"kind": handover.kind, "queue": handover.queue, "reason": handover.reason}
        log.info("handover", extra={"call_id": self.call_id, **fields})

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
        if self._listening is not None and not self.playback.playing and not self.pending.count:
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

    # --- failures ------------------------------------------------------------------------

    def _guarded(self, work: Callable[[], None]) -> None:
        """Run ``work``; any failure hands the caller to a person with an apology."""
        if self.closed:
            return
        try:
            work()
        except Exception as failure:
            reason = failure_reason(failure)
            log.exception(
                "call pipeline failed; handing the caller to a person",
                extra={"call_id": self.call_id, "reason": reason},
            )
            self.recorder.event("failure", {"reason": reason, "error": repr(failure)})
            self._fail(reason)

    def _fail(self, reason: str) -> None:
        """Give up on the bot: the network apologises and puts the caller through."""
        if self.closed:
            return
        if self.playback.playing:
            self.outbox.clear()
            self.playback.cleared()
        queue = self.dialogue.engine.flow.escalation.person_queue
        language = self.dialogue.session.language if self.dialogue.started else None
        slots = self.dialogue.session.slots if self.dialogue.started else {}
        handover = Handover("transfer", reason, queue, apologise=True, language=language)
        self._hand_over(replace(handover, caller=self._parties.caller, slots=slots))
        self._close()
