"""What the warm-up says to the recognisers before ready: words like the callers'."""

from __future__ import annotations

from ivr.flow_source import FlowSource
from ivr.warmup import WARM_EXAMPLES, callers_words
from tests.fixtures.ko_line import KO_LINE


def test_the_recognisers_hear_the_first_examples_of_every_intent() -> None:
    flow = FlowSource(KO_LINE).current
    examples = [intent.examples.get("ko", ()) for intent in flow.intents.values()]
    words = callers_words(flow, "ko", WARM_EXAMPLES)
    assert WARM_EXAMPLES == 3
    assert len(words) == sum(min(3, len(own)) for own in examples) > len(flow.intents)
    assert words[:3] == list(examples[0][:3])  # in order, the first intent first
    assert callers_words(flow, "ko") == [own[0] for own in examples if own]  # the rehearsal's
    assert callers_words(flow, "lv", WARM_EXAMPLES) == []  # a language the flow does not speak
