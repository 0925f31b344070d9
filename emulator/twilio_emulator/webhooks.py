"""Twilio's HTTP side: signed webhook requests to the public URL, delivered to the local server.

A TLS proxy stands in front of the server: Twilio requests and signs
``https://ivr.example.test/twilio/voice``; the request goes to ``http://127.0.0.1:8123/twilio/voice``.
URLs outside the public prefix are requested as they are.

    hooks = Webhooks(server_url, public_url, auth_token)
    exchange = hooks.request("voice", public_url + "/twilio/voice", "POST", params, now)

Request failures do not raise: the exchange carries the :class:`~twilio_emulator.result.CallError`
Twilio would log (11205 no connection or timeout, 11200 non-2xx, 11215 too many redirects).
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from email.utils import format_datetime
from urllib.parse import urlencode, urljoin, urlsplit, urlunsplit

import httpx

from ivr.twilio.signature import SIGNATURE_HEADER, TwilioSignature
from twilio_emulator.result import CallError, WebhookExchange

HTTP_RETRIEVAL_FAILURE = 11200
HTTP_CONNECTION_FAILURE = 11205
TOO_MANY_REDIRECTS = 11215
_MAX_REDIRECTS = 10
_STANDARD = ("CallSid", "AccountSid", "From", "To", "Caller", "Called", "CallStatus", "ApiVersion")
_STANDARD_EXTRA = ("Direction", "ParentCallSid", "ForwardedFrom", "CallerName", "CallToken")


class Webhooks:
    """Signs and sends Twilio's requests; maps public URLs to the server.

    Args:
        server_url: Where the server really listens, e.g. ``http://127.0.0.1:8123``.
        public_url: The address Twilio uses and signs, e.g. ``https://ivr.example.test``.
        auth_token: The account's auth token (the signing key).
        timeout: Twilio's limit for a response, in seconds (15).
        clock: Monotonic clock for the exchange times.
    """

    def __init__(
        self,
        server_url: str,
        public_url: str,
        auth_token: str,
        *,
        timeout: float = 15.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.server_url = server_url.rstrip("/")
        self.public_url = public_url.rstrip("/")
        self.signer = TwilioSignature(auth_token)
        self._clock = clock
        # Twilio: 10 s to open TCP, 15 s in all; redirects are followed by hand (see request).
        self._http = httpx.Client(
            timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
            follow_redirects=False,
            headers={"User-Agent": "TwilioProxy/1.1"},
        )

    def close(self) -> None:
        """Close the HTTP connection pool."""
        self._http.close()

    def public(self, path: str) -> str:
        """The public URL of ``path`` (``/twilio/voice``)."""
        return self.public_url + "/" + path.lstrip("/")

    def to_server(self, url: str) -> str:
        """Where a public URL is really delivered; ``wss://public/...`` maps to ``ws://server/...``."""
        public = urlsplit(self.public_url)
        target = urlsplit(url)
        secure_alias = {"https": "wss", "http": "ws"}
        same_scheme = target.scheme in (public.scheme, secure_alias.get(public.scheme))
        prefix = public.path.rstrip("/")
        if not (same_scheme and target.netloc == public.netloc and target.path.startswith(prefix)):
            return url
        server = urlsplit(self.server_url)
        scheme = server.scheme
        if target.scheme in ("ws", "wss"):
            scheme = {"https": "wss", "http": "ws"}[server.scheme]
        path = server.path.rstrip("/") + target.path[len(prefix) :]
        return urlunsplit((scheme, server.netloc, path or "/", target.query, ""))

    def request(
        self, purpose: str, url: str, method: str, params: Mapping[str, str]
    ) -> WebhookExchange:
        """Make one Twilio request, following redirects as Twilio does.

        A GET carries the parameters in the query string and is signed with no body
        parameters; a POST is form-encoded and signed over URL and parameters. A 301/302/303/
        307/308 is followed as a GET carrying only the standard parameters (Twilio drops the
        verb-specific ones), at most 10 times.

        Args:
            purpose: What the request is for, recorded in the exchange (``voice``, ``whisper``).
            url: The absolute public URL (a fragment, such as connection overrides, is dropped).
            method: ``GET`` or ``POST``.
            params: The form parameters.

        Returns:
            The exchange for the last request made; ``error`` set if Twilio would log one.
        """
        url = url.split("#", 1)[0]
        params = dict(params)
        started = self._clock()
        for _ in range(_MAX_REDIRECTS + 1):
            exchange = self._send(purpose, url, method, params, started)
            location = exchange.error is None and _redirect_location(exchange)
            if not location:
                return exchange
            url = urljoin(url, location)
            method = "GET"
            params = {k: v for k, v in params.items() if k in _STANDARD + _STANDARD_EXTRA}
        exchange.error = CallError(
            "webhook", TOO_MANY_REDIRECTS, f"more than {_MAX_REDIRECTS} redirects", started, url
        )
        return exchange

    def _send(
        self, purpose: str, url: str, method: str, params: dict[str, str], started: float
    ) -> WebhookExchange:
        if method == "GET":
            parts = urlsplit(url)
            query = "&".join(q for q in (parts.query, urlencode(params)) if q)
            signed_url = urlunsplit(parts._replace(query=query))
            signature = self.signer.expected(signed_url)
            body: dict[str, str] | None = None
        else:
            signed_url, signature, body = url, self.signer.expected(url, params), params
        exchange = WebhookExchange(
            purpose, method, signed_url, dict(params), signature, started, 0.0
        )
        headers = {
            SIGNATURE_HEADER: signature,
            "I-Twilio-Idempotency-Token": secrets.token_hex(16),
        }
        try:
            response = self._http.request(
                method, self.to_server(signed_url), data=body, headers=headers
            )
        except httpx.HTTPError as exc:
            exchange.elapsed_ms = (self._clock() - started) * 1000
            exchange.error = CallError(
                "webhook",
                HTTP_CONNECTION_FAILURE,
                f"{method} {signed_url}: {type(exc).__name__}: {exc}",
                self._clock(),
                signed_url,
            )
            return exchange
        exchange.elapsed_ms = (self._clock() - started) * 1000
        exchange.status_code = response.status_code
        exchange.content_type = response.headers.get("content-type", "")
        exchange.body = response.text
        exchange.location = response.headers.get("location", "")
        if not (200 <= response.status_code < 300 or _redirect_location(exchange)):
            exchange.error = CallError(
                "webhook",
                HTTP_RETRIEVAL_FAILURE,
                f"{method} {signed_url} answered HTTP {response.status_code}",
                self._clock(),
                signed_url,
            )
        return exchange


def progress_fields(sequence: int) -> dict[str, str]:
    """What every call progress callback carries besides the call's parameters."""
    return {
        "CallbackSource": "call-progress-events",
        "SequenceNumber": str(sequence),
        "Timestamp": format_datetime(datetime.now(UTC)),
    }


def _redirect_location(exchange: WebhookExchange) -> str:
    if exchange.status_code in (301, 302, 303, 307, 308):
        return exchange.location
    return ""
