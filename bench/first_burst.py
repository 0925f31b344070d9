"""What a turn's burst costs the first time a recogniser meets its words, after a warm-up.

The line holds a turn's audio back and decodes it in one burst when the caller pauses
(``IVR_ASR_HOLD_MS``), so a recogniser's cost for new words, which Vosk pays while it expands
its graph for them, falls in the pause instead of while the caller speaks. This warms a fresh
Korean recogniser as ``ivr/warmup.py`` does (each utterance fed in 20 ms frames, then a
second of silence) with the first ``N`` examples of every intent of the Korean test line but
the one the capacity bench's question belongs to (so the question's words are never in the
warm-up), then decodes the question in one burst, several times. Wall milliseconds, one
thread, nothing else running.

    .venv/bin/python bench/first_burst.py --examples 1,3,6 --tries 2 [--stream]

``--stream`` feeds the question as a quiet line does (``IVR_ASR_HOLD_FROM_CALLS``): 60 ms
pieces at real time, decoded on a thread meanwhile, then the pause's settle. Each pass then
reports the decoding's CPU while the caller spoke and the wall milliseconds of the settle.
"""

from __future__ import annotations

import argparse
import queue
import threading
import time
from typing import Any

from capacity import korean_speech, question_audio
from common import progress
from floor import RATE, pcm16, recogniser
from phone import KO_LINE

from ivr.flow_source import FlowSource
from ivr.warmup import callers_words

FRAME_BYTES = RATE * 2 * 20 // 1000
SETTLE = bytes(RATE * 2 * 150 // 1000)  # the pause's silence before the words are asked for
SECOND = bytes(RATE * 2)
BURSTS = 3
PIECE_BYTES = RATE * 2 * 60 // 1000  # what a quiet line's recogniser is handed at a time
#: The intent of the capacity bench's question (``KO_PHRASES["hours"]``): left out of the warm-up.
QUESTION_INTENT = "opening_hours"


def warm_up_texts(examples: int) -> list[str]:
    """What the line's warm-up would say (``callers_words``), but the question's intent's."""
    flow = FlowSource(KO_LINE).current
    question_own = set(flow.intents[QUESTION_INTENT].examples.get("ko", ()))
    return [text for text in callers_words(flow, "ko", examples) if text not in question_own]


def warm_up_speech(examples: int) -> list[bytes]:
    """:func:`warm_up_texts` spoken at the model's rate, each with a second of silence after."""
    return [pcm16(korean_speech(text)) + SECOND for text in warm_up_texts(examples)]


def burst_ms(recognizer: Any, audio: bytes) -> float:
    """Decode ``audio`` in one piece and finish the turn: wall milliseconds."""
    started = time.perf_counter()
    recognizer.AcceptWaveform(audio)
    recognizer.FinalResult()
    return (time.perf_counter() - started) * 1000


def streamed(recognizer: Any, audio: bytes) -> tuple[float, float]:
    """Feed ``audio`` at real time in 60 ms pieces, decoded on a thread; then settle the words.

    Returns the decoding's CPU milliseconds while the caller spoke, and the settle's wall ones.
    """
    pieces: queue.Queue[bytes | None] = queue.Queue()
    spent = [0.0]

    def decode() -> None:
        started = time.thread_time()
        while (piece := pieces.get()) is not None:
            recognizer.AcceptWaveform(piece)
        spent[0] = (time.thread_time() - started) * 1000

    decoder = threading.Thread(target=decode)
    decoder.start()
    began = time.perf_counter()
    for number, at in enumerate(range(0, len(audio), PIECE_BYTES), start=1):
        pieces.put(audio[at : at + PIECE_BYTES])
        time.sleep(max(0.0, began + number * 0.06 - time.perf_counter()))
    pieces.put(None)
    decoder.join()
    return spent[0], burst_ms(recognizer, SETTLE)


def warmed(speech: list[bytes]) -> Any:
    """A fresh recogniser that heard ``speech`` as the line's warm-up feeds it."""
    recognizer = recogniser()
    for utterance in speech:
        for at in range(0, len(utterance), FRAME_BYTES):
            recognizer.AcceptWaveform(utterance[at : at + FRAME_BYTES])
        recognizer.FinalResult()
    return recognizer


def after_warm_up(speech: list[bytes], question: bytes) -> list[float]:
    """A fresh recogniser warmed with ``speech``: the question's bursts, first to last."""
    recognizer = warmed(speech)
    return [burst_ms(recognizer, question) for _ in range(BURSTS)]


def streamed_after_warm_up(speech: list[bytes], question: bytes) -> list[tuple[float, float]]:
    """The same, the question fed as it comes: (CPU while spoken, settle) of each pass."""
    recognizer = warmed(speech)
    return [streamed(recognizer, question) for _ in range(BURSTS)]


def passes(speech: list[bytes], question: bytes, stream: bool) -> str:
    """Each pass of the question, first to last, as the table shows them."""
    if stream:
        return ", ".join(
            f"{cpu:.0f} + {settle:.0f}" for cpu, settle in streamed_after_warm_up(speech, question)
        )
    return ", ".join(f"{ms:.0f}" for ms in after_warm_up(speech, question))


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--examples", default="1,3,6", help="examples of each intent to warm with")
    parser.add_argument("--tries", type=int, default=2, help="fresh recognisers for each")
    parser.add_argument("--stream", action="store_true", help="as it comes, not in a burst")
    args = parser.parse_args()
    question = pcm16(question_audio()) + (b"" if args.stream else SETTLE)
    shown = "CPU while spoken + settle, ms" if args.stream else "bursts, ms"
    print(f"| examples per intent | warm-up speech | the question's {shown}, first to last |")
    print("|---|---|---|")
    for examples in (int(n) for n in args.examples.split(",")):
        speech = warm_up_speech(examples)
        seconds = sum(map(len, speech)) / (RATE * 2)
        for number in range(1, args.tries + 1):
            progress(f"{examples} per intent, recogniser {number}/{args.tries} ...")
            measured = passes(speech, question, args.stream)
            print(f"| {examples} | {len(speech)} utterances, {seconds:.0f} s | {measured} |")


if __name__ == "__main__":
    main()
