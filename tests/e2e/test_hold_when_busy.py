"""On the real server: a quiet line decodes a turn as the caller speaks, a busy one at the pause.

Holding a turn's audio for one burst at the caller's pause saves CPU only where turns overlap,
and on a just-started line it puts the cost of words new to a recogniser in the pause, before
the reply (docs/benchmarks.md). So audio is held only once ``IVR_ASR_HOLD_FROM_CALLS`` calls
are up in the process. What the recogniser was handed shows which: one piece every 60 ms while
the caller speaks, or a burst or two in the pause.

Real: the server on a port, the Twilio emulator over a real WebSocket, espeak-ng speech, voice
activity and turn-taking. The recognisers are scripted (``ScriptedRecognizerPool``), which
records each piece of audio it is handed.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from ivr.nlu.service import free_port
from tests.e2e.test_socket_hub_calls import WORDS, calls_at_once
from tests.fixtures.live_server import LiveServer
from tests.fixtures.scripted_asr import ScriptedRecognizerPool

pytestmark = pytest.mark.slow

#: At least this many pieces for a turn decoded as it comes: the phrase lasts well over a
#: second, handed over every 60 ms.
STREAMED = 10
#: At most this many for a held turn: the burst 40 ms into the pause, the rest of the pause
#: when its words are settled, and what came before the turn's end.
HELD = 3


def pieces_per_turn(
    live_server: Callable[..., LiveServer], speech: bytes, calls: int, **settings: object
) -> float:
    """Place ``calls`` calls at once, each saying ``speech`` once: pieces handed over per turn."""
    pool = ScriptedRecognizerPool([WORDS] * calls)
    server = live_server(NLU_URL=f"http://127.0.0.1:{free_port()}", recognizers=pool, **settings)
    results = calls_at_once(server, speech, calls)
    assert len(results) == calls and all(result.ok for result in results), results
    assert pool.heard == [WORDS] * calls  # every turn was heard either way
    assert not any(pool.partials_asked)  # nobody watched: no words so far worked out
    return len(pool.partials_asked) / calls


def test_a_lone_call_is_decoded_as_the_caller_speaks(
    live_server: Callable[..., LiveServer], speech_ulaw: dict[str, bytes]
) -> None:
    streamed = pieces_per_turn(live_server, speech_ulaw["greeting"], 1)
    assert streamed >= STREAMED, f"{streamed} pieces a turn"


def test_once_enough_calls_are_up_each_turn_is_held_for_its_pause(
    live_server: Callable[..., LiveServer], speech_ulaw: dict[str, bytes]
) -> None:
    held = pieces_per_turn(live_server, speech_ulaw["greeting"], 2, ASR_HOLD_FROM_CALLS=2)
    assert held <= HELD, f"{held} pieces a turn"


def test_a_line_set_to_hold_from_its_first_call_holds_a_lone_one(
    live_server: Callable[..., LiveServer], speech_ulaw: dict[str, bytes]
) -> None:
    held = pieces_per_turn(live_server, speech_ulaw["greeting"], 1, ASR_HOLD_FROM_CALLS=1)
    assert held <= HELD, f"{held} pieces a turn"
