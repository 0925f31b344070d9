"""A call's frames never wait for recognition: the turn's words come back as a later job.

Real Vosk (Korean) behind the recogniser thread, with its ``final`` held at a gate: while the
recogniser is "busy", the pipeline keeps taking frames at once; when the words arrive they
are answered through the call's queue (``later``), as the call's worker runs them.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from ivr.call.pipeline import CallPipeline
from tests.ivr.call.conftest import Rig
from voice import asr
from voice.asr import Partial, Transcript
from voice.listener import PHONE_RATE, Listener
from voice.recognizer_thread import RecognizerThread
from voice.resampling import ResamplingRecognizer
from voice.turns import TurnConfig


class GatedRecognizer:
    """The real recogniser, whose turn-ending ``final`` waits until the test opens the gate."""

    def __init__(self, inner: asr.VoskRecognizer, fail: bool = False) -> None:
        self.inner = inner
        self.sample_rate = inner.sample_rate
        self.gate = threading.Event()
        self.fail = fail

    def accept(self, pcm16: bytes, partial: bool = True) -> Partial | None:
        return self.inner.accept(pcm16)

    def flush(self) -> str:
        return self.inner.flush()

    def final(self) -> Transcript:
        assert self.gate.wait(10), "the test never opened the gate"
        if self.fail:
            raise RuntimeError("decoder exploded")
        return self.inner.final()

    def reset(self) -> None:
        self.inner.reset()


class Queued:
    """Stands in for the call's worker: jobs are kept until the test runs them."""

    def __init__(self) -> None:
        self.jobs: list[tuple[str, Callable[[], None]]] = []
        self.arrived = threading.Event()

    def __call__(self, what: str, job: Callable[[], None]) -> None:
        self.jobs.append((what, job))
        self.arrived.set()


def gated_rig(
    make_rig: Callable[..., Rig], model_path: Path, *, fail: bool = False
) -> tuple[Rig, GatedRecognizer, Queued]:
    rig = make_rig(confident_silence_ms=0)
    gated = GatedRecognizer(asr.VoskRecognizer(model_path), fail=fail)
    # No understanding in the pause: the NLU hears the words only when the turn is answered.
    heard = RecognizerThread(ResamplingRecognizer(gated, PHONE_RATE))
    listener = Listener(heard, TurnConfig(start_ms=100), prepare_ms=0)
    rig.pipeline.listener = listener
    queued = Queued()
    rig.pipeline.pending.later = queued
    rig.pipeline.started("+447700900123", None, None)
    rig.echo_marks()
    return rig, gated, queued


def slowest_frame_ms(pipeline: CallPipeline, ulaw: bytes) -> float:
    slowest = 0.0
    for start in range(0, len(ulaw), 160):
        began = time.perf_counter()
        pipeline.audio(ulaw[start : start + 160])
        slowest = max(slowest, (time.perf_counter() - began) * 1000)
    return slowest


@pytest.mark.slow
def test_frames_go_on_while_the_words_decode_and_the_answer_follows(
    make_rig: Callable[..., Rig], model_path: Path, speech_ulaw: dict[str, bytes]
) -> None:
    rig, gated, queued = gated_rig(make_rig, model_path)
    sent_before = len(rig.outbox.sent)
    slowest = slowest_frame_ms(rig.pipeline, speech_ulaw["greeting"] + b"\xff" * 8000)
    # The turn ended during that second of silence; its words are held at the gate, yet no
    # frame waited for them (a frame that waited would have taken the gate's 10 s).
    assert slowest < 500 and not queued.jobs and len(rig.outbox.sent) == sent_before
    gated.gate.set()
    assert queued.arrived.wait(10)
    [(what, job)] = queued.jobs
    assert what == "heard" and not rig.nlu.heard
    job()  # the call's worker runs it, behind the frames received meanwhile
    assert rig.nlu.heard and rig.nlu.heard[0]  # the real model's Korean words, understood
    assert rig.outbox.marks()[2:] == ["3:bill", "4:anything"]


@pytest.mark.slow
def test_a_recogniser_failing_late_still_hands_the_caller_to_a_person(
    make_rig: Callable[..., Rig], model_path: Path, speech_ulaw: dict[str, bytes]
) -> None:
    rig, gated, queued = gated_rig(make_rig, model_path, fail=True)
    slowest_frame_ms(rig.pipeline, speech_ulaw["greeting"] + b"\xff" * 8000)
    gated.gate.set()
    assert queued.arrived.wait(10)
    queued.jobs[0][1]()
    handover = rig.board.get(rig.pipeline.call_id)
    assert handover is not None and handover.kind == "transfer" and handover.apologise
    assert rig.pipeline.closed


@pytest.mark.slow
def test_words_that_come_back_after_a_key_moved_the_call_on_are_not_answered(
    make_rig: Callable[..., Rig], model_path: Path, speech_ulaw: dict[str, bytes]
) -> None:
    rig, gated, queued = gated_rig(make_rig, model_path)
    slowest_frame_ms(rig.pipeline, speech_ulaw["greeting"] + b"\xff" * 8000)
    assert rig.pipeline.pending.count == 1
    rig.pipeline.dtmf("5")  # answered at once, while the words are still decoding
    turns_before = len(rig.store.get_call(rig.pipeline.call_id).turns)  # type: ignore[union-attr]
    gated.gate.set()
    assert queued.arrived.wait(10)
    queued.jobs[0][1]()
    assert not rig.nlu.heard and rig.pipeline.pending.count == 0  # never answered
    assert len(rig.store.get_call(rig.pipeline.call_id).turns) == turns_before  # type: ignore[union-attr]
