"""A call read by a thread shared by many calls (the socket hub): only listening runs there.

The dialogue, the store and the line are acted on by the call's own thread, in the order the
frames came, and a frame that decides nothing wakes no other thread.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest

from ivr.call.live import LiveCall
from tests.fixtures.waiting import wait_for
from tests.ivr.call.conftest import FRAME, Rig

pytestmark = pytest.mark.slow

SILENCE = b"\xff" * FRAME


class ThreadNoting:
    """Wraps the rig's outbox: which threads sent the bot's audio."""

    def __init__(self, rig: Rig) -> None:
        self.threads: set[str] = set()
        self._play = rig.outbox.play
        rig.outbox.play = self.play  # type: ignore[method-assign]

    def play(self, ulaw: bytes) -> None:
        self.threads.add(threading.current_thread().name)
        self._play(ulaw)


def shared_call(rig: Rig) -> LiveCall:
    call = LiveCall(rig.pipeline, None)
    call.start({})
    for name in rig.outbox.marks():
        call.marked(name)
    call.on_shared_thread = True
    return call


def feed(call: LiveCall, ulaw: bytes) -> None:
    for start in range(0, len(ulaw), FRAME):
        call.audio(ulaw[start : start + FRAME])


def test_the_reply_to_a_turn_is_sent_from_the_calls_thread_not_the_shared_one(
    make_rig: Callable[..., Rig], speech_ulaw: dict[str, bytes]
) -> None:
    rig = make_rig()
    call = shared_call(rig)
    noting = ThreadNoting(rig)
    feed(call, SILENCE * 10 + speech_ulaw["greeting"] + SILENCE * 35)
    wait_for("the reply", lambda: rig.outbox.marks()[2:] == ["3:bill", "4:anything"], 10)
    call.close()
    assert rig.nlu.heard and rig.nlu.heard[0]
    assert noting.threads and threading.current_thread().name not in noting.threads
    assert all(name.startswith("call-") for name in noting.threads)


def test_the_silence_timeout_is_acted_on_by_the_calls_thread(
    make_rig: Callable[..., Rig],
) -> None:
    rig = make_rig()
    call = shared_call(rig)
    noting = ThreadNoting(rig)
    feed(call, SILENCE * (6100 // 20))
    wait_for(
        "the reprompt",
        lambda: rig.outbox.marks()[2:] == ["3:no_input", "4:how_can_i_help_again"],
        10,
    )
    call.close()
    assert noting.threads and all(name.startswith("call-") for name in noting.threads)


def test_a_frame_that_decides_nothing_leaves_nothing_to_act_on(
    make_rig: Callable[..., Rig], speech_ulaw: dict[str, bytes]
) -> None:
    rig = make_rig()
    rig.pipeline.started(None, None, None)
    rig.echo_marks()
    left = [rig.pipeline.listen(SILENCE) for _ in range(100)]  # 2 s: the timeout is 6 s
    assert left == [None] * 100
    rig.silence(3980)
    assert rig.pipeline.listen(SILENCE) is not None  # this frame ends the caller's 6 s


def test_listening_then_acting_sends_what_one_step_sends(
    make_rig: Callable[..., Rig], speech_ulaw: dict[str, bytes]
) -> None:
    """The split changes which thread acts, not what the caller hears."""
    heard = []
    for split in (False, True):
        rig = make_rig()
        rig.pipeline.started(None, None, None)
        rig.echo_marks()
        audio = SILENCE * 10 + speech_ulaw["greeting"] + SILENCE * 35
        for start in range(0, len(audio), FRAME):
            frame = audio[start : start + FRAME]
            if split:
                act = rig.pipeline.listen(frame)
                if act is not None:
                    act()
            else:
                rig.pipeline.audio(frame)
        heard.append(rig.outbox.marks())
    assert heard[0] == heard[1] and heard[0][2:] == ["3:bill", "4:anything"]
