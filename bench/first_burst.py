"""What a turn's burst costs the first time a recogniser meets its words, after a warm-up.

The line holds a turn's audio back and decodes it in one burst when the caller pauses
(``IVR_ASR_HOLD_MS``), so a recogniser's cost for new words, which Vosk pays while it expands
its graph for them, falls in the pause instead of while the caller speaks. This warms a fresh
Korean recogniser as ``ivr/warmup.py`` does (each utterance fed in 20 ms frames, then a
second of silence) with the first ``N`` examples of every intent of the Korean test line but
the one the capacity bench's question belongs to (so the question's words are never in the
warm-up), then decodes the question in one burst, several times. Wall milliseconds, one
thread, nothing else running.

    .venv/bin/python bench/first_burst.py --examples 1,3,6 --tries 2
"""

from __future__ import annotations

import argparse
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


def after_warm_up(speech: list[bytes], question: bytes) -> list[float]:
    """A fresh recogniser warmed with ``speech``: the question's bursts, first to last."""
    recognizer = recogniser()
    for utterance in speech:
        for at in range(0, len(utterance), FRAME_BYTES):
            recognizer.AcceptWaveform(utterance[at : at + FRAME_BYTES])
        recognizer.FinalResult()
    return [burst_ms(recognizer, question) for _ in range(BURSTS)]


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--examples", default="1,3,6", help="examples of each intent to warm with")
    parser.add_argument("--tries", type=int, default=2, help="fresh recognisers for each")
    args = parser.parse_args()
    question = pcm16(question_audio()) + SETTLE
    print("| examples per intent | warm-up speech | bursts of the question, first to last |")
    print("|---|---|---|")
    for examples in (int(n) for n in args.examples.split(",")):
        speech = warm_up_speech(examples)
        seconds = sum(map(len, speech)) / (RATE * 2)
        for number in range(1, args.tries + 1):
            progress(f"{examples} per intent, recogniser {number}/{args.tries} ...")
            bursts = ", ".join(f"{ms:.0f}" for ms in after_warm_up(speech, question))
            print(f"| {examples} | {len(speech)} utterances, {seconds:.0f} s | {bursts} ms |")


if __name__ == "__main__":
    main()
