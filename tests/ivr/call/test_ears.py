"""A call's recogniser follows its language: given back to one pool, taken from the other."""

from __future__ import annotations

from pathlib import Path

import pytest

from ivr.call.ears import CallEars
from voice.asr import VoskRecognizerPool
from voice.hearing import Hearing
from voice.listener import Listener
from voice.recognizer_thread import RecognizerThread


@pytest.fixture
def pools(model_path: Path) -> dict[str, VoskRecognizerPool]:
    # The real Korean model stands in for two languages' models: what is tested is which
    # pool each recogniser comes from and goes back to.
    return {"en": VoskRecognizerPool(model_path), "cs": VoskRecognizerPool(model_path)}


def idle(pool: VoskRecognizerPool) -> int:
    return len(pool._idle)


def test_switching_language_swaps_the_recogniser_between_pools(
    pools: dict[str, VoskRecognizerPool],
) -> None:
    ears = CallEars(Hearing(pools, deaf=("lv",)), Listener, name="asr-test")
    english = ears.use("en")
    assert isinstance(english, Listener) and ears.language == "en"
    assert isinstance(ears.thread, RecognizerThread)
    first = ears.thread.inner
    assert ears.use("en") is english  # the same language: nothing changes

    czech = ears.use("cs")
    assert czech is not None and czech is not english and ears.language == "cs"
    assert idle(pools["en"]) == 1 and pools["en"]._idle[0] is first  # given back
    assert idle(pools["cs"]) == 0  # in use by the call

    assert ears.use("lv") is None  # no Latvian model: not heard by another language's
    assert ears.language == "lv" and ears.thread is None and ears.listener is None
    assert idle(pools["cs"]) == 1

    ears.close()  # nothing held: closing again is harmless
    assert (idle(pools["en"]), idle(pools["cs"])) == (1, 1)


def test_closing_gives_the_recogniser_back(pools: dict[str, VoskRecognizerPool]) -> None:
    ears = CallEars(Hearing(pools), Listener, name="asr-test")
    ears.use("cs")
    ears.close()
    assert idle(pools["cs"]) == 1 and ears.thread is None


def test_hearing_names_what_it_hears_and_what_it_does_not(
    pools: dict[str, VoskRecognizerPool], model_path: Path
) -> None:
    hearing = Hearing.from_models({"en": model_path, "cs": model_path, "lv": None})
    assert hearing.heard == ("cs", "en") and hearing.deaf == ("lv",)
    assert hearing.can_hear("cs") and not hearing.can_hear("lv") and hearing.pool("lv") is None
    assert hearing.models == {"cs": str(model_path), "en": str(model_path)}
    assert bool(hearing) and not Hearing({}, deaf=("en",))
