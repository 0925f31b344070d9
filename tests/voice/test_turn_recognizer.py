"""A call borrows a recogniser per turn: real Vosk, the Korean model, the phone path's audio."""

from __future__ import annotations

import time
from difflib import SequenceMatcher
from pathlib import Path

import numpy as np
import pytest
from numpy.typing import NDArray

from tests.voice.test_asr import phone_frames
from voice.asr import Transcript, VoskRecognizer, VoskRecognizerPool
from voice.recognizer_thread import RecognizerThread
from voice.turn_recognizer import TurnRecognizer


def heard(call: TurnRecognizer, frames: list[bytes]) -> str:
    for frame in frames:
        call.accept(frame, partial=False)
    return call.final().text


def close_to(words: str, alone: str) -> bool:
    """Vosk is not word-exact across recognisers of one model (see test_asr): close, not equal.

    Close enough as a whole, or the same first two words: in a full test run a recogniser once
    heard "남녀 가 이나 억울하 고 도 의 배경" for "남녀 가 이나 어눌 하고 [4] 백여" (0.6 alike).
    A turn that got another turn's audio differs from its first words on.
    """
    alike = SequenceMatcher(None, words, alone).ratio() >= 0.7
    return alike or (bool(alone) and words.split()[:2] == alone.split()[:2])


@pytest.fixture
def frames(speech_8k: dict[str, NDArray[np.int16]]) -> dict[str, list[bytes]]:
    return {name: phone_frames(speech, silence_ms=300) for name, speech in speech_8k.items()}


@pytest.fixture
def alone(model_path: Path, frames: dict[str, list[bytes]]) -> dict[str, str]:
    """Each phrase's words from a recogniser of its own, as a call held one before."""
    words = {}
    for name, audio in frames.items():
        recognizer = VoskRecognizer(model_path)
        for frame in audio:
            recognizer.accept(frame, partial=False)
        words[name] = recognizer.final().text
    assert all(words.values()), words
    return words


@pytest.mark.slow
def test_calls_taking_turns_one_after_another_share_one_recogniser(
    model_path: Path, frames: dict[str, list[bytes]], alone: dict[str, str]
) -> None:
    pool = VoskRecognizerPool(model_path)
    first_call, second_call = TurnRecognizer(pool), TurnRecognizer(pool)
    assert first_call.sample_rate == 16000 and first_call.borrowed is None  # nothing held idle

    first_call.accept(frames["greeting"][0])
    used = first_call.borrowed
    assert isinstance(used, VoskRecognizer) and pool._idle == []
    assert close_to(heard(first_call, frames["greeting"][1:]), alone["greeting"])
    assert first_call.borrowed is None and pool._idle == [used]  # given back with the words

    assert close_to(heard(second_call, frames["thanks"]), alone["thanks"])
    assert pool._idle == [used]  # the other call's turn was heard by the same recogniser
    assert close_to(heard(first_call, frames["thanks"]), alone["thanks"])
    assert pool._idle == [used]


@pytest.mark.slow
def test_turns_at_the_same_time_each_have_their_own_and_the_warmest_goes_out_first(
    model_path: Path, frames: dict[str, list[bytes]], alone: dict[str, str]
) -> None:
    pool = VoskRecognizerPool(model_path)
    short, long = sorted(frames, key=lambda name: len(frames[name]))
    first_call, second_call = TurnRecognizer(pool), TurnRecognizer(pool)
    for one, other in zip(frames[long], frames[short], strict=False):
        first_call.accept(one, partial=False)
        second_call.accept(other, partial=False)
    assert first_call.borrowed is not None and second_call.borrowed is not None
    assert first_call.borrowed is not second_call.borrowed
    given_back_last = first_call.borrowed
    assert close_to(second_call.final().text, alone[short])
    rest = len(frames[long]) - len(frames[short])
    assert close_to(heard(first_call, frames[long][-rest:]), alone[long])
    assert len(pool._idle) == 2

    third_call = TurnRecognizer(pool)
    third_call.accept(frames[short][0])
    assert third_call.borrowed is given_back_last


@pytest.mark.slow
def test_a_dropped_turn_gives_its_recogniser_back_and_the_next_turn_hears_only_its_own_words(
    model_path: Path, frames: dict[str, list[bytes]], alone: dict[str, str]
) -> None:
    pool = VoskRecognizerPool(model_path)
    call = TurnRecognizer(pool)
    assert call.flush() == "" and call.final() == Transcript("", 0.0)
    assert call.borrowed is None and pool._idle == []  # no audio: nothing borrowed

    for frame in frames["greeting"][:60]:
        call.accept(frame)  # a cough, a false start: the listener drops the turn
    call.reset()
    assert call.borrowed is None and len(pool._idle) == 1

    words = heard(call, frames["thanks"])
    assert close_to(words, alone["thanks"]) and not close_to(words, alone["greeting"])


class FailingFinal(VoskRecognizer):
    def final(self) -> Transcript:
        raise RuntimeError("the decoder gave up")


class FailingPool(VoskRecognizerPool):
    def _new_recognizer(self) -> VoskRecognizer:
        return FailingFinal(self.model_path)


@pytest.mark.slow
def test_a_recogniser_whose_turn_failed_is_dropped_not_handed_to_the_next_turn(
    model_path: Path, frames: dict[str, list[bytes]]
) -> None:
    pool = FailingPool(model_path)
    call = TurnRecognizer(pool)
    call.accept(frames["greeting"][0])
    failed = call.borrowed
    with pytest.raises(RuntimeError, match="gave up"):
        call.final()
    assert call.borrowed is None and pool._idle == []
    assert pool.usage().in_use == 0  # discarded, not counted as hearing a turn any more
    call.accept(frames["greeting"][0])  # the call goes on: its next turn has a new one
    assert call.borrowed is not None and call.borrowed is not failed


@pytest.mark.slow
def test_a_turn_held_back_borrows_its_recogniser_only_when_its_words_are_asked_for(
    model_path: Path, frames: dict[str, list[bytes]], alone: dict[str, str]
) -> None:
    pool = VoskRecognizerPool(model_path)
    held = RecognizerThread(TurnRecognizer(pool), hold_ms=10_000)
    try:
        for frame in frames["thanks"]:
            held.accept(frame)
        time.sleep(0.3)  # audio handed over would be decoding by now, on a borrowed recogniser
        assert pool.usage().made == 0  # the caller is still speaking: no recogniser is busy
        settled = held.flush()  # the pause: the whole turn so far in one burst
        assert pool.usage().in_use == 1
        words = held.final().text
        assert pool.usage().in_use == 0
    finally:
        held.close()
    assert settled and words.startswith(settled) and close_to(words, alone["thanks"])
