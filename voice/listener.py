"""Listening to one caller: phone audio in, turn events and transcripts out.

The stage between the socket and the dialogue. It decodes μ-law, decides where turns begin
and end (:mod:`voice.turns`, on the phone's own 8 kHz audio) and feeds the recogniser only
while the caller speaks, with a short pre-roll so the first syllable is not lost. The
recogniser takes the phone's 8 kHz audio: one for a model at another rate is wrapped in
:class:`voice.resampling.ResamplingRecognizer`, which the line runs on the recogniser's
thread. Silence between turns costs no recognition and no resampling, which is what lets many
calls share two cores. (WebRTC's VAD decides at 8 kHz whatever the rate it is given: 16 kHz
audio is first halved again, so upsampling the silence for it was work thrown away.)

End of turn: the turn ends after ``TurnConfig.silence_ms`` of silence. Sooner is possible:
after ``prepare_ms`` of silence the listener settles the recogniser's words (Vosk's partial
words lag the audio; settling catches up) and reports :class:`Paused` with them. The pipeline
can understand those words while the caller is still silent and, if they already make sense,
call :meth:`Listener.end_now` a little later instead of waiting for the full silence. If the
caller goes on speaking, the turn simply continues. The silence after the words were settled
is held back, not decoded: it is handed over only if the caller speaks again, so a turn that
ends costs no more decoding than its words and the pause that settled them.

Usage::

    heard = ResamplingRecognizer(VoskRecognizer(model_path), PHONE_RATE)  # the model's 16 kHz
    listener = Listener(heard, TurnConfig(silence_ms=600), prepare_ms=150)
    listener.bot_speaking = True          # speech onset is then also a BargeIn
    for event in listener.feed(ulaw):     # 20 ms of Twilio audio, or any length
        ...  # SpeechStarted, BargeIn, Paused, Heard (or HeardLater), TurnDiscarded
"""

from __future__ import annotations

import time
from collections import deque
from concurrent.futures import Future
from dataclasses import dataclass, replace
from typing import TypeAlias

from voice import codec
from voice.asr import Recognizer, Transcript
from voice.turns import BargeIn, SpeechStarted, TurnConfig, TurnDetector, TurnDiscarded, TurnEnded

PHONE_RATE = 8000


@dataclass(frozen=True)
class Heard:
    """The caller finished a turn and this is what they said.

    Attributes:
        text: The recogniser's final words ("" when it heard speech but no words).
        confidence: Mean word confidence, 0 to 1.
        at_ms: Stream time the turn was judged finished.
        end_of_turn_ms: Stream time from the caller's last voiced frame to that judgement.
        asr_ms: Wall time the final recognition took.
        speech_ms: Voiced audio in the turn.
        early: Whether the turn was ended before the full silence (see ``end_now``).
    """

    text: str
    confidence: float
    at_ms: int
    end_of_turn_ms: int
    asr_ms: float
    speech_ms: int
    early: bool


@dataclass(frozen=True)
class Paused:
    """The caller paused mid-turn; ``words`` will hold every word of the turn so far.

    With a :class:`~voice.recognizer_thread.RecognizerThread` the words are settled on the
    recogniser's thread and the future completes when it has caught up; otherwise at once.
    """

    words: Future[str]
    at_ms: int


@dataclass(frozen=True)
class HeardLater:
    """The caller finished a turn; its words are still being decoded on the recogniser's thread.

    ``heard`` completes with the :class:`Heard` (or :class:`RecognitionFailed`) once the
    recogniser has caught up with the turn's audio. Only a recogniser with ``final_later``
    (:class:`~voice.recognizer_thread.RecognizerThread`) answers later; others give
    :class:`Heard` at once.
    """

    heard: Future[Heard]
    at_ms: int


class RecognitionFailed(RuntimeError):
    """The recogniser raised; the call cannot be understood any more."""


ListenEvent: TypeAlias = SpeechStarted | BargeIn | Paused | Heard | HeardLater | TurnDiscarded


