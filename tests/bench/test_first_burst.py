"""The first-burst bench warms with the callers' kind of words, never the question's own."""

from __future__ import annotations

import pytest

from ivr.flow_source import FlowSource
from tests.bench import load
from tests.fixtures.ko_line import KO_EXPECTED, KO_LINE

first_burst = load("first_burst")


def test_the_warm_up_leaves_out_the_questions_intent() -> None:
    assert KO_EXPECTED["hours"] == first_burst.QUESTION_INTENT
    flow = FlowSource(KO_LINE).current
    own = flow.intents[first_burst.QUESTION_INTENT].examples["ko"]
    one, three = first_burst.warm_up_texts(1), first_burst.warm_up_texts(3)
    assert len(one) == len(flow.intents) - 1  # one from every other intent
    assert len(three) > len(one) and set(one) <= set(three)
    assert not set(three) & set(own)


@pytest.mark.slow
def test_a_warmed_recogniser_decodes_the_question_in_bursts() -> None:
    question = first_burst.pcm16(first_burst.question_audio())
    bursts = first_burst.after_warm_up(first_burst.warm_up_speech(1)[:2], question)
    assert len(bursts) == first_burst.BURSTS and all(ms > 0 for ms in bursts)


@pytest.mark.slow
def test_a_warmed_recogniser_hears_the_question_as_it_comes_then_settles_it() -> None:
    question = first_burst.pcm16(first_burst.question_audio())
    passes = first_burst.streamed_after_warm_up(first_burst.warm_up_speech(1)[:2], question)
    assert len(passes) == first_burst.BURSTS
    assert all(cpu > 0 and settle > 0 for cpu, settle in passes)
