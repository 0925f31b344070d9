"""Getting a process ready in the background: prompt audio, the speech model, flow reloads.

Nothing here blocks start-up. ``/healthz`` reports what is still warming.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor

from bot.flow.model import Flow
from ivr.flow_source import FlowSource
from voice.asr import Recognizer
from voice.hearing import RecognizerPool
from voice.listener import Listener
from voice.prompt_cache import PromptCache, static_prompts

log = logging.getLogger(__name__)


def warm_prompts(voice: PromptCache, flow: Flow, ready: threading.Event) -> threading.Thread:
    """Synthesise ``flow``'s static prompts on a thread; ``ready`` is set when done."""

    def warm() -> None:
        try:
            voice.warm(flow)
        finally:
            ready.set()

    thread = threading.Thread(target=warm, name="tts-warm", daemon=True)
    thread.start()
    return thread


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
    graph; running the flow's own prompts (in the model's language) through it first spares
    the first callers.
    """

    def warm() -> None:
        prompts_ready.wait(120)
        cached = [say for say in static_prompts(flow()) if say in voice]
        for language, pool in pools.items():
            own = [say for say in cached if say.language == language] or cached
            warm_pool(pool, [voice.get(say) for say in own[:2]], count)
            log.info("speech model ready", extra={"language": language, "recognizers": count})

    def load() -> None:
        try:
            warm()
        finally:
            ready.set()

    thread = threading.Thread(target=load, name="asr-load", daemon=True)
    thread.start()
    return thread


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


def warm_pool(pool: RecognizerPool, speech: list[bytes], count: int) -> None:
    """Run ``speech`` through ``count`` recognisers of ``pool`` at once, then give them back."""
    warmed = [pool.acquire() for _ in range(count)]

    def hear_prompts(recognizer: Recognizer) -> None:
        listener = Listener(recognizer)
        for audio in speech:
            listener.feed(audio + b"\xff" * 8000)  # the prompt, then a second of silence

    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as workers:
        list(workers.map(hear_prompts, warmed))
    for recognizer in warmed:
        pool.release(recognizer)
