"""Benchmark the Rasa NLU service: training time, model load time, parse latency.

    .venv/bin/python bench/nlu.py [--flows flows/] [--parses 1000] [--write docs/benchmarks.md]

Training is forced into a temporary cache (the real cache is untouched). Load time is from
starting the server to ``/status`` reporting the model. Latency is measured by the app's own
client (``RasaNLU``) over keep-alive HTTP, one parse at a time, like a call does.
"""

from __future__ import annotations

import argparse
import datetime
import os
import random
import statistics
import sys
import tempfile
import time

from common import cpu_model, percentile, publish

from bot.flow import load_flow
from bot.flow.model import without_annotations
from bot.nlu.compile import DEFAULT_EPOCHS, RASA_VERSION, compile_nlu_project
from ivr.config import ROOT, load_config
from ivr.nlu.service import start_server, train_model

SECTION = "## NLU (Rasa)"
_FILLERS = ("um ", "hi, ", "yeah so ", "hello ")
_ENDINGS = (" please", " thanks", "", " right now")


def utterances(examples: list[tuple[str, str]], count: int, seed: int = 7) -> list[tuple[str, str]]:
    """``count`` (intent, text) pairs: examples as said, and variations of them."""
    rng = random.Random(seed)
    chosen = []
    for _ in range(count):
        intent, text = rng.choice(examples)
        text = without_annotations(text)
        if rng.random() < 0.5:  # a variation the model did not see verbatim
            words = text.split()
            if len(words) > 3 and rng.random() < 0.5:
                del words[rng.randrange(len(words))]
            text = rng.choice(_FILLERS) + " ".join(words) + rng.choice(_ENDINGS)
        chosen.append((intent, text.lower()))
    return chosen


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--flows", default=str(ROOT / "flows"))
    parser.add_argument("--parses", type=int, default=1000)
    parser.add_argument("--write", metavar="MARKDOWN", help="write/replace the NLU section")
    args = parser.parse_args()

    flow = load_flow(args.flows)
    project = compile_nlu_project(flow)
    examples = [
        (intent.name, text)
        for intent in flow.intents.values()
        for lines in intent.examples.values()
        for text in lines
    ]
    print(f"bench: {len(examples)} examples, {len(flow.intents)} intents", file=sys.stderr)
    with tempfile.TemporaryDirectory(prefix="ivr-bench-") as cache:
        config = load_config({"CACHE_DIR": cache, "NLU_URL": "", "NLU_TOKEN": ""})
        started = time.monotonic()
        model = train_model(project, config, force=True)
        train_s = time.monotonic() - started

        print("bench: starting the server ...", file=sys.stderr)
        started = time.monotonic()
        handle = start_server(model, project.fingerprint, config)
        load_s = time.monotonic() - started
        print(f"bench: ready in {load_s:.1f} s", file=sys.stderr)
        try:
            with handle.client(timeout=5.0) as client:
                for _, text in utterances(examples, 20, seed=1):
                    client.parse(text)  # warm-up, not measured
                latencies: list[float] = []
                correct = 0
                batch = utterances(examples, args.parses)
                for done, (intent, text) in enumerate(batch, 1):
                    result = client.parse(text)
                    latencies.append(result.latency_ms or 0.0)
                    correct += result.intent == intent
                    if done % 100 == 0:
                        print(f"bench: {done}/{len(batch)} parses", file=sys.stderr)
        finally:
            handle.stop()

    p50, p95, p99 = (percentile(latencies, p) for p in (50, 95, 99))
    accuracy = correct / len(batch)
    command = "make bench  # = .venv/bin/python " + " ".join(
        [os.path.relpath(sys.argv[0], ROOT), *sys.argv[1:]]
    )
    rows = [
        ("examples / intents", f"{len(examples)} / {len(flow.intents)}"),
        (f"training (DIET {DEFAULT_EPOCHS} epochs, forced)", f"{train_s:.1f} s"),
        ("model load (server start to ready)", f"{load_s:.1f} s"),
        (
            f"parse latency over {len(latencies)} parses p50 / p95 / p99",
            f"{p50:.1f} / {p95:.1f} / {p99:.1f} ms",
        ),
        ("parse latency mean / max", f"{statistics.mean(latencies):.1f} / {max(latencies):.1f} ms"),
        ("intent accuracy (examples and variations)", f"{accuracy:.1%}"),
    ]
    table = "\n".join(["| measure | value |", "|---|---|", *(f"| {k} | {v} |" for k, v in rows)])
    section = (
        f"{SECTION}\n\n"
        f"Rasa {RASA_VERSION}, `{project.fingerprint[:12]}`; machine: {os.cpu_count()} cores "
        f"(`nproc`), {cpu_model()}; {datetime.date.today().isoformat()}.\n"
        f"Command: `{command}`\n\n{table}\n\n"
        "Goal: p95 < 25 ms, one parse at a time over keep-alive HTTP, as a call makes them.\n"
        "Accuracy is over the training examples and light variations of them (fillers, a\n"
        "dropped word), so it shows the model learned the flow, not how it generalises; the\n"
        "conversation tests in flows/tests use new phrasings for that. Training is about a\n"
        "minute of TensorFlow set-up plus ~2 s per epoch, run at nice 10.\n"
    )
    publish(section, SECTION, args.write)


if __name__ == "__main__":
    main()
