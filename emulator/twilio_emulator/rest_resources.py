"""Twilio REST 2010-04-01 resources as the REST emulator keeps them: Calls and Messages.

Each resource renders the JSON Twilio returns (its field names, RFC 2822 dates, ``uri``);
``new_call``/``new_message`` validate a create request the way Twilio does and raise
:class:`RestError` with Twilio's error code. Listing them (filters, paging) is in
``twilio_emulator.rest_lists``.

Error codes (https://www.twilio.com/docs/errors/<code>): 20003 authenticate, 20404 not found,
21201 no ``To``, 21213 no ``From``, 21211 invalid ``To``, 21212 invalid ``From``, 21205 invalid
(or missing) ``Url``, 21604 no ``To`` for a message, 21603 no ``From``, 21602 no ``Body``,
21617 body over 1600 characters. Twilio documents no code of its own for a call created with
neither ``Url`` nor ``Twiml``; the emulator answers 21205 (an inference).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any
from urllib.parse import urlsplit

from twilio_emulator.sids import new_sid

API_VERSION = "2010-04-01"
PROGRESS_EVENTS = ("initiated", "ringing", "answered", "completed")
TERMINAL = frozenset({"completed", "busy", "failed", "no-answer", "canceled"})
MACHINE_DETECTION = ("Enable", "DetectMessageEnd")
_E164 = re.compile(r"^\+[1-9]\d{6,14}$")
_SENDER_ID = re.compile(r"^(?=.*[A-Za-z])[A-Za-z0-9 ]{1,11}$")  # alphanumeric sender IDs
_MAX_BODY = 1600


class RestError(Exception):
    """A request Twilio refuses: HTTP ``status`` and Twilio's error ``code``."""

    def __init__(self, status: int, code: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message

    def body(self) -> dict[str, Any]:
        """Twilio's error JSON."""
        return {
            "code": self.code,
            "message": self.message,
            "more_info": f"https://www.twilio.com/docs/errors/{self.code}",
            "status": self.status,
        }


def not_found(path: str) -> RestError:
    """Twilio's 404 for ``path``."""
    return RestError(404, 20404, f"The requested resource {path} was not found")


def rfc2822(moment: datetime | None) -> str | None:
    """Twilio's date format: ``Fri, 13 Aug 2010 01:16:24 +0000``."""
    return None if moment is None else format_datetime(moment.astimezone(UTC))


@dataclass
class CallRecord:
    """A Call resource and what its create request asked for."""

    sid: str
    account_sid: str
    to: str
    from_: str
    date_created: datetime
    url: str | None = None
    twiml: str | None = None
    method: str = "POST"
    status_callback: str | None = None
    status_callback_method: str = "POST"
    status_callback_event: tuple[str, ...] = ()
    machine_detection: str | None = None
    timeout: int = 60
    status: str = "queued"
    direction: str = "outbound-api"
    date_updated: datetime | None = None
    start_time: datetime | None = None
    end_time: datetime | None = None
    duration: int | None = None
    answered_by: str | None = None
    parent_call_sid: str | None = None

    @property
    def uri(self) -> str:
        """The resource's path."""
        return f"/{API_VERSION}/Accounts/{self.account_sid}/Calls/{self.sid}.json"

    def to_json(self) -> dict[str, Any]:
        """The Call resource as Twilio renders it."""
        base = self.uri.removesuffix(".json")
        return {
            "account_sid": self.account_sid,
            "annotation": None,
            "answered_by": self.answered_by,
            "api_version": API_VERSION,
            "caller_name": None,
            "date_created": rfc2822(self.date_created),
            "date_updated": rfc2822(self.date_updated or self.date_created),
            "direction": self.direction,
            "duration": None if self.duration is None else str(self.duration),
            "end_time": rfc2822(self.end_time),
            "forwarded_from": None,
            "from": self.from_,
            "from_formatted": self.from_,
            "group_sid": None,
            "parent_call_sid": self.parent_call_sid,
            "phone_number_sid": None,
            "price": None,
            "price_unit": "USD",
            "queue_time": "0",
            "sid": self.sid,
            "start_time": rfc2822(self.start_time),
            "status": self.status,
            "stir_verstat": None,
            "subresource_uris": {
                name: f"{base}/{name.title().replace('_', '')}.json"
                for name in ("events", "notifications", "recordings", "streams")
            },
            "to": self.to,
            "to_formatted": self.to,
            "trunk_sid": None,
            "uri": self.uri,
        }


@dataclass
class MessageRecord:
    """A Message resource."""

    sid: str
    account_sid: str
    to: str
    from_: str | None
    body: str
    date_created: datetime
    messaging_service_sid: str | None = None
    status: str = "queued"
    date_updated: datetime | None = None
    date_sent: datetime | None = None

    @property
    def uri(self) -> str:
        """The resource's path."""
        return f"/{API_VERSION}/Accounts/{self.account_sid}/Messages/{self.sid}.json"

    def to_json(self) -> dict[str, Any]:
        """The Message resource as Twilio renders it."""
        length = len(self.body)
        segments = 1 if length <= 160 else math.ceil(length / 153)  # 7 characters of header
        return {
            "account_sid": self.account_sid,
            "api_version": API_VERSION,
            "body": self.body,
            "date_created": rfc2822(self.date_created),
            "date_sent": rfc2822(self.date_sent),
            "date_updated": rfc2822(self.date_updated or self.date_created),
            "direction": "outbound-api",
            "error_code": None,
            "error_message": None,
            "from": self.from_,
            "messaging_service_sid": self.messaging_service_sid,
            "num_media": "0",
            "num_segments": str(segments),
            "price": None,
            "price_unit": "USD",
            "sid": self.sid,
            "status": self.status,
            "subresource_uris": {"media": self.uri.removesuffix(".json") + "/Media.json"},
            "to": self.to,
            "uri": self.uri,
        }


@dataclass(frozen=True)
class Form:
    """A request's parameters: every value of every name, in order."""

    pairs: tuple[tuple[str, str], ...] = field(default_factory=tuple)

    def get(self, name: str, default: str | None = None) -> str | None:
        """The first value of ``name``, or ``default``; an empty value counts as missing."""
        return next((v for k, v in self.pairs if k == name and v != ""), default)

    def getlist(self, name: str) -> list[str]:
        """Every value of ``name``."""
        return [v for k, v in self.pairs if k == name]

    def names(self) -> set[str]:
        """Every parameter name."""
        return {k for k, _ in self.pairs}


def new_call(account_sid: str, form: Form, now: datetime) -> CallRecord:
    """A queued Call from a create request, validated as Twilio does.

    Raises:
        RestError: A missing or invalid parameter (21201, 21213, 21211, 21212, 21205, 21200).
    """
    to, from_ = form.get("To"), form.get("From")
    if to is None:
        raise RestError(400, 21201, "No 'To' number is specified")
    if from_ is None:
        raise RestError(400, 21213, "No 'From' number is specified")
    if not _callable(to):
        raise RestError(400, 21211, f"Invalid 'To' Phone Number: {to}")
    if not (_E164.match(from_) or from_.startswith("client:")):
        raise RestError(400, 21212, f"Invalid 'From' Phone Number: {from_}")
    url, twiml = form.get("Url"), form.get("Twiml")
    if url is None and twiml is None:
        raise RestError(400, 21205, "A 'Url' or 'Twiml' parameter is required")
    if url is not None and not _absolute_url(url):
        raise RestError(400, 21205, f"Url is not a valid URL: {url}")
    machine_detection = form.get("MachineDetection")
    if machine_detection is not None and machine_detection not in MACHINE_DETECTION:
        raise RestError(400, 21200, f"MachineDetection must be one of {MACHINE_DETECTION}")
    events = tuple(e for value in form.getlist("StatusCallbackEvent") for e in value.split())
    unknown = [e for e in events if e not in PROGRESS_EVENTS]
    if unknown:
        raise RestError(400, 21200, f"StatusCallbackEvent {unknown[0]!r} is not valid")
    timeout = form.get("Timeout", "60") or "60"
    if not timeout.isdigit():
        raise RestError(400, 21200, f"Timeout must be a number of seconds: {timeout}")
    return CallRecord(
        sid=new_sid("CA"),
        account_sid=account_sid,
        to=to,
        from_=from_,
        date_created=now,
        url=url,
        twiml=None if url is not None else twiml,  # with both, Twilio ignores Twiml
        method=_method(form, "Method"),
        status_callback=form.get("StatusCallback"),
        status_callback_method=_method(form, "StatusCallbackMethod"),
        status_callback_event=events,
        machine_detection=machine_detection,
        timeout=min(int(timeout), 600),
    )


def new_message(account_sid: str, form: Form, now: datetime) -> MessageRecord:
    """A queued Message from a create request, validated as Twilio does.

    Raises:
        RestError: A missing or invalid parameter (21604, 21603, 21602, 21617, 21211, 21212).
    """
    to, from_ = form.get("To"), form.get("From")
    service = form.get("MessagingServiceSid")
    body = form.get("Body")
    if to is None:
        raise RestError(400, 21604, "A 'To' phone number is required.")
    if from_ is None and service is None:
        raise RestError(400, 21603, "A 'From' phone number is required.")
    if body is None and not form.getlist("MediaUrl"):
        raise RestError(400, 21602, "Message body is required.")
    if body is not None and len(body) > _MAX_BODY:
        raise RestError(
            400, 21617, "The concatenated message body exceeds the 1600 character limit."
        )
    if not _E164.match(to):
        raise RestError(400, 21211, f"Invalid 'To' Phone Number: {to}")
    if from_ is not None and not (_E164.match(from_) or _SENDER_ID.match(from_)):
        raise RestError(
            400,
            21212,
            f"The 'From' number {from_} is not a valid phone number, shortcode, "
            "or alphanumeric sender ID.",
        )
    return MessageRecord(
        sid=new_sid("SM"),
        account_sid=account_sid,
        to=to,
        from_=from_,
        body=body or "",
        date_created=now,
        messaging_service_sid=service,
        status="queued" if from_ is not None else "accepted",
    )


def _callable(address: str) -> bool:
    if address.startswith("client:"):
        return len(address) > len("client:")
    if address.startswith("sip:"):
        return "@" in address
    return bool(_E164.match(address))


def _absolute_url(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def _method(form: Form, name: str) -> str:
    method = (form.get(name) or "POST").upper()
    if method not in ("GET", "POST"):
        raise RestError(400, 21200, f"{name} must be GET or POST, not {method}")
    return method
