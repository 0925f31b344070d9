"""Benchmark the line's languages: intent accuracy, off-topic rejection, language switches.

    .venv/bin/python bench/languages.py [--compare] [--write docs/benchmarks.md]

Everything is measured on the held-out sets in ``bench/heldout/LANG.yaml`` (never training
examples: the run stops if one is). Per language:

* **in-scope accuracy**: the caller would be routed to the right intent (the right intent on
  top and confident by the flow's own threshold and margin), what the engine acts on;
* **off-topic under the threshold**: ``out_of_scope`` lines that get the clarifying question
  and a person instead of a queue;
* **switches**: requests for another language recognised, answers in this language on a call
  in another one noticed, false switches on a call already in this language, and the cost.

``--compare`` also trains one model per language and sets accuracy and server memory (RSS of
the Rasa process, model loaded) of the four against the one multilingual model.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from pathlib import Path
from typing import Any

import yaml
from common import command_line, machine, percentile, progress, publish, table

from bot.engine.base import is_confident, top_intent
from bot.flow import Flow, load_flow
from bot.flow.model import without_annotations
from bot.language import LanguageIdentifier, detect_switch
from bot.nlu.compile import compile_nlu_project
from bot.nlu.rasa import RasaNLU
from bot.nlu.result import OUT_OF_SCOPE_INTENT
from bot.text import fold
from ivr.config import ROOT, load_config
from ivr.nlu.service import start_server, train_model

SECTION = "## Languages: accuracy, off-topic callers, switching"
HELDOUT = ROOT / "bench" / "heldout"


def heldout(language: str) -> dict[str, Any]:
    """The held-out set of ``language``."""
    with open(HELDOUT / f"{language}.yaml", encoding="utf-8") as file:
        loaded: dict[str, Any] = yaml.safe_load(file)
    return loaded


def check_unseen(flow: Flow, sets: dict[str, dict[str, Any]]) -> None:
    """Stop if a held-out line is a training example (case, spacing and accents ignored)."""
    seen = {
        " ".join(fold(without_annotations(text)).split())
        for intent in flow.intents.values()
        for lines in intent.examples.values()
        for text in lines
    }
    for language, data in sets.items():
        for texts in data["intents"].values():
            for text in texts:
                if " ".join(fold(text).split()) in seen:
                    raise SystemExit(f"bench: held-out {language} line is trained on: {text!r}")


def accuracy(flow: Flow, client: RasaNLU, data: dict[str, Any]) -> dict[str, Any]:
    """Routed right (in scope) and kept under the threshold (off-topic), with the misses."""
    routed, total, rejected, off_topic, misses = 0, 0, 0, 0, []
    for intent, texts in data["intents"].items():
        for text in texts:
            result = client.parse(text)
            confident = is_confident(result, flow)
            if intent == OUT_OF_SCOPE_INTENT:
                off_topic += 1
                rejected += not confident
                if confident:
                    misses.append(f"{text!r} -> {top_intent(result)[0]}")
            else:
                total += 1
                ok = confident and top_intent(result)[0] == intent
                routed += ok
                if not ok:
                    misses.append(f"{text!r} ({intent}) -> {top_intent(result)[0]}")
    return {"routed": routed, "total": total, "rejected": rejected, "off_topic": off_topic,
            "misses": misses}  # fmt: skip


def switches(
    flow: Flow, client: RasaNLU, language: str, data: dict[str, Any], ident: LanguageIdentifier
) -> dict[str, Any]:
    """Requests recognised, answers noticed on a call in another language, false switches."""
    other = "cs" if language == "en" else "en"
    lines = [t for i, ts in data["intents"].items() if i != OUT_OF_SCOPE_INTENT for t in ts]
    noticed = false = 0
    costs: list[float] = []
    for text in lines:
        understood = is_confident(client.parse(text), flow)
        started = time.perf_counter()
        answer = detect_switch(text, other, flow.languages, ident, understood=understood)
        costs.append((time.perf_counter() - started) * 1000)
        noticed += answer is not None and answer.language == language
        own = detect_switch(text, language, flow.languages, ident, understood=understood)
        false += own is not None
    requests = [(target, t) for target, ts in data["switch_requests"].items() for t in ts]
    asked = sum(
        1
        for target, text in requests
        if (s := detect_switch(text, language, flow.languages, ident)) and s.language == target
    )
    return {"asked": asked, "requests": len(requests), "noticed": noticed, "lines": len(lines),
            "false": false, "p95_ms": percentile(costs, 95)}  # fmt: skip


def rss_mb(pid: int | None) -> float:
    """Resident memory of process ``pid`` in MB (Linux ``/proc``)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def serve(flow: Flow, config: dict[str, Any]) -> tuple[Any, float]:
    """A Rasa server on ``flow``'s model (trained if needed) and the seconds training took."""
    project = compile_nlu_project(flow)
    started = time.monotonic()
    model = train_model(project, config)
    trained_s = time.monotonic() - started
    return start_server(model, project.fingerprint, config), trained_s


