"""TwiML as Twilio reads it: a document becomes a list of verb dataclasses.

Usage::

    verbs = parse_twiml(response_text, document_url="https://ivr.example.test/twilio/voice")
    verbs = read_response(exchange.body, exchange.content_type, exchange.url)  # by content type

Relative URLs are resolved against ``document_url`` here, as Twilio does, so every URL in the
result is absolute; a ``<Stream>`` URL is given the ``wss`` scheme. A document Twilio could not
execute raises :class:`TwimlError` (error 12100, "document parse failure"); valid TwiML the
emulator does not implement (``<Gather>``, ``<Record>``...) raises :class:`UnsupportedTwiml`.
The verb dataclasses live in ``twilio_emulator.twiml_verbs`` and are re-exported here.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import TypedDict
from urllib.parse import urljoin, urlsplit, urlunsplit

from twilio_emulator.twiml_verbs import (
    DOCUMENT_PARSE_FAILURE,
    Client,
    Connect,
    Dial,
    DialTarget,
    Hangup,
    Number,
    Pause,
    Play,
    Redirect,
    Reject,
    Say,
    Sip,
    Stream,
    TwimlError,
    UnsupportedTwiml,
    Verb,
)

__all__ = [
    "DOCUMENT_PARSE_FAILURE",
    "INVALID_CONTENT_TYPE",
    "Client",
    "Connect",
    "Dial",
    "DialTarget",
    "Hangup",
    "Number",
    "Pause",
    "Play",
    "Redirect",
    "Reject",
    "Say",
    "Sip",
    "Stream",
    "TwimlError",
    "UnsupportedTwiml",
    "Verb",
    "parse_twiml",
    "read_response",
]

#: Twilio's error code for a response whose content type is neither TwiML, text nor audio.
INVALID_CONTENT_TYPE = 12300
_TWIML_TYPES = ("text/xml", "application/xml", "text/html")

#: Verbs and nouns Twilio knows but this emulator does not run.
_UNSUPPORTED = frozenset(
    {
        "Gather",
        "Record",
        "Enqueue",
        "Leave",
        "Start",
        "Stop",
        "Pay",
        "Prompt",
        "Refer",
        "Sms",
        "Message",
        "Echo",
        "Queue",
        "Conference",
        "Application",
        "Room",
        "Conversation",
        "VirtualAgent",
        "ConversationRelay",
        "Assistant",
    }
)


def parse_twiml(text: str, document_url: str) -> list[Verb]:
    """Parse a TwiML document into its verbs, URLs made absolute.

    Args:
        text: The response body.
        document_url: The (public) URL the document was fetched from.

    Returns:
        The verbs under ``<Response>``, in order.

    Raises:
        TwimlError: Malformed XML, a root other than ``<Response>``, an unknown verb or noun
            (names are case-sensitive), or an attribute Twilio would refuse.
        UnsupportedTwiml: Valid TwiML outside what the emulator runs.
    """
    try:
        root = ET.fromstring(text)
    except ET.ParseError as exc:
        raise TwimlError(f"malformed XML: {exc}") from None
    if root.tag != "Response":
        raise TwimlError(f"the root element is <{root.tag}>, not <Response>")
    return [_verb(element, document_url) for element in root]


def read_response(body: str, content_type: str, url: str) -> list[Verb]:
    """A webhook's response as Twilio reads it, by its content type.

    TwiML types (``text/html`` too: an inference) are parsed; ``text/plain`` is parsed when it is
    TwiML and otherwise read out; audio is played. Text and audio then hang up.

    Raises:
        TwimlError: TwiML Twilio would refuse, or another content type (12300).
        UnsupportedTwiml: Valid TwiML outside what the emulator runs.
    """
    kind = content_type.split(";", 1)[0].strip().lower()
    if kind in _TWIML_TYPES:
        return parse_twiml(body, url)
    if kind == "text/plain":
        try:
            return parse_twiml(body, url)
        except UnsupportedTwiml:
            raise
        except TwimlError:  # not TwiML: Twilio reads the text out and hangs up
            return [Say(body.strip()), Hangup()]
    if kind.startswith("audio/"):
        return [Play(url), Hangup()]
    raise TwimlError(f"Content-Type {kind or '(none)'!r} is not TwiML", code=INVALID_CONTENT_TYPE)


def _verb(element: ET.Element, base: str) -> Verb:
    tag = element.tag
    if tag == "Say":
        return Say(
            text=" ".join("".join(element.itertext()).split()),
            voice=element.get("voice"),
            language=element.get("language"),
            loop=_int(element, "loop", 1, minimum=0),
        )
    if tag == "Play":
        return Play(
            url=_url(_body(element, required=True), base),
            loop=_int(element, "loop", 1, minimum=0),
            digits=element.get("digits"),
        )
    if tag == "Pause":
        return Pause(length=_float(element, "length", 1.0))
    if tag == "Hangup":
        return Hangup()
    if tag == "Reject":
        reason = element.get("reason", "rejected")
        if reason not in ("rejected", "busy"):
            raise TwimlError(f"<Reject reason={reason!r}>: expected 'rejected' or 'busy'")
        return Reject(reason=reason)
    if tag == "Redirect":
        return Redirect(url=_url(_body(element, required=True), base), method=_method(element))
    if tag == "Dial":
        return _dial(element, base)
    if tag == "Connect":
        return _connect(element, base)
    raise _unknown(tag, "verb")


def _dial(element: ET.Element, base: str) -> Dial:
    targets: list[DialTarget] = []
    for child in element:
        if child.tag == "Number":
            targets.append(Number(number=_body(child, required=True), **_leg(child, base)))
        elif child.tag == "Client":
            identity = _body(child) or _identity(child)
            if not identity:
                raise TwimlError("<Client> needs an identity")
            targets.append(Client(identity=identity, **_leg(child, base)))
        elif child.tag == "Sip":
            targets.append(Sip(uri=_body(child, required=True), **_leg(child, base)))
        else:
            raise _unknown(child.tag, "noun in <Dial>")
    if not targets:
        number = _body(element)
        if not number:
            raise TwimlError("<Dial> has nothing to dial")
        targets.append(Number(number=number))
    if len(targets) > 10:
        raise TwimlError(f"<Dial> has {len(targets)} targets; Twilio rings at most 10")
    action = element.get("action")
    return Dial(
        targets=tuple(targets),
        action=_url(action, base) if action else None,
        method=_method(element),
        timeout=_int(element, "timeout", 30, minimum=1),
        caller_id=element.get("callerId"),
        time_limit=_int(element, "timeLimit", 14400, minimum=1),
    )


class _LegAttributes(TypedDict):
    url: str | None
    method: str
    status_callback: str | None
    status_callback_event: tuple[str, ...]
    status_callback_method: str


def _leg(element: ET.Element, base: str) -> _LegAttributes:
    """The attributes ``<Number>``, ``<Client>`` and ``<Sip>`` share."""
    url, callback = element.get("url"), element.get("statusCallback")
    events = tuple(element.get("statusCallbackEvent", "completed").split())
    unknown = set(events) - {"initiated", "ringing", "answered", "completed"}
    if unknown:
        raise TwimlError(f"<{element.tag} statusCallbackEvent>: unknown {sorted(unknown)}")
    return {
        "url": _url(url, base) if url else None,
        "method": _method(element),
        "status_callback": _url(callback, base) if callback else None,
        "status_callback_event": events,
        "status_callback_method": _method(element, "statusCallbackMethod"),
    }


def _identity(element: ET.Element) -> str:
    for child in element:
        if child.tag == "Identity":
            return (child.text or "").strip()
        if child.tag != "Parameter":
            raise _unknown(child.tag, "noun in <Client>")
    return ""


def _connect(element: ET.Element, base: str) -> Connect:
    children = list(element)
    if len(children) != 1:
        raise TwimlError(f"<Connect> needs exactly one noun, found {len(children)}")
    child = children[0]
    if child.tag != "Stream":
        raise _unknown(child.tag, "noun in <Connect>")
    action = element.get("action")
    return Connect(
        stream=_stream(child, base),
        action=_url(action, base) if action else None,
        method=_method(element),
    )


def _stream(element: ET.Element, base: str) -> Stream:
    url = element.get("url")
    if not url:
        raise TwimlError("<Stream> needs a url")
    parameters: dict[str, str] = {}
    for child in element:
        if child.tag != "Parameter":
            raise _unknown(child.tag, "noun in <Stream>")
        name, value = child.get("name"), child.get("value", "")
        if not name:
            raise TwimlError("<Parameter> needs a name")
        if len(name) + len(value) >= 500:
            raise TwimlError(f"<Parameter name={name!r}>: name and value must be under 500 chars")
        parameters[name] = value
    callback = element.get("statusCallback")
    return Stream(
        url=_websocket_url(_url(url, base)),
        name=element.get("name"),
        parameters=parameters,
        status_callback=_url(callback, base) if callback else None,
        status_callback_method=_method(element, "statusCallbackMethod"),
    )


def _unknown(tag: str, what: str) -> TwimlError:
    if tag in _UNSUPPORTED:
        return UnsupportedTwiml(f"<{tag}> is valid TwiML but the emulator does not implement it")
    return TwimlError(f"<{tag}> is not a TwiML {what} (names are case-sensitive)")


def _body(element: ET.Element, *, required: bool = False) -> str:
    text = (element.text or "").strip()
    if required and not text:
        raise TwimlError(f"<{element.tag}> needs a value in its body")
    return text


def _url(value: str, base: str) -> str:
    return urljoin(base, value.strip())


def _websocket_url(url: str) -> str:
    """A relative stream URL resolves against the https document; Twilio connects with wss."""
    parts = urlsplit(url)
    scheme = {"https": "wss", "http": "ws"}.get(parts.scheme, parts.scheme)
    return urlunsplit(parts._replace(scheme=scheme))


def _method(element: ET.Element, name: str = "method") -> str:
    method = element.get(name, "POST").upper()
    if method not in ("GET", "POST"):
        raise TwimlError(f"<{element.tag} {name}={method!r}>: expected GET or POST")
    return method


def _int(element: ET.Element, name: str, default: int, *, minimum: int) -> int:
    raw = element.get(name)
    if raw is None:
        return default
    try:
        value = int(raw.strip())
    except ValueError:
        raise TwimlError(f"<{element.tag} {name}={raw!r}>: not a whole number") from None
    if value < minimum:
        raise TwimlError(f"<{element.tag} {name}={raw!r}>: must be at least {minimum}")
    return value


def _float(element: ET.Element, name: str, default: float) -> float:
    raw = element.get(name)
    if raw is None:
        return default
    try:
        value = float(raw.strip())
    except ValueError:
        raise TwimlError(f"<{element.tag} {name}={raw!r}>: not a number") from None
    if not 0 <= value <= 3600:
        raise TwimlError(f"<{element.tag} {name}={raw!r}>: out of range")
    return value
