"""One call's pipeline: caller audio and keys in, the bot's audio out, a handover at the end.

    audio ─▶ Listener ─Paused─▶ PauseUnderstanding (NLU while the caller is silent)
                      ─Heard──▶ Dialogue (NLU + engine) ─Reply─▶ ActionPerformer ─▶ Outbox
    keys ──▶ Keypad ──entry───▶ Dialogue
    marks ─▶ Playback (what the caller has heard) ─▶ listen again, or close for the handover

The pipeline only dispatches: each stage returns its result and the pipeline passes it on and
keeps the call's state (what the caller is asked, the handover). It is synchronous and runs on
one thread at a time (:mod:`ivr.call.live`); its clock is the caller's audio (:class:`CallClock`).
Every failure inside (our voice, the recogniser, a bug) ends the same way: the stream closes
with a handover that apologises and puts the caller through to a person.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
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
from ivr.call.timing import CallClock, TurnTiming
from ivr.call.understanding import PauseUnderstanding
from ivr.callbacks.desk import CallbackDesk
from voice.listener import Heard, HeardLater, Listener, ListenEvent, Paused
from voice.prompt_cache import PromptCache
from voice.turns import BargeIn, SpeechStarted, TurnDiscarded

__all__ = ["CallPipeline", "Outbox"]

log = logging.getLogger(__name__)


class CallPipeline:
    """Runs one call. Not thread-safe: one worker thread calls every method.

    Args:
        dialogue, voice, outbox: The call's dialogue (NLU and engine), prompts, transport.
        listener: The call's listening stage; ``None`` when there is no speech model (the
            call is then handed to a person straight after the greeting's apology).
        recorder, board: The call's record in the store; where its handover is left.
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
        self.time = CallClock()

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
        act = self.listen(ulaw)
        if act is not None:
            act()

    def listen(self, ulaw: bytes) -> Callable[[], None] | None:
        """Only the listening part of :meth:`audio`; what is left to act on, or ``None``.

        A thread shared by many calls runs this and leaves the acting (the dialogue, the
        store, the line: it may take long) to the call's own thread, in order.
        """
        decided: list[tuple[list[ListenEvent], TurnTiming]] = []
        self._guarded(lambda: decided.append(self._frames(ulaw)))
        if not decided or not (decided[0][0] or self._due()):
            return None
        events, timing = decided[0]
        return lambda: self._guarded(lambda: self._act(events, timing))

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
        self.recorder.lag(self.time.lag)
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

    def _frames(self, ulaw: bytes) -> tuple[list[ListenEvent], TurnTiming]:
        timing = TurnTiming()
        timing.stages["queue"] = round(self.time.audio(len(ulaw), timing.started), 2)
        return (self.listener.feed(ulaw) if self.listener else []), timing

    def _act(self, events: list[ListenEvent], timing: TurnTiming) -> None:
        for event in events:
            if self.closed:
                return
            if isinstance(event, SpeechStarted):
                self.time.wait(False)
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

    def _due(self) -> bool:
        """Whether time alone brings something to act on: a key entry, a silence, a pause."""
        waited = self.keypad.pending or self.time.waited(self._listening)
        return self.listener is not None and (waited or self._confident_pause())

    def _confident_pause(self) -> bool:
        """The caller paused long enough, and the words so far were understood confidently."""
        listener, enough_ms = self.listener, self.confident_silence_ms
        if listener is None or not enough_ms or listener.trailing_silence_ms < enough_ms:
            return False
        return self.understanding.confident(self.dialogue)

    def _paused(self, paused: Paused) -> None:
        """Understand a pause's words while the caller is silent (only open questions)."""
        self.understanding.forget()
        if self.handover is None and self._listening and self._listening.expect == "intent":
            self.understanding.pause(paused, self.dialogue)

    def _maybe_end_early(self, timing: TurnTiming) -> None:
        """End the turn at a short pause when its words were already understood confidently."""
        if self.listener is not None and self._confident_pause():
            heard = self.listener.end_now()
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
        self._interrupt("typing", self.time.stream_ms)
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
        self._interrupt("keypad", self.time.stream_ms)
        entry = self.keypad.press(digit, self.time.stream_ms)
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
        entry = self.keypad.tick(self.time.stream_ms)
        if entry is not None:
            self._perform(self.dialogue.press(entry, self.clock()), TurnTiming(), kind="dtmf")
            return
        if not self.keypad.pending and self.time.waited(self._listening):
            self.time.wait(False)
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
            self.time.wait()

    def _close(self) -> None:
        if not self.closed:
            self.closed = True
            self.outbox.close()
            self.recorder.lag(self.time.lag)

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
        self._hand_over(Handover.apologising(reason, self.dialogue, self._parties.caller))
        self._close()
