"""The browser phone: how soon a call from Chromium hears the line, and a key gets an answer.

    .venv/bin/python bench/browser_phone.py [--calls 10] [--write FILE.md]

Serves the Korean test line in this process (the real app on a port, the real Korean Vosk
model, no NLU: neither measure needs one) and drives Debian's Chromium, headless, through the
page like a person: *Call* (text only, so no microphone is involved), and once the greeting
has played, keypad 0. Times are taken inside the page (``performance.now()``, a
MutationObserver on the page's audio counter), so neither Playwright nor Python is timed:

- *call → greeting*: from the click on *Call* to the first audio of the greeting at the page
  (placing the call, the voice webhook and its TwiML, the socket and its pass, the start
  message, the pipeline's greeting from the prompt cache);
- *key → reply*: from the key press to the first audio of the reply at the page (the dtmf
  message, the pipeline, the hand-over prompt from the cache, back over the socket).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

from common import command_line, machine, percentile, progress, publish
from playwright.sync_api import Page, Playwright, sync_playwright

from ivr.config import ROOT
from ivr.nlu.service import free_port

sys.path.insert(0, str(ROOT))  # the Korean line and the live server live with the tests
from tests.fixtures.browser import CHROMIUM, QUIET
from tests.fixtures.ko_line import KO_LINE
from tests.fixtures.live_server import servers

SECTION = "## Browser phone"

#: Records when the page's audio counter first moves after ``window.benchMark()``.
WATCH_AUDIO = """() => {
  window.benchTimes = {};
  window.benchMark = (name) => {
    window.benchTimes[name] = performance.now();
    const seen = Number(document.body.dataset.audioChunks || 0);
    const observer = new MutationObserver(() => {
      if (Number(document.body.dataset.audioChunks || 0) > seen) {
        window.benchTimes[name + ":audio"] = performance.now();
        observer.disconnect();
      }
    });
    observer.observe(document.body, { attributes: true, attributeFilter: ["data-audio-chunks"] });
  };
}"""


def one_call(page: Page, url: str) -> tuple[float, float]:
    """One call from the page: (call → greeting, key → reply) in milliseconds."""
    page.goto(f"{url}/simulator")
    page.check("#text-only")
    page.evaluate(WATCH_AUDIO)
    page.evaluate("() => { window.benchMark('call'); document.getElementById('call').click(); }")
    page.wait_for_function("() => (Number(document.body.dataset.marksPlayed) || 0) >= 1")
    page.evaluate(
        "() => { window.benchMark('key');"
        " document.querySelector(\"#keypad button[data-key='0']\").click(); }"
    )
    page.wait_for_function("() => window.benchTimes['key:audio'] !== undefined")
    times: dict[str, float] = page.evaluate("() => window.benchTimes")
    page.click("#hangup")
    page.wait_for_function("() => document.body.dataset.ended !== undefined")
    return times["call:audio"] - times["call"], times["key:audio"] - times["key"]


def measure(calls: int, driver: Playwright | None = None) -> dict[str, list[float]]:
    """``calls`` calls (after one warm-up call) from a fresh browser to a fresh server.

    ``driver``: a running Playwright (a test's; one thread can run only one), else its own.
    """
    if driver is None:
        with sync_playwright() as own:
            return measure(calls, own)
    results: dict[str, list[float]] = {"call → greeting": [], "key → reply": []}
    with tempfile.TemporaryDirectory() as folder, servers(Path(folder)) as start:
        server = start(
            FLOWS=str(KO_LINE), NLU_URL=f"http://127.0.0.1:{free_port()}", ASR_WARM_RECOGNIZERS=1
        )
        server.services.prompts_ready.wait(60)
        server.services.speech_ready.wait(60)
        browser = driver.chromium.launch(executable_path=CHROMIUM, headless=True, args=QUIET)
        page = browser.new_page()
        one_call(page, server.url)  # warm-up: the browser's first page, the first call
        for number in range(calls):
            greeting, reply = one_call(page, server.url)
            results["call → greeting"].append(greeting)
            results["key → reply"].append(reply)
            progress(f"call {number + 1}/{calls}: {greeting:.0f} ms, {reply:.0f} ms")
        browser.close()
    return results


def section(results: dict[str, list[float]], calls: int) -> str:
    """The Markdown section for ``results``."""
    rows = [
        f"| {name} | {statistics.median(values):.0f} | {percentile(values, 95):.0f} "
        f"| {max(values):.0f} |"
        for name, values in results.items()
    ]
    return (
        f"{SECTION}\n\n{machine()}.\nCommand: `{command_line()}`\n\n"
        f"{calls} calls from headless Chromium (after one warm-up call) to the Korean test "
        "line served\nin the same process, timed inside the page; the whole path of "
        "bench/browser_phone.py's\ndocstring, with the prompts cached.\n\n"
        "| measured | median ms | p95 ms | max ms |\n|---|---|---|---|\n" + "\n".join(rows) + "\n"
    )


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=10)
    parser.add_argument("--write", metavar="MARKDOWN", help="write/replace the section")
    args = parser.parse_args(argv)
    results = measure(args.calls)
    publish(section(results, args.calls), SECTION, args.write)
    return results


if __name__ == "__main__":
    main()
