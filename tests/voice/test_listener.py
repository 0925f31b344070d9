"""The listener: audio in pieces of any length, and what the recogniser is given to decode.

A socket read at most every 60 ms hands the listener three 20 ms messages at once; the turn's
events, their times and the audio the recogniser hears must not depend on how it was cut.
Real Vosk (Korean) and real espeak-ng speech.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from numpy.typing import NDArray

from voice import asr, codec
from voice.asr import Partial, Transcript
from voice.listener import PHONE_RATE, Heard, Listener, ListenEvent, Paused
from voice.resampling import ResamplingRecognizer
from voice.turns import TurnConfig, TurnDetector, TurnEnded

FRAME = 160  # μ-law bytes in 20 ms at 8 kHz


class HeardAudio:
    """The real recogniser, keeping every piece of audio it is given (at the model's rate)."""

    def __init__(self, inner: asr.VoskRecognizer) -> None:
        self.inner = inner
        self.sample_rate = inner.sample_rate
        self.audio = bytearray()

    def accept(self, pcm16: bytes, partial: bool = True) -> Partial | None:
        self.audio += pcm16
        return self.inner.accept(pcm16)

    def flush(self) -> str:
        return self.inner.flush()

    def final(self) -> Transcript:
        return self.inner.final()

    def reset(self) -> None:
        self.inner.reset()


def described(event: ListenEvent) -> tuple[object, ...]:
    """What an event decided: its kind and stream times, and whether it has words.

    Not the words themselves: two fresh recognisers given the very same audio can differ in a
    word (Vosk expands its graph as it goes), so the audio heard is compared instead.
    """
    if isinstance(event, Heard):
        return ("heard", bool(event.text), event.at_ms, event.end_of_turn_ms, event.speech_ms)
    if isinstance(event, Paused):
        return ("paused", bool(event.words.result(timeout=10)), event.at_ms)
    return (event,)


def listen(model_path: Path, ulaw: bytes, piece: int) -> tuple[list[tuple[object, ...]], bytes]:
    """Feed ``ulaw`` in pieces of ``piece`` bytes: what was decided and the audio recognised."""
    heard = HeardAudio(asr.VoskRecognizer(model_path))
    listener = Listener(
        ResamplingRecognizer(heard, PHONE_RATE), TurnConfig(start_ms=100), prepare_ms=150
    )
    events: list[ListenEvent] = []
    for start in range(0, len(ulaw), piece):
        events += listener.feed(ulaw[start : start + piece])
    return [described(event) for event in events], bytes(heard.audio)


@pytest.mark.slow
def test_pieces_of_three_frames_decide_what_frames_one_by_one_decide(
    model_path: Path, speech_ulaw: dict[str, bytes]
) -> None:
    silence = b"\xff" * 4000  # μ-law silence, half a second
    call = silence + speech_ulaw["greeting"] + silence * 2 + speech_ulaw["thanks"] + silence * 2
    one_by_one, audio_one_by_one = listen(model_path, call, FRAME)
    in_threes, audio_in_threes = listen(model_path, call, 3 * FRAME)
    heard = [event for event in one_by_one if event[0] == "heard"]
    assert len(heard) == 2 and all(event[1] for event in heard)  # two turns, real words
    assert in_threes == one_by_one  # the same events, at the same stream times
    assert audio_in_threes == audio_one_by_one  # the same audio, preroll included


@pytest.mark.slow
def test_an_odd_piece_length_still_decides_the_same(
    model_path: Path, speech_ulaw: dict[str, bytes]
) -> None:
    call = b"\xff" * 4000 + speech_ulaw["thanks"] + b"\xff" * 8000
    one_by_one, _ = listen(model_path, call, FRAME)
    odd, _ = listen(model_path, call, 250)  # not a whole number of frames: frames straddle
    assert odd == one_by_one


def heard_with(
    model_path: Path, ulaw: bytes, prepare_ms: int, silence_ms: int = 600
) -> tuple[list[ListenEvent], bytes]:
    """Feed ``ulaw`` frame by frame with pauses settled after ``prepare_ms`` (0: never)."""
    heard = HeardAudio(asr.VoskRecognizer(model_path))
    turn = TurnConfig(start_ms=100, silence_ms=silence_ms)
    listener = Listener(ResamplingRecognizer(heard, PHONE_RATE), turn, prepare_ms=prepare_ms)
    events: list[ListenEvent] = []
    for start in range(0, len(ulaw), FRAME):
        events += listener.feed(ulaw[start : start + FRAME])
    return events, bytes(heard.audio)


HEARD_BYTES_PER_MS = 16000 * 2 // 1000  # the Korean model hears 16 kHz, 16-bit
SETTLED_AFTER_MS = 160  # prepare_ms=150 is reached on the eighth 20 ms frame of silence


@pytest.mark.slow
def test_the_silence_after_the_settled_words_is_not_decoded(
    model_path: Path, speech_ulaw: dict[str, bytes]
) -> None:
    silence = b"\xff" * 4000  # half a second
    call = silence + speech_ulaw["thanks"] + silence * 3
    settled, audio_settled = heard_with(model_path, call, prepare_ms=150)
    unsettled, audio_unsettled = heard_with(model_path, call, prepare_ms=0)
    turns = [event for event in settled if isinstance(event, Heard)]
    assert len(turns) == 1 and turns[0].text  # the words, settled in the pause
    assert [e.at_ms for e in turns] == [e.at_ms for e in unsettled if isinstance(e, Heard)]
    # Without a settle the recogniser decodes all 600 ms of the ending silence; with one, the
    # silence that settled the words, and the same audio up to there.
    ending_not_decoded = (600 - SETTLED_AFTER_MS) * HEARD_BYTES_PER_MS
    assert len(audio_unsettled) - len(audio_settled) == ending_not_decoded
    assert audio_unsettled.startswith(audio_settled)


@pytest.mark.slow
def test_a_caller_who_goes_on_after_a_settled_pause_is_heard_whole(
    model_path: Path, speech_ulaw: dict[str, bytes]
) -> None:
    silence = b"\xff" * 4000  # half a second
    pause = b"\xff" * 3200  # 400 ms: settled (150 ms), then the caller goes on
    call = silence + speech_ulaw["greeting"] + pause + speech_ulaw["thanks"] + silence * 3
    settled, audio_settled = heard_with(model_path, call, prepare_ms=150, silence_ms=1000)
    _, audio_unsettled = heard_with(model_path, call, prepare_ms=0, silence_ms=1000)
    assert sum(isinstance(event, Paused) for event in settled) >= 2  # both pauses settled
    turns = [event for event in settled if isinstance(event, Heard)]
    assert len(turns) == 1  # one turn: the pause was not its end
    # The held pause was handed over when the caller spoke again, in order: all of the audio
    # up to the last settle is what a recogniser without settling heard.
    assert audio_unsettled.startswith(audio_settled)
    ending_not_decoded = (1000 - SETTLED_AFTER_MS) * HEARD_BYTES_PER_MS
    assert len(audio_unsettled) - len(audio_settled) == ending_not_decoded
    assert len(turns[0].text.split()) >= 4  # words of both phrases ("감사합니다 좋은 하루 되세요")


def test_turns_are_decided_on_the_phone_audio_as_on_the_model_rate(
    speech_8k: dict[str, NDArray[np.int16]],
) -> None:
    """WebRTC's VAD halves 16 kHz audio before deciding: the 8 kHz decisions are the same.

    The same turns, starting and ending at the same frames; a frame of the speech itself may
    be judged otherwise (the two halvings of the audio are not bit for bit the same).
    """
    pause = np.zeros(4000, dtype=np.int16)
    call = np.concatenate([pause, speech_8k["greeting"], pause, pause, speech_8k["thanks"], pause])
    at_phone_rate = TurnDetector(TurnConfig(sample_rate=8000, start_ms=100))
    at_model_rate = TurnDetector(TurnConfig(sample_rate=16000, start_ms=100))
    on_phone = at_phone_rate.push(call.tobytes())
    on_model = at_model_rate.push(codec.resample(call, 8000, 16000).tobytes())
    assert [type(event) for event in on_phone].count(TurnEnded) == 2
    assert [type(event) for event in on_phone] == [type(event) for event in on_model]
    for phone, model in zip(on_phone, on_model, strict=True):
        assert phone.at_ms == model.at_ms
        if isinstance(phone, TurnEnded) and isinstance(model, TurnEnded):
            assert phone.last_voiced_ms == model.last_voiced_ms
            assert abs(phone.speech_ms - model.speech_ms) <= 2 * 20


class PauseWatcher:
    """A recogniser at the phone's rate that notes how much audio it had at each hand-over."""

    sample_rate = PHONE_RATE

    def __init__(self) -> None:
        self.audio = 0
        self.handed_over_at: list[int] = []  # bytes of audio accepted at each hand-over
        self.settled_at: list[int] = []

    def accept(self, pcm16: bytes, partial: bool = True) -> Partial | None:
        self.audio += len(pcm16)
        return None

    def hand_over(self) -> None:
        self.handed_over_at.append(self.audio)

    def flush(self) -> str:
        self.settled_at.append(self.audio)
        return "words"

    def final(self) -> Transcript:
        return Transcript("words", 1.0)

    def reset(self) -> None:
        self.audio = 0


def paused_with(speech_ulaw: dict[str, bytes], handover_ms: int) -> PauseWatcher:
    """Two phrases with a 400 ms pause between them, heard frame by frame."""
    pause, silence = b"\xff" * 3200, b"\xff" * 8000
    call = silence + speech_ulaw["greeting"] + pause + speech_ulaw["thanks"] + silence
    watcher = PauseWatcher()
    listener = Listener(
        watcher, TurnConfig(silence_ms=1000), prepare_ms=150, handover_ms=handover_ms
    )
    for start in range(0, len(call), FRAME):
        listener.feed(call[start : start + FRAME])
    return watcher


def test_held_audio_is_handed_over_early_in_each_pause(speech_ulaw: dict[str, bytes]) -> None:
    watcher = paused_with(speech_ulaw, handover_ms=40)
    # Once per pause (the mid-turn one and the turn's last), before its words are asked for:
    # the recogniser has then been given 110 ms less of the pause (150 - 40 ms, 8 kHz, 16-bit).
    assert len(watcher.handed_over_at) == len(watcher.settled_at) == 2
    for handed, settled in zip(watcher.handed_over_at, watcher.settled_at, strict=True):
        assert settled - handed == (160 - 40) * 16  # settled on the eighth frame of silence
    assert paused_with(speech_ulaw, handover_ms=0).handed_over_at == []  # only when asked
