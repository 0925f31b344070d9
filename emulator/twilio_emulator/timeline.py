"""A call result as a readable timeline: time, who, what.

for entry in timeline(result):
    print(format_entry(entry))
#   0.00s  twilio  voice: POST https://ivr.example.test/twilio/voice -> 200 (12 ms)
#   0.45s  bot     audio 1.84 s, mark greeting
#   2.50s  caller  said "my internet is down"
#   3.38s  bot     replied 640 ms after the caller stopped
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TypeAlias

from twilio_emulator.result import CallResult, ReceivedMessage

_BURST_GAP = 1.0  # seconds without media that end one burst of bot audio
_Item: TypeAlias = tuple[float, str, str]  # (monotonic time, who, what)


@dataclass(frozen=True)
class Entry:
    """One line of the timeline; ``at`` is seconds since the call started."""

    at: float
    who: str  # twilio | bot | caller | agent | error
    what: str


def timeline(result: CallResult) -> list[Entry]:
    """Everything that happened in the call, in time order."""
    entries = [
        *_webhooks(result),
        *_heard(result),
        *_streams(result),
        *_bursts(result.received),
        *_marks_and_clears(result),
        *_utterances(result),
        *_key_presses(result),
        *_dials(result),
        *_errors(result),
    ]
    if result.ended_at is not None:
        entries.append(
            (result.ended_at, "twilio", f"call {result.status} after {result.duration:.1f} s")
        )
    entries.sort(key=lambda item: item[0])  # stable: simultaneous entries keep this order
    return [Entry(round(at - result.started_at, 3), who, what) for at, who, what in entries]


def _webhooks(result: CallResult) -> Iterator[_Item]:
    for hook in result.webhooks:
        status = hook.status_code if hook.status_code is not None else "no answer"
        what = f"{hook.purpose}: {hook.method} {hook.url} -> {status} ({hook.elapsed_ms:.0f} ms)"
        yield hook.started_at, "twilio", what


def _heard(result: CallResult) -> Iterator[_Item]:
    for heard in result.heard:
        who = "twilio" if heard.kind == "twilio" else "bot"
        verb = "played" if heard.kind == "play" else "said"
        yield heard.at, who, f'{verb} "{heard.text}"'


def _streams(result: CallResult) -> Iterator[_Item]:
    for stream in result.streams:
        yield stream.opened_at, "twilio", f"stream {stream.stream_sid} to {stream.url}"
        if stream.closed_at is not None:
            yield stream.closed_at, "twilio", f"stream ended ({stream.ended_by})"


def _marks_and_clears(result: CallResult) -> Iterator[_Item]:
    for mark in result.marks:
        if mark.echoed_at is not None:
            why = "cleared" if mark.cleared else "played"
            yield mark.echoed_at, "twilio", f"mark {mark.name} echoed ({why})"
    for clear in result.clears:
        yield clear.at, "bot", f"clear: {clear.discarded_ms:.0f} ms of audio discarded"


def _utterances(result: CallResult) -> Iterator[_Item]:
    for utterance in result.utterances:
        yield utterance.speech_started_at, "caller", f'said "{utterance.label}"'
        if utterance.barge_in_ms is not None and utterance.clear_at is not None:
            yield (
                utterance.clear_at,
                "bot",
                f"barge-in: cleared {utterance.barge_in_ms:.0f} ms "
                "after the caller started speaking",
            )
        if utterance.reply_latency_ms is not None and utterance.first_reply_media_at is not None:
            yield (
                utterance.first_reply_media_at,
                "bot",
                f"replied {utterance.reply_latency_ms:.0f} ms after the caller stopped",
            )


def _key_presses(result: CallResult) -> Iterator[_Item]:
    for press in result.dtmf:
        yield press.sent_at, "caller", f"pressed {press.digit}"
        if press.reply_latency_ms is not None and press.first_reply_media_at is not None:
            yield (
                press.first_reply_media_at,
                "bot",
                f"replied {press.reply_latency_ms:.0f} ms after key {press.digit}",
            )


def _dials(result: CallResult) -> Iterator[_Item]:
    for dial in result.dials:
        bridged = ", bridged" if dial.bridged else ""
        yield dial.started_at, "twilio", f"dial {dial.number} -> {dial.outcome}{bridged}"
        for text in dial.whisper:
            yield dial.answered_at or dial.started_at, "agent", f'whisper "{text}"'


def _errors(result: CallResult) -> Iterator[_Item]:
    for error in result.errors:
        code = f"{error.code} " if error.code is not None else ""
        yield error.at, "error", f"{code}{error.message}"


def _bursts(received: list[ReceivedMessage]) -> list[_Item]:
    """Bot media grouped into bursts (until a mark, a clear or a gap), with their mark names."""
    bursts: list[_Item] = []
    start: float | None = None
    last = 0.0
    size = 0

    def close(mark: str | None) -> None:
        nonlocal start, size
        if start is not None:
            suffix = f", mark {mark}" if mark else ""
            bursts.append((start, "bot", f"audio {size / 8000:.2f} s{suffix}"))
        elif mark:
            bursts.append((last, "bot", f"mark {mark} (no audio before it)"))
        start, size = None, 0

    for message in received:
        if message.event == "media":
            if start is not None and message.at - last > _BURST_GAP:
                close(None)
            if start is None:
                start = message.at
            size += message.payload_bytes
            last = message.at
        elif message.event == "mark":
            last = message.at if start is None else last
            close(message.mark)
        elif message.event == "clear":
            close(None)
    close(None)
    return bursts


def format_entry(entry: Entry) -> str:
    """One aligned line: ``  12.34s  caller  said "..."``."""
    return f"{entry.at:8.2f}s  {entry.who:<6}  {entry.what}"
