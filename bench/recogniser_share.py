"""What the same audio costs Vosk spread over more recognisers: why a call borrows one per turn.

Every recogniser expands the decoding graph into a cache of its own. This decodes the capacity
bench's question (with 300 ms of trailing silence, in 60 ms pieces as the line feeds them) on
``K`` warmed recognisers of the Korean model, in one thread, two ways:

* **turn after turn**: each recogniser hears a whole question, then the next one does (calls
  whose turns do not overlap, each holding its own recogniser);
* **side by side**: every recogniser takes its next 60 ms piece in turn (turns that overlap).

CPU (``time.thread_time``) per second of audio; with ``K = 1`` it is the floor's recogniser.

    .venv/bin/python bench/recogniser_share.py --counts 1,2,4,8,16 --rounds 32
"""

from __future__ import annotations

import argparse
import time
from typing import Any

from capacity import question_audio
from common import progress
from floor import RATE, pcm16, recogniser

PIECE_BYTES = RATE * 2 * 60 // 1000
TRAILING = bytes(RATE * 2 * 300 // 1000)
WAYS = ("turn after turn", "side by side")


def the_turn() -> list[bytes]:
    """The caller's question and the silence that ends it, in the line's 60 ms pieces."""
    audio = pcm16(question_audio()) + TRAILING
    return [audio[at : at + PIECE_BYTES] for at in range(0, len(audio), PIECE_BYTES)]


def warmed(count: int, turn: list[bytes]) -> list[Any]:
    """``count`` recognisers that have each heard the question (as the line's pool warms them)."""
    recognisers = [recogniser() for _ in range(count)]
    for each in recognisers:
        for _ in range(2):
            each.AcceptWaveform(b"".join(turn))
            each.FinalResult()
    return recognisers


def ms_per_second(recognisers: list[Any], turn: list[bytes], way: str, rounds: int) -> float:
    """CPU milliseconds per second of audio, decoding ``rounds`` turns in all, ``way``."""
    passes = max(1, rounds // len(recognisers))
    started = time.thread_time()
    for _ in range(passes):
        if way == "turn after turn":
            for each in recognisers:
                for piece in turn:
                    each.AcceptWaveform(piece)
                each.FinalResult()
        else:
            for piece in turn:
                for each in recognisers:
                    each.AcceptWaveform(piece)
            for each in recognisers:
                each.FinalResult()
    seconds = passes * len(recognisers) * sum(map(len, turn)) / (RATE * 2)
    return (time.thread_time() - started) * 1000 / seconds


def report(results: dict[int, dict[str, list[float]]]) -> str:
    """A Markdown table: per recogniser count, each way's range and its ratio to one recogniser."""
    one = {way: min(results[min(results)][way]) for way in WAYS}
    lines = [
        "| recognisers | " + " | ".join(f"{way}, ms per s of audio" for way in WAYS) + " |",
        "|---|" + "---|" * len(WAYS),
    ]
    for count, by_way in sorted(results.items()):
        cells = []
        for way in WAYS:
            low, high = min(by_way[way]), max(by_way[way])
            cells.append(f"{low:.1f} to {high:.1f} ({low / one[way]:.2f} x)")
        lines.append(f"| {count} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--counts", default="1,2,4,8,16", help="recogniser counts, comma-separated")
    parser.add_argument("--rounds", type=int, default=32, help="turns decoded per measurement")
    parser.add_argument("--repeats", type=int, default=2, help="measurements per count and way")
    args = parser.parse_args()
    turn = the_turn()
    results: dict[int, dict[str, list[float]]] = {}
    counts = [int(count) for count in args.counts.split(",")]
    for repeat in range(1, args.repeats + 1):
        for count in counts:
            progress(f"repeat {repeat}/{args.repeats}: {count} recognisers ...")
            recognisers = warmed(count, turn)
            for way in WAYS:
                cost = ms_per_second(recognisers, turn, way, args.rounds)
                results.setdefault(count, {w: [] for w in WAYS})[way].append(cost)
    print(report(results))


if __name__ == "__main__":
    main()
