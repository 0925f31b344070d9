"""A call's recogniser follows its language: each turn's is borrowed from its language's pool."""

from __future__ import annotations

import time
from functools import partial
from pathlib import Path

import pytest

from ivr.call.ears import CallEars
from voice.asr import PoolUsage, VoskRecognizerPool
from voice.hearing import Hearing
from voice.listener import Listener
from voice.recognizer_thread import RecognizerThread

THREAD = partial(RecognizerThread, name="asr-test")  # each call's recogniser thread


@pytest.fixture
def pools(model_path: Path) -> dict[str, VoskRecognizerPool]:
    # The real Korean model stands in for two languages' models: what is tested is which
    # pool each recogniser comes from and goes back to.
    return {"en": VoskRecognizerPool(model_path), "cs": VoskRecognizerPool(model_path)}


def idle(pool: VoskRecognizerPool) -> int:
    return len(pool._idle)


def a_turn(thread: RecognizerThread) -> None:
    """A second of audio heard and finished (what it says does not matter here)."""
    thread.accept(bytes(32000))
    thread.final()


def test_switching_language_takes_each_turns_recogniser_from_the_new_pool(
    pools: dict[str, VoskRecognizerPool],
) -> None:
    ears = CallEars(Hearing(pools, deaf=("lv",)), Listener, THREAD)
    english = ears.use("en")
    assert isinstance(english, Listener) and ears.language == "en"
    assert isinstance(ears.thread, RecognizerThread)
    assert ears.use("en") is english  # the same language: nothing changes
    a_turn(ears.thread)
    assert (idle(pools["en"]), idle(pools["cs"])) == (1, 0)  # borrowed for the turn, given back

    czech = ears.use("cs")
    assert czech is not None and czech is not english and ears.language == "cs"
    assert ears.thread is not None
    ears.thread.accept(bytes(32000))
    ears.thread.flush()  # mid-turn: the Czech pool's recogniser is out
    assert (idle(pools["en"]), idle(pools["cs"])) == (1, 0)

    assert ears.use("lv") is None  # no Latvian model: not heard by another language's
    assert ears.language == "lv" and ears.thread is None and ears.listener is None
    assert (idle(pools["en"]), idle(pools["cs"])) == (1, 1)  # the turn dropped, given back

    ears.close()  # nothing held: closing again is harmless
    assert (idle(pools["en"]), idle(pools["cs"])) == (1, 1)


def test_a_call_that_ends_mid_turn_gives_the_recogniser_back(
    pools: dict[str, VoskRecognizerPool],
) -> None:
    ears = CallEars(Hearing(pools), Listener, THREAD)
    ears.use("cs")
    assert ears.thread is not None
    ears.thread.accept(bytes(32000))  # still queued for the recogniser's thread
    ears.close()
    assert idle(pools["cs"]) == 1 and ears.thread is None


def test_a_turn_held_back_borrows_its_recogniser_only_once_its_words_are_asked_for(
    pools: dict[str, VoskRecognizerPool],
) -> None:
    ears = CallEars(Hearing(pools), Listener, partial(THREAD, hold_ms=4000))
    ears.use("cs")
    assert ears.thread is not None
    ears.thread.accept(bytes(32000))  # two seconds of the caller speaking
    time.sleep(0.3)  # handed over, it would be decoding by now on a borrowed recogniser
    assert pools["cs"].usage().made == 0
    ears.thread.flush()  # the caller paused
    assert pools["cs"].usage().in_use == 1
    ears.thread.final()
    ears.thread.accept(bytes(16000))  # the next turn: the call ends before its pause
    ears.close()
    assert pools["cs"].usage() == PoolUsage(in_use=0, idle=1, made=1, peak_in_use=1)


def test_a_call_nobody_speaks_on_borrows_no_recogniser(
    pools: dict[str, VoskRecognizerPool],
) -> None:
    ears = CallEars(Hearing(pools), Listener, THREAD)
    ears.use("cs")
    ears.close()
    assert (idle(pools["en"]), idle(pools["cs"])) == (0, 0)


def test_hearing_names_what_it_hears_and_what_it_does_not(
    pools: dict[str, VoskRecognizerPool], model_path: Path
) -> None:
    hearing = Hearing.from_models({"en": model_path, "cs": model_path, "lv": None})
    assert hearing.heard == ("cs", "en") and hearing.deaf == ("lv",)
    assert hearing.can_hear("cs") and not hearing.can_hear("lv") and hearing.pool("lv") is None
    assert hearing.models == {"cs": str(model_path), "en": str(model_path)}
    assert bool(hearing) and not Hearing({}, deaf=("en",))