class Listener:
    """One call's listening stage. Not thread-safe: one thread feeds it.

    Args:
        recognizer: This call's recogniser, fed the phone's 8 kHz audio.
        config: Turn settings; its ``sample_rate`` is replaced by the phone's (8 kHz).
        prepare_ms: Silence after which the words so far are settled and reported as
            :class:`Paused`; 0 never reports pauses.
        handover_ms: Silence after which a recogniser that holds the turn's audio back
            (:meth:`~voice.recognizer_thread.RecognizerThread.hand_over`) starts decoding it,
            so the burst is under way before the words are asked for; 0: not before.
        preroll_ms: Audio before the detected onset that the recogniser still gets.

    Raises:
        ValueError: For a recogniser at another rate (wrap it in a ``ResamplingRecognizer``).
    """

    def __init__(
        self,
        recognizer: Recognizer,
        config: TurnConfig | None = None,
        *,
        prepare_ms: int = 150,
        handover_ms: int = 0,
        preroll_ms: int = 300,
    ) -> None:
        if recognizer.sample_rate != PHONE_RATE:
            raise ValueError(
                f"the listener feeds {PHONE_RATE} Hz audio, the recogniser takes "
                f"{recognizer.sample_rate} Hz: wrap it in voice.resampling.ResamplingRecognizer"
            )
        self.recognizer = recognizer
        self.detector = TurnDetector(replace(config or TurnConfig(), sample_rate=PHONE_RATE))
        self.prepare_ms = prepare_ms
        self.handover_ms = handover_ms
        frame_ms = self.detector.config.frame_ms
        self._preroll: deque[bytes] = deque(maxlen=max(1, preroll_ms // frame_ms))
        self._settled = False  # the words were settled in the current pause
        self._held: list[bytes] = []  # the pause's audio since the words were settled

    @property
    def bot_speaking(self) -> bool:
        """Whether a prompt is playing: speech onset then also yields :class:`BargeIn`."""
        return self.detector.bot_speaking

    @bot_speaking.setter
    def bot_speaking(self, value: bool) -> None:
        self.detector.bot_speaking = value

    @property
    def in_speech(self) -> bool:
        """Whether the caller is mid-turn."""
        return self.detector.in_speech

    @property
    def trailing_silence_ms(self) -> int:
        """Silence since the caller last spoke, within a turn (0 outside one)."""
        return self.detector.trailing_silence_ms

    def feed(self, ulaw: bytes) -> list[ListenEvent]:
        """Take the next piece of the caller's μ-law audio (8 kHz), any length.

        A long piece (several messages read at once) is decoded in one go, then taken a VAD
        frame at a time, exactly as if it had come frame by frame.

        Returns:
            What this audio decided, in order.
        """
        data = codec.decode_ulaw_bytes(ulaw)
        step = self.detector.config.frame_bytes
        events: list[ListenEvent] = []
        for start in range(0, len(data), step):
            events += self._feed_frame(data[start : start + step])
        return events

    def _feed_frame(self, chunk: bytes) -> list[ListenEvent]:
        was_in_speech = self.detector.in_speech
        decided = self.detector.push(chunk)
        events: list[ListenEvent] = []
        for event in decided:
            if isinstance(event, SpeechStarted):
                self._preroll.append(chunk)
                self._listen(b"".join(self._preroll))
                self._preroll.clear()
            elif isinstance(event, TurnEnded):
                if was_in_speech and not self._settled:
                    self._listen(chunk)
                events.append(self._finish(event, early=False))
                continue
            elif isinstance(event, TurnDiscarded):
                self._forget()
            events.append(event)
        if not decided:
            if was_in_speech:
                self._go_on_hearing(chunk)
            else:
                self._preroll.append(chunk)
        silence = self.detector.trailing_silence_ms
        if silence == 0:
            self._settled = False  # speaking again (or between turns)
            return events
        if 0 < self.handover_ms <= silence < self.handover_ms + self.detector.config.frame_ms:
            self._hand_over()  # the frame that reached it: once per pause
        if self.prepare_ms and not self._settled and silence >= self.prepare_ms:
            self._settled = True
            events.append(Paused(self._settle(), self.detector.stream_ms))
        return events

    def end_now(self) -> Heard | HeardLater | TurnDiscarded | None:
        """End the turn in progress now (its words already made sense); ``None`` if none."""
        ended = self.detector.end_turn()
        if isinstance(ended, TurnEnded):
            return self._finish(ended, early=True)
        if ended is not None:
            self._forget()
        return ended

    def reset(self) -> None:
        """Drop a turn in progress (the bot stopped listening)."""
        self.detector.reset()
        self._forget()

    def _go_on_hearing(self, pcm: bytes) -> None:
        """Mid-turn audio: held back once the words were settled, until the caller speaks."""
        if not self._settled:
            self._listen(pcm)
        elif self.detector.trailing_silence_ms:
            self._held.append(pcm)
        else:  # speaking again: the pause first, as the recogniser would have heard it
            self._listen(b"".join([*self._held, pcm]))
            self._held.clear()

    def _listen(self, pcm: bytes) -> None:
        """Give the recogniser the turn's 8 kHz audio."""
        try:
            self.recognizer.accept(pcm)
        except Exception as failure:
            raise RecognitionFailed(f"recogniser failed on audio: {failure!r}") from failure

    def _hand_over(self) -> None:
        """The caller paused: a recogniser holding the turn's audio back may start on it."""
        hand_over = getattr(self.recognizer, "hand_over", None)
        if hand_over is not None:
            hand_over()

    def _settle(self) -> Future[str]:
        later = getattr(self.recognizer, "flush_later", None)
        if later is not None:
            words: Future[str] = later()
            return words
        words = Future()
        try:
            words.set_result(self.recognizer.flush())
        except Exception as failure:
            raise RecognitionFailed(f"recogniser failed to settle: {failure!r}") from failure
        return words

    def _finish(self, ended: TurnEnded, *, early: bool) -> Heard | HeardLater:
        self._settled = False
        self._held.clear()  # the pause after the settled words: nothing more to decode
        started = time.perf_counter()
        later = getattr(self.recognizer, "final_later", None)
        if later is None:
            try:
                transcript = self.recognizer.final()
            except Exception as failure:
                raise RecognitionFailed(f"recogniser failed to finish: {failure!r}") from failure
            return _heard(transcript, ended, early, started)
        heard: Future[Heard] = Future()

        def decoded(words: Future[Transcript]) -> None:  # on the recogniser's thread
            try:
                heard.set_result(_heard(words.result(), ended, early, started))
            except BaseException as failure:  # whatever the decoder raised: never left pending
                failed = RecognitionFailed(f"recogniser failed to finish: {failure!r}")
                failed.__cause__ = failure
                heard.set_exception(failed)

        later().add_done_callback(decoded)
        return HeardLater(heard, ended.at_ms)

    def _forget(self) -> None:
        later = getattr(self.recognizer, "reset_later", None)  # a noise never waits for decoding
        if later is not None:
            later()
        else:
            self.recognizer.reset()
        self._settled = False
        self._held.clear()


def _heard(transcript: Transcript, ended: TurnEnded, early: bool, started: float) -> Heard:
    return Heard(
        text=transcript.text,
        confidence=transcript.confidence,
        at_ms=ended.at_ms,
        end_of_turn_ms=ended.at_ms - ended.last_voiced_ms,
        asr_ms=(time.perf_counter() - started) * 1000,
        speech_ms=ended.speech_ms,
        early=early,
    )
