"""Twilio request signatures (``X-Twilio-Signature``): compute, check, rebuild the signed URL.

Usage, in one place in front of every Twilio route and the Media Streams handshake::

    sig = TwilioSignature(auth_token)
    url = public_url(config["PUBLIC_URL"], request.full_path)           # webhooks
    url = public_url(config["PUBLIC_URL"], request.full_path, "wss")    # stream handshake
    if not sig.is_valid(url, request.form, request.headers.get(SIGNATURE_HEADER)):
        abort(403)

The algorithm is Twilio's: HMAC-SHA1 keyed with the auth token over the URL followed by every
parameter name and value, names sorted and, for repeated names, values sorted and de-duplicated
(as twilio-python does), then base64. Checking tries the URL with and without the default port,
because Twilio's back end signs both forms.

Everything here fails closed: odd input gives ``False`` (or ``None``/``""``), never an exception.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterable, Mapping
from typing import TypeAlias
from urllib.parse import quote, urlparse, urlsplit

SIGNATURE_HEADER = "X-Twilio-Signature"

Params: TypeAlias = Mapping[str, object] | Iterable[tuple[str, str]] | None
"""Form parameters: a dict, a Werkzeug ``MultiDict`` (``request.form``), or ``(name, value)``
pairs. ``None`` means no parameters (GET requests and the WebSocket handshake)."""

# wss/ws are not in twilio-python's table (it would add :80 to a wss URL); 443 is the real default.
_DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443}
# Characters left alone when quoting a request path: RFC 3986 path characters plus "%", so a
# path that is already percent-encoded passes through unchanged.
_PATH_SAFE = "/%:@!$&'()*+,;=-._~"


class TwilioSignature:
    """Sign and verify Twilio webhook requests with one account's auth token.

    Args:
        auth_token: The account's primary auth token.

    Raises:
        ValueError: If ``auth_token`` is empty; a server must not start without one.
    """

    def __init__(self, auth_token: str) -> None:
        if not isinstance(auth_token, str) or not auth_token:
            raise ValueError("a Twilio auth token is required to check request signatures")
        self._key = auth_token.encode("utf-8")

    def __repr__(self) -> str:
        return "TwilioSignature(auth_token=***)"  # never print the secret

    def expected(self, url: str, params: Params = None) -> str:
        """The signature Twilio sends for ``url`` with ``params`` (the URL exactly as given).

        Args:
            url: The full URL Twilio requested, query string included.
            params: The POST parameters, or ``None`` for GET and the WebSocket handshake.

        Returns:
            The base64 signature, or ``""`` when the input cannot be signed (non-string names
            or values, unencodable text); ``""`` never validates.
        """
        grouped = _group(params)
        if not isinstance(url, str) or grouped is None:
            return ""
        return self._sign(url, grouped)

    def is_valid(self, url: str | None, params: Params, signature: str | None) -> bool:
        """Whether ``signature`` is Twilio's for ``url`` and ``params``, in constant time.

        Args:
            url: The public URL Twilio requested (see :func:`public_url`); ``None`` fails.
            params: The POST parameters (``request.form``), or ``None``/``{}`` for GET and the
                WebSocket handshake.
            signature: The ``X-Twilio-Signature`` header value; missing or empty fails.

        Returns:
            ``True`` only when the signature matches the URL with or without its default port.
        """
        if not isinstance(url, str) or not isinstance(signature, str) or not signature:
            return False
        if not signature.isascii():
            return False
        variants = _port_variants(url)
        grouped = _group(params)
        if variants is None or grouped is None:
            return False
        given = signature.encode("ascii")
        # Check every variant so the time taken does not depend on which one matched.
        matches = [hmac.compare_digest(self._sign(v, grouped).encode(), given) for v in variants]
        return any(matches)

    def _sign(self, url: str, grouped: Mapping[str, set[str]]) -> str:
        pairs = (name + value for name in sorted(grouped) for value in sorted(grouped[name]))
        text = url + "".join(pairs)
        try:
            data = text.encode("utf-8")
        except UnicodeEncodeError:  # lone surrogates: nothing Twilio could have signed
            return ""
        digest = hmac.new(self._key, data, hashlib.sha1).digest()
        return base64.b64encode(digest).decode("ascii")


def public_url(base_url: str, full_path: str, scheme: str | None = None) -> str | None:
    """Rebuild the URL Twilio signed from the configured public base URL and the request path.

    Behind a proxy the server sees ``http://internal:8000/...``; Twilio signed the public URL.

    Args:
        base_url: The public ``http(s)://host[:port][/prefix]`` address (``IVR_PUBLIC_URL``).
            Credentials in it are dropped, as Twilio drops them before signing.
        full_path: The request path and query, as Flask's ``request.full_path`` gives it (a
            trailing empty ``?`` is dropped; characters a URL cannot carry are percent-encoded).
        scheme: Another scheme for the result: ``"wss"`` (or ``"ws"``) for the Media Streams
            handshake, which Twilio signs with the ``wss://`` URL from the TwiML.

    Returns:
        The URL, or ``None`` when the base URL, path or scheme is unusable.
    """
    if not isinstance(base_url, str) or not isinstance(full_path, str):
        return None
    if any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in base_url + full_path):
        return None
    try:
        base = urlsplit(base_url.strip())
        base.port  # noqa: B018 -- raises ValueError on a malformed port
    except ValueError:
        return None
    if base.scheme not in ("http", "https") or not base.hostname or base.query or base.fragment:
        return None
    target = base.scheme if scheme is None else str(scheme).lower()
    if target not in _DEFAULT_PORTS:
        return None
    path, _, query = full_path.partition("?")
    if not path.startswith("/"):
        return None
    netloc = base.netloc.rpartition("@")[2]
    url = f"{target}://{netloc}{base.path.rstrip('/')}{quote(path, safe=_PATH_SAFE)}"
    return f"{url}?{query}" if query else url


def _group(params: object) -> dict[str, set[str]] | None:
    """Parameter values by name, or ``None`` when ``params`` is not something Twilio sends."""
    grouped: dict[str, set[str]] = {}
    if params is None:
        return grouped
    if isinstance(params, str | bytes):  # a raw JSON body is signed differently (bodySHA256)
        return None
    try:
        if isinstance(params, Mapping):
            pairs = [(name, value) for name in params for value in _values(params, name)]
        else:
            pairs = list(params)  # type: ignore[call-overload]  # checked item by item below
    except Exception:  # a broken mapping or iterable must fail the check, not the request
        return None
    for pair in pairs:
        if not isinstance(pair, tuple) or len(pair) != 2:
            return None
        name, value = pair
        if not isinstance(name, str) or not isinstance(value, str):
            return None
        grouped.setdefault(name, set()).add(value)
    return grouped


def _values(params: Mapping[str, object], name: str) -> list[object]:
    """Every value of ``name``: ``getall``/``getlist`` on multi-dicts, like twilio-python."""
    for method in ("getall", "getlist"):
        getter = getattr(params, method, None)
        if callable(getter):
            return list(getter(name))
    value = params[name]
    return list(value) if isinstance(value, list | tuple) else [value]


def _port_variants(url: str) -> tuple[str, str] | None:
    """The URL without and with its default port (twilio-python's two candidates)."""
    try:
        parsed = urlparse(url)
        port = parsed.port
    except ValueError:
        return None
    default = _DEFAULT_PORTS.get(parsed.scheme)
    if default is None or not parsed.hostname:
        return None
    if port is None:
        with_port = parsed._replace(netloc=f"{parsed.netloc}:{default}")
        return parsed.geturl(), with_port.geturl()
    without_port = parsed._replace(netloc=parsed.netloc.rsplit(":", 1)[0])
    return without_port.geturl(), parsed.geturl()
