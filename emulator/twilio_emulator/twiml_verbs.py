"""The TwiML vocabulary the emulator runs: one frozen dataclass per verb and noun, and the errors.

``twilio_emulator.twiml`` parses a document into these (and re-exports them); URLs in them are
absolute. ``Verb`` is any verb that can stand under ``<Response>``; ``DialTarget`` any noun
``<Dial>`` rings.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TypeAlias

#: Twilio's error code for TwiML it cannot parse.
DOCUMENT_PARSE_FAILURE = 12100


class TwimlError(ValueError):
    """A TwiML document Twilio would refuse; ``code`` is Twilio's error code."""

    def __init__(self, message: str, code: int | None = DOCUMENT_PARSE_FAILURE) -> None:
        super().__init__(message)
        self.code = code


class UnsupportedTwiml(TwimlError):
    """Valid TwiML that the emulator does not implement (``code`` is ``None``)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, code=None)


@dataclass(frozen=True)
class Say:
    """``<Say>``: text spoken to the caller ``loop`` times (0 means Twilio's 1000)."""

    text: str
    voice: str | None = None
    language: str | None = None
    loop: int = 1


@dataclass(frozen=True)
class Play:
    """``<Play>``: an audio file played ``loop`` times."""

    url: str
    loop: int = 1
    digits: str | None = None


@dataclass(frozen=True)
class Pause:
    """``<Pause>``: silence for ``length`` seconds."""

    length: float = 1.0


@dataclass(frozen=True)
class Hangup:
    """``<Hangup>``: end the call."""


@dataclass(frozen=True)
class Reject:
    """``<Reject>``: refuse the call unanswered (as the first verb); ``rejected`` or ``busy``."""

    reason: str = "rejected"


@dataclass(frozen=True)
class Redirect:
    """``<Redirect>``: fetch new TwiML from ``url``."""

    url: str
    method: str = "POST"


@dataclass(frozen=True)
class Number:
    """``<Number>`` in ``<Dial>``: a phone number, with an optional whisper document ``url``."""

    number: str
    url: str | None = None
    method: str = "POST"
    status_callback: str | None = None
    status_callback_event: tuple[str, ...] = ("completed",)
    status_callback_method: str = "POST"
    send_digits: str | None = None

    @property
    def address(self) -> str:
        """What the child leg's ``To`` carries."""
        return self.number


@dataclass(frozen=True)
class Client:
    """``<Client>`` in ``<Dial>``: a Voice SDK identity."""

    identity: str
    url: str | None = None
    method: str = "POST"
    status_callback: str | None = None
    status_callback_event: tuple[str, ...] = ("completed",)
    status_callback_method: str = "POST"

    @property
    def address(self) -> str:
        """What the child leg's ``To`` carries."""
        return f"client:{self.identity}"


@dataclass(frozen=True)
class Sip:
    """``<Sip>`` in ``<Dial>``: a SIP URI."""

    uri: str
    url: str | None = None
    method: str = "POST"
    status_callback: str | None = None
    status_callback_event: tuple[str, ...] = ("completed",)
    status_callback_method: str = "POST"

    @property
    def address(self) -> str:
        """What the child leg's ``To`` carries."""
        return self.uri


DialTarget: TypeAlias = Number | Client | Sip


@dataclass(frozen=True)
class Dial:
    """``<Dial>``: ring ``targets`` in parallel for ``timeout`` seconds and bridge the winner."""

    targets: tuple[DialTarget, ...]
    action: str | None = None
    method: str = "POST"
    timeout: int = 30
    caller_id: str | None = None
    time_limit: int = 14400


@dataclass(frozen=True)
class Stream:
    """``<Stream>`` in ``<Connect>``: the bidirectional Media Stream."""

    url: str
    name: str | None = None
    parameters: Mapping[str, str] = field(default_factory=dict)
    status_callback: str | None = None
    status_callback_method: str = "POST"


@dataclass(frozen=True)
class Connect:
    """``<Connect>``: hold the call on ``stream`` until the server closes it."""

    stream: Stream
    action: str | None = None
    method: str = "POST"


Verb: TypeAlias = Say | Play | Pause | Hangup | Reject | Redirect | Dial | Connect
