"""Getting a process ready in the background: prompts, recognisers, a rehearsed first turn.

Nothing here blocks start-up. ``/healthz`` reports what is still warming.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

from bot.dialogue import Dialogue
from bot.engine import Engine
from bot.engine.actions import Say
from bot.flow.model import Flow, without_annotations
from ivr import collector
from ivr.flow_source import FlowSource
from ivr.nlu.connection import NLUConnection
from voice.asr import Recognizer
from voice.hearing import RecognizerPool
from voice.listener import PHONE_RATE, Listener
from voice.prompt_cache import PromptCache, static_prompts
from voice.resampling import ResamplingRecognizer
from voice.tts import SynthesisFailed

log = logging.getLogger(__name__)

#: Examples of each intent the warmed recognisers hear before ready. Even words the warm-up
#: never said cost less after more of the callers' kind of speech: a Korean question new to
#: the recogniser, decoded in one burst, took 270-320 ms after one example per intent (15 s of
#: speech), 210-235 ms after three (47 s), 180-200 ms after six (99 s), and 100-140 ms once
#: heard (``bench/first_burst.py``).
WARM_EXAMPLES = 3


def in_background(name: str, work: Callable[[], object], done: threading.Event) -> threading.Thread:
    """Run ``work`` on a daemon thread called ``name``; ``done`` is set when it ends, however."""

    def run() -> None:
        try:
            work()
        finally:
            done.set()

    thread = threading.Thread(target=run, name=name, daemon=True)
    thread.start()
    return thread


def warm_prompts(voice: PromptCache, flow: Flow, ready: threading.Event) -> threading.Thread:
    """Synthesise ``flow``'s static prompts on a thread; ``ready`` is set when done."""
    return in_background("tts-warm", lambda: voice.warm(flow), ready)


def warm_recognizers(
    pools: Mapping[str, RecognizerPool],
    voice: PromptCache,
    flow: Callable[[], Flow],
    prompts_ready: threading.Event,
    ready: threading.Event,
    count: int = 2,
) -> threading.Thread:
    """Load each language's Vosk model and warm ``count`` of its recognisers; then set ``ready``.

    A new recogniser decodes its first utterances at about real time while Vosk expands its
    graph, and later ones slower than a warm recogniser until it has heard words like the
    callers': running two of the flow's prompts and the first :data:`WARM_EXAMPLES` examples
    of each intent (in the model's language, synthesised once and cached like a prompt)
    through it first spares the first callers. ``/healthz`` is ready only after this.
    """

    def warm() -> None:
        prompts_ready.wait(120)
        current = flow()
        cached = [say for say in static_prompts(current) if say in voice]
        for language, pool in pools.items():
            own = [say for say in cached if say.language == language] or cached
            words = callers_words(current, language, WARM_EXAMPLES)
            callers = [Say(text, language) for text in words]
            speech = [*map(voice.get, own[:2]), *_spoken(voice, callers)] if count else []
            warm_pool(pool, speech, count)
            log.info("speech model ready", extra={"language": language, "recognizers": count})

    return in_background("asr-load", warm, ready)


def watch_flows(
    flows: FlowSource,
    stop: threading.Event,
    on_change: Callable[[Flow], None],
    poll_seconds: float = 2.0,
) -> threading.Thread:
    """Reload the flows when their files change (until ``stop``), calling ``on_change``."""

    def loop() -> None:
        while not stop.wait(poll_seconds):
            try:
                flows.refresh()
            except Exception:  # a watcher must outlive one bad read
                log.exception("flow reload failed; keeping the last good flow")

    flows.on_change(on_change)
    thread = threading.Thread(target=loop, name="flow-watch", daemon=True)
    thread.start()
    return thread


def callers_words(flow: Flow, language: str, per_intent: int = 1) -> list[str]:
    """The first ``per_intent`` examples of each intent in ``language``, entity marks taken out."""
    firsts = (intent.examples.get(language, ())[:per_intent] for intent in flow.intents.values())
    return [without_annotations(text) for first in firsts for text in first]


def rehearse(
    flow: Callable[[], Flow], nlu: NLUConnection, done: threading.Event, stop: threading.Event
) -> threading.Thread:
    """Once the NLU answers, a first turn with no caller for each intent's first example.

    The NLU client's connections and the engine's lazily built parts (the language
    identifier, the readers of dates and numbers) are then warm for the first real caller;
    ``done`` is set after it (or at once if it fails: a rehearsal only warms).
    """

    def run() -> None:
        try:
            while not stop.is_set() and not nlu.is_ready():
                stop.wait(0.5)
            current = flow()
            for text in (t for lang in current.languages for t in callers_words(current, lang)):
                dialogue, now = Dialogue(Engine(current), nlu, "warm-up"), datetime.now(UTC)
                dialogue.start(now)
                if stop.is_set() or dialogue.hear(text, now, 1.0).nlu_error:
                    return  # stopping, or the NLU does not answer: nothing more to warm
        except Exception:  # the NLU went away, a flow without intents: only less warm
            log.info("warm-up turn failed", exc_info=True)

    return in_background("turn-rehearsal", run, done)


def settle_memory(
    warm: Sequence[threading.Event],
    settled: threading.Event,
    stop: threading.Event,
    freeze: bool = True,
) -> threading.Thread:
    """Once every event in ``warm`` is set: freeze what warm-up built, watch for slow collections.

    However long the warm-up takes (a first start may train the NLU model for minutes), this
    waits for it; a stopping process only sets ``settled``. With ``freeze`` off
    (``IVR_GC_FREEZE=off``) nothing is frozen. The watch starts only now: before, no call runs
    that a collection (the freeze's own included) could hold up. See :mod:`ivr.collector`.
    """

    def work() -> None:
        for event in warm:
            while not event.wait(0.5):
                if stop.is_set():
                    return
        if freeze:
            collector.freeze_once()
        collector.WATCH.install()

    return in_background("gc-settle", work, settled)


def _spoken(voice: PromptCache, says: list[Say]) -> list[bytes]:
    """Audio for each of ``says`` that can be synthesised (a failure only warms less)."""
    audio = []
    for say in says:
        try:
            audio.append(voice.get(say))
        except SynthesisFailed:
            log.warning("warm-up words not synthesised", extra={"text": say.text[:40]})
    return audio


def warm_pool(pool: RecognizerPool, speech: list[bytes], count: int) -> None:
    """Run ``speech`` through ``count`` recognisers of ``pool`` at once, then give them back."""
    warmed = [pool.acquire() for _ in range(count)]

    def hear_prompts(recognizer: Recognizer) -> None:
        listener = Listener(ResamplingRecognizer(recognizer, PHONE_RATE))
        for audio in speech:
            listener.feed(audio + b"\xff" * 8000)  # the prompt, then a second of silence

    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as workers:
        list(workers.map(hear_prompts, warmed))
    for recognizer in warmed:
        pool.release(recognizer)
    pool.forget_peak()  # the callers' turns at once count from here
