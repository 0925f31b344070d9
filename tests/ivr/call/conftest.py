"""A call pipeline over the engine's test flow, real Vosk (Korean), real espeak-ng prompts.

The NLU is a table from words to intents: the pipeline's job is moving audio, words and
decisions between stages, and the end-to-end tests cover it with the real Rasa.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import ParamSpec, TypeVar

import pytest

from bot.dialogue import Dialogue
from bot.engine import Engine
from bot.nlu.result import NLUResult, NLUUnavailable
from ivr.call.handover import HandoverBoard
from ivr.call.pipeline import CallPipeline
from ivr.call.recorder import CallRecorder
from ivr.call.understanding import PauseUnderstanding
from ivr.store import Store
from tests.bot.engine_flow import make_flow, nlu
from voice import asr
from voice.listener import PHONE_RATE, Listener
from voice.prompt_cache import PromptCache
from voice.resampling import ResamplingRecognizer
from voice.tts import EspeakNgSynthesizer
from voice.turns import TurnConfig

#: A Monday morning in London: the test flow's line is open.
OPEN = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
FRAME = 160  # 20 ms of μ-law


@dataclass
class RecordingOutbox:
    """The socket edge as a list of what the pipeline sent."""

    sent: list[tuple[str, object]] = field(default_factory=list)
    closed: bool = False

    def play(self, ulaw: bytes) -> None:
        self.sent.append(("media", len(ulaw)))

    def mark(self, name: str) -> None:
        self.sent.append(("mark", name))

    def clear(self) -> None:
        self.sent.append(("clear", None))

    def close(self) -> None:
        self.closed = True

    def marks(self) -> list[str]:
        return [str(v) for k, v in self.sent if k == "mark"]

    def kinds(self) -> list[str]:
        return [k for k, _ in self.sent]

    def media_sizes(self) -> list[int]:
        """Each media message's size in bytes (play() records nothing else for them)."""
        return [v for k, v in self.sent if k == "media" and isinstance(v, int)]


class TableNLU:
    """Every utterance is ``intent`` (or the NLU is down when ``intent`` is None)."""

    def __init__(self, intent: str | None = "billing_question") -> None:
        self.intent = intent
        self.confidence = 0.95
        self.heard: list[str] = []

    def parse(self, text: str) -> NLUResult:
        self.heard.append(text)
        if self.intent is None:
            raise NLUUnavailable("connection refused")
        return nlu(text, (self.intent, self.confidence))


@dataclass
class Rig:
    pipeline: CallPipeline
    outbox: RecordingOutbox
    nlu: TableNLU
    board: HandoverBoard
    store: Store

    def silence(self, ms: int) -> None:
        for _ in range(ms // 20):
            self.pipeline.audio(b"\xff" * FRAME)

    def speak(self, ulaw: bytes) -> None:
        for start in range(0, len(ulaw), FRAME):
            self.pipeline.audio(ulaw[start : start + FRAME])

    def echo_marks(self) -> None:
        for name in self.outbox.marks():
            self.pipeline.marked(name)


@pytest.fixture(scope="session")
def prompt_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("tts")


P = ParamSpec("P")
T = TypeVar("T")


class InlineExecutor(Executor):
    """Runs each job as it is submitted: the pause's words are understood at once.

    The rig feeds frames far faster than real time, so the 150 ms a real pool has to
    understand a pause would be a few milliseconds here, and a busy machine would decide
    whether the pool's thread got there first.
    """

    def submit(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> Future[T]:
        done: Future[T] = Future()
        try:
            done.set_result(fn(*args, **kwargs))
        except Exception as failure:
            done.set_exception(failure)
        return done


@pytest.fixture(scope="session")
def understanding_pool() -> Iterator[ThreadPoolExecutor]:
    with ThreadPoolExecutor(4, "understand") as pool:
        yield pool


@pytest.fixture
def make_rig(
    model_path: Path, prompt_dir: Path, tmp_path: Path, understanding_pool: ThreadPoolExecutor
) -> Iterator[Callable[..., Rig]]:
    stores: list[Store] = []

    def make(
        intent: str | None = "billing_question",
        *,
        listener: bool = True,
        synthesizer: object | None = None,
        confident_silence_ms: int = 300,
        now: datetime = OPEN,
        understanding: Executor | None = None,
    ) -> Rig:
        store = Store(f"sqlite:///{tmp_path}/calls-{len(stores)}.db")
        stores.append(store)
        table = TableNLU(intent)
        outbox = RecordingOutbox()
        board = HandoverBoard()
        call_id = f"CA{len(stores):032d}"
        store.call_started(call_id, caller="+447700900123", called=None, started_at=OPEN)
        hearing = (
            Listener(
                ResamplingRecognizer(asr.VoskRecognizer(model_path), PHONE_RATE),
                TurnConfig(start_ms=100),
                prepare_ms=confident_silence_ms // 2,
            )
            if listener
            else None
        )
        pipeline = CallPipeline(
            dialogue=Dialogue(Engine(make_flow()), table, call_id),
            voice=PromptCache(synthesizer or EspeakNgSynthesizer(), prompt_dir),  # type: ignore[arg-type]
            outbox=outbox,
            listener=hearing,
            recorder=CallRecorder(store, call_id),
            board=board,
            understanding=PauseUnderstanding(understanding or understanding_pool),
            clock=lambda: now,
            confident_silence_ms=confident_silence_ms,
        )
        return Rig(pipeline, outbox, table, board, store)

    yield make
    for store in stores:
        store.close()
