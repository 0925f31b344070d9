"""Placing calls and sending texts through Twilio's REST API.

    dialer = TwilioDialer(account_sid, auth_token, api_url=config["TWILIO_API_URL"])
    sid = dialer.place_call(OutboundCall(to, from_, url, status_callback=status_url))
    sids = dialer.find_calls(to, started_after=attempt_started)   # after a crash: placed already?
    dialer.send_sms(to, from_, "We will call you back at 3 pm.")

The official ``twilio`` client does the talking; ``api_url`` points it elsewhere (the REST
emulator in tests) by setting the API domain's ``base_url``, which every Calls and Messages
request and every ``next_page_uri`` is built from. Failures become :class:`DialerError`:
retryable for 5xx, 429 and connection errors, not for other 4xx. ``unknown_outcome`` marks the
dangerous case: the request may have been carried out (a dropped connection, a read timeout,
a 5xx), so a call may exist; ask :meth:`TwilioDialer.find_calls` before dialling again.
The callback worker does not see this class: :class:`ivr.twilio.ringer.TwilioRinger` adapts it
to the worker's port (:mod:`ivr.callbacks.ports`).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from ivr.callbacks.ports import DialerError

if TYPE_CHECKING:
    from twilio.rest import Client

__all__ = ["DialerError", "OutboundCall", "TwilioDialer"]

log = logging.getLogger(__name__)

DEFAULT_API_URL = "https://api.twilio.com"
ALL_EVENTS = ("initiated", "ringing", "answered", "completed")
_FIND_LIMIT = 1000  # calls to one number examined, newest first, before giving up


@dataclass(frozen=True)
class OutboundCall:
    """A call to place.

    Args:
        to: The number (E.164) or ``sip:``/``client:`` address to ring.
        from_: Our caller ID (a Twilio number or verified caller ID).
        url: The webhook that answers with the call's TwiML (POSTed when answered).
        status_callback: Where the progress events go, if anywhere.
        machine_detection: Ask for answering machine detection (``DetectMessageEnd``: the
            verdict, ``AnsweredBy``, comes with the ``url`` request, after a voicemail's beep).
        timeout: Seconds to let it ring (Twilio: at most 600).
        status_callback_events: Which progress events to send (``completed`` always comes).
    """

    to: str
    from_: str
    url: str
    status_callback: str | None = None
    machine_detection: bool = False
    timeout: int = 30
    status_callback_events: tuple[str, ...] = ALL_EVENTS


class TwilioDialer:
    """Calls and texts over Twilio's REST API with the official client.

    Args:
        account_sid: The account (``AC...``).
        auth_token: Its auth token.
        api_url: The REST API's base URL (``https://api.twilio.com``, or an emulator's).
        timeout: Seconds to wait for each answer.
    """

    def __init__(
        self,
        account_sid: str,
        auth_token: str,
        api_url: str = DEFAULT_API_URL,
        *,
        timeout: float = 10.0,
    ) -> None:
        if not account_sid or not auth_token:
            raise ValueError("a Twilio account SID and auth token are needed to place calls")
        self.api_url = api_url.rstrip("/")
        self._client = _client(account_sid, auth_token, self.api_url, timeout)

    def __repr__(self) -> str:
        return f"TwilioDialer(api_url={self.api_url!r})"  # never the token

    def place_call(self, call: OutboundCall) -> str:
        """Ask Twilio to place ``call``; its SID (the call is ``queued``).

        Raises:
            DialerError: Refused (4xx, not retryable) or failed (retryable).
        """
        options: dict[str, Any] = {
            "to": call.to,
            "from_": call.from_,
            "url": call.url,
            "method": "POST",
            "timeout": call.timeout,
        }
        if call.status_callback is not None:
            options.update(
                status_callback=call.status_callback,
                status_callback_method="POST",
                status_callback_event=list(call.status_callback_events),
            )
        if call.machine_detection:
            options["machine_detection"] = "DetectMessageEnd"
        with _errors("placing a call"):
            sid: str = self._client.calls.create(**options).sid
        log.info("call %s placed", sid, extra={"call_id": sid})
        return sid

    def find_calls(self, to: str, started_after: datetime) -> list[str]:
        """SIDs of the calls to ``to`` placed through the API at or after ``started_after``.

        Newest first. Matches on ``date_created``, which every call has from the moment Twilio
        accepts it (a queued call has no start time yet, so the ``StartTime`` filter would miss
        it). Twilio's dates are whole seconds, so ``started_after`` is rounded down to the
        second. Child calls (a ``<Dial>`` leg: a transfer ringing an agent, a callback's second
        leg) carry their parent's sid and are left out: no ``calls.create`` made them.

        Raises:
            DialerError: The request failed.
        """
        if started_after.tzinfo is None:
            raise ValueError("started_after must be timezone-aware")
        since = started_after.astimezone(UTC).replace(microsecond=0)
        found: list[str] = []
        with _errors("listing calls"):
            for record in self._client.calls.stream(to=to, limit=_FIND_LIMIT, page_size=50):
                created = record.date_created
                if created is None:
                    continue
                if created < since:
                    break  # newest first: everything after this is older
                if record.parent_call_sid:
                    continue
                found.append(record.sid)
        return found

    def send_sms(self, to: str, from_: str, body: str) -> str:
        """Send ``body`` to ``to`` from ``from_`` (a number, or a Messaging Service ``MG...``).

        Raises:
            DialerError: Refused (4xx, not retryable) or failed (retryable).
        """
        sender = {"messaging_service_sid": from_} if from_.startswith("MG") else {"from_": from_}
        with _errors("sending a text"):
            sid: str = self._client.messages.create(to=to, body=body, **sender).sid
        log.info("text %s sent", sid)
        return sid


def _client(account_sid: str, auth_token: str, api_url: str, timeout: float) -> Client:
    # Lazy: only dialling needs the client.
    from twilio.http.http_client import TwilioHttpClient
    from twilio.rest import Client

    client = Client(account_sid, auth_token, http_client=TwilioHttpClient(timeout=timeout))
    if api_url != DEFAULT_API_URL:
        client.api.base_url = api_url
        # An edge or region (TWILIO_EDGE/TWILIO_REGION) rewrites *.twilio.com host names only.
        client.edge = client.region = None
    return client


@contextmanager
def _errors(doing: str) -> Iterator[None]:
    """Turns what the client raises into :class:`DialerError`."""
    try:
        yield
    except Exception as exc:
        error = _dialer_error(doing, exc)
        if error is None:
            raise
        log.warning("%s failed: %r", doing, error)
        raise error from exc


def _dialer_error(doing: str, exc: BaseException) -> DialerError | None:
    import requests
    from twilio.base.exceptions import (
        TwilioException,
        TwilioRestException,
    )

    if isinstance(exc, TwilioRestException):
        return _http_error(doing, exc.status, exc.code, exc.msg)
    if isinstance(exc, TwilioException) and len(exc.args) > 1:
        response = exc.args[1]  # a list page that failed: ("Unable to fetch page", response)
        status = getattr(response, "status_code", None)
        code, message = _error_body(getattr(response, "text", ""))
        return _http_error(doing, status, code, message or str(exc.args[0]))
    if isinstance(exc, requests.RequestException):
        reached = not isinstance(exc, requests.ConnectTimeout) and not _refused(exc)
        return DialerError(
            f"{doing}: {type(exc).__name__}: {exc}", retryable=True, unknown_outcome=reached
        )
    return None


def _http_error(doing: str, status: int | None, code: Any, message: str) -> DialerError:
    server_side = status is not None and status >= 500
    return DialerError(
        f"{doing}: {message}",
        code=code if isinstance(code, int) else None,
        status=status,
        retryable=server_side or status == 429,
        # A 5xx may come from a proxy or gateway after Twilio acted on the request.
        unknown_outcome=server_side,
    )


def _error_body(text: str) -> tuple[int | None, str]:
    try:
        body = json.loads(text)
    except ValueError:
        return None, ""
    if not isinstance(body, dict):
        return None, ""
    code = body.get("code")
    return (code if isinstance(code, int) else None), str(body.get("message", ""))


def _refused(exc: BaseException) -> bool:
    """Whether the connection was never made (so the request never left)."""
    from urllib3.exceptions import ConnectTimeoutError, NewConnectionError

    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, NewConnectionError | ConnectTimeoutError):
            return True
        reason = getattr(current, "reason", None)
        nested = (
            current.args[0] if current.args and isinstance(current.args[0], BaseException) else None
        )
        current = reason if isinstance(reason, BaseException) else nested or current.__cause__
    return False
