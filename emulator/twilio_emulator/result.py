"""What an emulated call leaves behind: requests, messages, errors, timings and the heard audio.

Times are ``time.monotonic()`` seconds, comparable with each other and with the test's own
clock; :meth:`CallResult.to_dict` turns them into seconds since the call started.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from twilio_emulator.audio import write_wav_ulaw


@dataclass
class CallError:
    """Something Twilio would log in its debugger.

    ``code`` is Twilio's error code (11200, 12100, 31920...), or ``None`` where Twilio has no
    documented one (a malformed stream message, a verb the emulator does not implement).
    ``kind`` is one of ``webhook``, ``twiml``, ``stream``, ``dial``, ``unsupported``.
    """

    kind: str
    code: int | None
    message: str
    at: float
    url: str | None = None


@dataclass
class WebhookExchange:
    """One HTTP request Twilio made and what came back."""

    purpose: str  # voice, redirect, connect-action, dial-action, whisper, status-callback...
    method: str
    url: str  # the public URL, as signed
    params: dict[str, str]
    signature: str
    started_at: float
    elapsed_ms: float
    status_code: int | None = None  # None: no HTTP response (connection failed)
    content_type: str = ""
    body: str = ""
    location: str = ""  # of a redirect response
    error: CallError | None = None


@dataclass
class HeardText:
    """A ``<Say>`` (or Twilio's own announcement) the caller heard, or a ``<Play>`` URL."""

    at: float
    text: str
    kind: str = "say"  # say | play | twilio
    voice: str | None = None
    language: str | None = None


@dataclass
class DialAttempt:
    """One leg a ``<Dial>`` rang and how it ended."""

    number: str
    call_sid: str
    outcome: str  # completed | busy | no-answer | failed | canceled
    started_at: float
    answered_at: float | None = None
    ended_at: float | None = None
    bridged: bool = False
    whisper: list[str] = field(default_factory=list)


@dataclass
class StreamRecord:
    """One ``<Connect><Stream>``."""

    stream_sid: str
    url: str
    custom_parameters: dict[str, str]
    opened_at: float
    closed_at: float | None = None
    ended_by: str = ""  # server | hangup | max-seconds | handshake-failed


@dataclass
class SentMessage:
    """A message the emulator sent on a stream."""

    at: float
    event: str
    sequence_number: int | None
    detail: str = ""  # digit, mark name, or media chunk number


@dataclass
class ReceivedMessage:
    """A message the server sent on a stream (``event`` is ``malformed`` if unreadable).

    ``frame`` is when it arrived on the stream's own clock: how many 20 ms frame slots had gone
    by since the first media frame was due (the caller's chunk ``n`` is due in slot ``n - 1``).
    """

    at: float
    event: str
    mark: str | None = None
    payload_bytes: int = 0
    error: str | None = None
    frame: int = 0


@dataclass
class MarkRecord:
    """A mark from the server and when it was echoed back."""

    name: str
    received_at: float
    echoed_at: float | None = None
    cleared: bool = False  # echoed because of a clear, not because its audio played


@dataclass
class ClearRecord:
    """A ``clear`` from the server; ``frame`` as in :class:`ReceivedMessage`."""

    at: float
    discarded_ms: float
    marks_echoed: list[str]
    frame: int = 0


@dataclass
class UtteranceTiming:
    """When one caller utterance went out and how fast the bot answered it.

    ``last_voiced_at`` is the last frame louder than -40 dBFS (trailing silence in the audio is
    not speech). ``first_reply_media_at`` is the first bot media received after the caller
    stopped (and after the ``clear``, if the caller barged in). ``clear_at``/``barge_in_ms`` are
    set for utterances that started while bot audio was playing.
    """

    label: str
    speech_started_at: float
    voiced_started_at: float | None = None
    last_voiced_at: float | None = None
    ended_at: float | None = None
    during_bot_audio: bool = False
    first_reply_media_at: float | None = None
    reply_latency_ms: float | None = None
    clear_at: float | None = None
    barge_in_ms: float | None = None


@dataclass
class DtmfTiming:
    """One key press and how fast the bot reacted."""

    digit: str
    sent_at: float
    during_bot_audio: bool = False
    first_reply_media_at: float | None = None
    reply_latency_ms: float | None = None
    clear_at: float | None = None


@dataclass
class CallResult:
    """Everything observable about one emulated call."""

    call_sid: str
    account_sid: str
    started_at: float
    ended_at: float | None = None
    status: str = "in-progress"  # completed | busy | no-answer when over
    stream_sid: str | None = None  # the last stream's
    webhooks: list[WebhookExchange] = field(default_factory=list)
    heard: list[HeardText] = field(default_factory=list)
    dials: list[DialAttempt] = field(default_factory=list)
    streams: list[StreamRecord] = field(default_factory=list)
    sent: list[SentMessage] = field(default_factory=list)
    received: list[ReceivedMessage] = field(default_factory=list)
    marks: list[MarkRecord] = field(default_factory=list)
    clears: list[ClearRecord] = field(default_factory=list)
    errors: list[CallError] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    utterances: list[UtteranceTiming] = field(default_factory=list)
    dtmf: list[DtmfTiming] = field(default_factory=list)
    audio: bytes = b""  # what the caller heard, 8 kHz μ-law from started_at to ended_at

    @property
    def ok(self) -> bool:
        """Whether Twilio would have logged no error for this call."""
        return not self.errors

    @property
    def heard_says(self) -> list[str]:
        """The ``<Say>`` texts the caller heard, in order."""
        return [item.text for item in self.heard if item.kind == "say"]

    @property
    def duration(self) -> float:
        """Seconds from the first webhook to the end of the call."""
        return (self.ended_at or self.started_at) - self.started_at

    def write_wav(self, path: str | Path) -> None:
        """Write what the caller heard (bot audio on the stream, silence elsewhere) as a WAV."""
        write_wav_ulaw(path, self.audio)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: times as seconds since the call started; audio and sent media left out.

        The caller's media frames (50 a second) are summarised as ``media_sent``; every other
        sent message is listed.
        """
        data = asdict(self)
        data.pop("audio")
        data["sent"] = [m for m in data["sent"] if m["event"] != "media"]
        data["media_sent"] = sum(1 for m in self.sent if m.event == "media")
        data["audio_seconds"] = len(self.audio) / 8000
        data["duration"] = round(self.duration, 3)
        data["ok"] = self.ok
        relative: dict[str, Any] = _relative(data, self.started_at)
        return relative


_TIME_KEYS = ("at", "started_at", "ended_at", "opened_at", "closed_at", "received_at")


def _relative(value: Any, origin: float) -> Any:
    """Every ``*_at`` (and ``at``) number made relative to ``origin``, rounded to ms."""
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if (key in _TIME_KEYS or key.endswith("_at")) and isinstance(item, float):
                out[key] = round(item - origin, 3)
            else:
                out[key] = _relative(item, origin)
        return out
    if isinstance(value, list):
        return [_relative(item, origin) for item in value]
    return value