def one_language(flow: Flow, language: str) -> Flow:
    """``flow`` with only ``language``'s examples: what a per-language model learns."""
    intents = {
        name: dataclasses.replace(intent, examples={language: intent.examples.get(language, ())})
        for name, intent in flow.intents.items()
    }
    return dataclasses.replace(
        flow, intents=intents, languages=(language,), default_language=language
    )


def measure(flow: Flow, sets: dict[str, dict[str, Any]], config: dict[str, Any]) -> list[Any]:
    """Accuracy and switches per language on the multilingual model, and its memory."""
    handle, trained_s = serve(flow, config)
    ident = LanguageIdentifier.from_flow(flow)
    try:
        with handle.client(timeout=10.0) as client:
            rows = []
            for language, data in sets.items():
                progress(f"{language}: accuracy and switches")
                found = accuracy(flow, client, data)
                found.update(switches(flow, client, language, data, ident))
                rows.append((language, found))
            memory = rss_mb(handle.pid)
    finally:
        handle.stop()
    return [rows, memory, trained_s]


def compare(flow: Flow, sets: dict[str, dict[str, Any]], config: dict[str, Any]) -> list[Any]:
    """Each language's own model: its accuracy on its held-out set, and the server's memory."""
    rows = []
    for language, data in sets.items():
        progress(f"{language}: training and serving a {language}-only model")
        single = one_language(flow, language)
        handle, trained_s = serve(single, config)
        try:
            with handle.client(timeout=10.0) as client:
                found = accuracy(single, client, data)
                rows.append((language, found, rss_mb(handle.pid), trained_s))
        finally:
            handle.stop()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--flows", default=str(ROOT / "flows"))
    parser.add_argument("--compare", action="store_true", help="also one model per language")
    parser.add_argument("--write", metavar="MARKDOWN", help="write/replace the section")
    args = parser.parse_args()
    flow = load_flow(args.flows)
    sets = {language: heldout(language) for language in flow.languages}
    check_unseen(flow, sets)
    config = load_config({"NLU_URL": "", "NLU_TOKEN": ""})
    rows, memory, _ = measure(flow, sets, config)
    section = render(rows, memory, compare(flow, sets, config) if args.compare else None)
    for language, found in rows:
        for miss in found["misses"]:
            print(f"bench: {language} miss: {miss}", file=sys.stderr)
    publish(section, SECTION, args.write)


def _pct(part: int, whole: int) -> str:
    return f"{part / whole:.1%} ({part}/{whole})" if whole else "-"


def render(rows: list[Any], memory: float, compared: list[Any] | None) -> str:
    """The Markdown section."""
    lines = [
        "| language | in scope routed right | off-topic under the threshold "
        "| asked to switch: recognised | answered in it on another language's call: noticed "
        "| false switches | switch cost p95 |",
        "|---|---|---|---|---|---|---|",
    ]
    for language, f in rows:
        lines.append(
            f"| {language} | {_pct(f['routed'], f['total'])} "
            f"| {_pct(f['rejected'], f['off_topic'])} | {_pct(f['asked'], f['requests'])} "
            f"| {_pct(f['noticed'], f['lines'])} | {f['false']} | {f['p95_ms']:.2f} ms |"
        )
    text = [SECTION, "", f"{machine()}.", f"Command: `{command_line('bench-languages')}`", "",
            "\n".join(lines), "", table([("multilingual Rasa server, model loaded (RSS)",
                                           f"{memory:.0f} MB")])]  # fmt: skip
    if compared:
        text += ["", "One model per language instead (each on its own held-out set):", ""]
        text.append(
            table(
                [
                    (f"{lang}-only model: routed right / off-topic under / RSS",
                     f"{_pct(f['routed'], f['total'])} / {_pct(f['rejected'], f['off_topic'])}"
                     f" / {rss:.0f} MB")
                    for lang, f, rss, _ in compared
                ]
            )
        )  # fmt: skip
    return "\n".join(text) + "\n"


if __name__ == "__main__":
    main()
