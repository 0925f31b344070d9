"""The browser phone's page and its JSON and event routes (see :mod:`ivr.browser_phone`)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator, Mapping
from datetime import timedelta
from typing import Any

import phonenumbers
from flask import (
    Blueprint,
    Response,
    abort,
    render_template,
    request,
    stream_with_context,
    url_for,
)

from ivr.browser_phone.network import BrowserCalls, to_this_server
from ivr.call.watch import Feed, LiveCalls
from ivr.parts import Parts
from ivr.stream_tokens import PASS_PARAMETER
from ivr.wiring import use
from voice.asr import vosk_language

blueprint = Blueprint("pages", __name__)

#: The number callers dial unless the page says otherwise (the one `ivr call` dials).
LINE_NUMBER = "+442079460000"
#: What a dialled agent may do, as the page offers it.
AGENT_CHOICES = ("answered", "no-answer", "busy")
#: The furthest the page may move a call's clock, either way.
MAX_OFFSET_HOURS = 24 * 14
#: A call's event stream ends this long after the call did (late records still arrive).
AFTER_END_SECONDS = 1.0
KEEPALIVE_SECONDS = 15.0
#: Feeds of calls whose page never came for them are dropped after this long.
UNCLAIMED_SECONDS = 600.0


class Waiting:
    """Feeds opened when a call is placed, until the page's event stream takes them."""

    def __init__(self) -> None:
        self._feeds: dict[str, tuple[Feed, float]] = {}
        self._lock = threading.Lock()

    def keep(self, call_id: str, feed: Feed) -> None:
        """Hold ``feed`` for the page; forget feeds nobody came for."""
        now = time.monotonic()
        with self._lock:
            for stale in [k for k, (_, at) in self._feeds.items() if now - at > UNCLAIMED_SECONDS]:
                self._feeds.pop(stale)[0].close()
            self._feeds[call_id] = (feed, now)

    def take(self, call_id: str) -> Feed | None:
        """The feed of ``call_id``, once."""
        with self._lock:
            kept = self._feeds.pop(call_id, None)
        return kept[0] if kept else None


@blueprint.get("")
def page() -> str:
    """The browser phone."""
    parts = use(Parts)
    return render_template(
        "simulator.html",
        flow=parts.flow,
        speech=bool(parts.recognizers),
        not_heard=parts.recognizers.deaf,
        download=" ".join(vosk_language(lang) for lang in parts.recognizers.deaf if lang != "lv"),
        pass_parameter=PASS_PARAMETER,
        caller=request.args.get("caller", "+447700900123"),
        called=LINE_NUMBER,
        agent_choices=AGENT_CHOICES,
    )


@blueprint.get("/status")
def status() -> dict[str, Any]:
    """What the page's banners say: a refused flow edit, the NLU model, speech."""
    parts = use(Parts)
    return {
        "flow": parts.flow.name,
        "refused": list(parts.flows.refused),
        "nlu": parts.nlu.model_state(parts.flow),
        "speech": bool(parts.recognizers),
        "prompts": "ready" if parts.prompts_ready.is_set() else "warming",
    }


@blueprint.post("/calls")
def place() -> tuple[dict[str, Any], int]:
    """Place a call from the page; 400 with a message for a bad number, offset or choice."""
    form = _json_body()
    caller = _phone_number(form.get("caller"), "caller")
    called = _phone_number(form.get("called") or LINE_NUMBER, "called")
    agents = str(form.get("agents") or "answered")
    if agents not in AGENT_CHOICES:
        abort(400, f"agents must be one of {', '.join(AGENT_CHOICES)}")
    offset = _offset_hours(form.get("clock_offset_hours"))
    text_only = form.get("text_only") is True
    calls, waiting = use(LiveCalls), use(Waiting)

    def before_it_rings(call_id: str) -> None:  # nothing the call does may be missed
        calls.shift_clock(call_id, offset)
        if text_only:
            calls.type_only(call_id)
        waiting.keep(call_id, calls.watch(call_id))

    config = use(Parts).config
    placing = to_this_server(request.host_url, config, caller, called, agents)
    call_id = use(BrowserCalls).place(placing, before_it_rings)
    events = url_for("simulator.pages.events", call_id=call_id)
    return {"call_id": call_id, "events": events, "clock": calls.now(call_id).isoformat()}, 201


@blueprint.get("/calls/<call_id>/events")
def events(call_id: str) -> Response:
    """The call's events as server-sent events, until it has ended."""
    feed = use(Waiting).take(call_id)
    if feed is None:
        abort(404, "no such call waiting for its page (each call's events are read once)")
    return Response(
        stream_with_context(_stream(feed)),
        mimetype="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


@blueprint.post("/calls/<call_id>/typed")
def typed(call_id: str) -> tuple[dict[str, Any], int]:
    """A typed line into the running call, as the caller's next turn."""
    text = str(_json_body().get("text") or "").strip()
    if not text or len(text) > 500:
        abort(400, "type between 1 and 500 characters")
    call = use(LiveCalls).find(call_id) if use(BrowserCalls).owns(call_id) else None
    if call is None:  # only the browser phone's own calls take typed lines
        abort(409, "the bot is not listening on this call (no stream is open)")
    call.typed(text)
    return {"typed": text}, 202


@blueprint.post("/calls/<call_id>/stream-ended")
def stream_ended(call_id: str) -> tuple[dict[str, Any], int]:
    """The page's socket closed: the network goes on with the ``<Connect action>``."""
    if not use(BrowserCalls).stream_ended(call_id):
        abort(404, "no such call")
    return {"ok": True}, 202


@blueprint.post("/calls/<call_id>/hangup")
def hang_up(call_id: str) -> tuple[dict[str, Any], int]:
    """The caller hung up."""
    if not use(BrowserCalls).hang_up(call_id):
        abort(404, "no such call")
    return {"ok": True}, 202


@blueprint.errorhandler(400)
@blueprint.errorhandler(404)
@blueprint.errorhandler(409)
def refused(error: Any) -> tuple[dict[str, str], int]:
    """Errors as JSON the page can show."""
    return {"error": str(error.description)}, int(error.code)


def _stream(feed: Feed) -> Iterator[str]:
    ended_at: float | None = None
    quiet_since = time.monotonic()
    try:
        while ended_at is None or time.monotonic() - ended_at < AFTER_END_SECONDS:
            event = feed.next(timeout=0.25)
            if event is None:
                if time.monotonic() - quiet_since > KEEPALIVE_SECONDS:
                    quiet_since = time.monotonic()
                    yield ": keep-alive\n\n"
                continue
            kind, data = event
            if kind == "call_ended":
                ended_at = time.monotonic()
            yield f"event: {kind}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n"
    finally:
        feed.close()


def _json_body() -> Mapping[str, Any]:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        abort(400, "send a JSON object")
    return body


def _phone_number(value: object, name: str) -> str:
    """An E.164 number (``+`` and country code), or 400 naming the field."""
    text = str(value or "").strip()
    try:
        number = phonenumbers.parse(text, None)
    except phonenumbers.NumberParseException:
        number = None
    if number is None or not phonenumbers.is_possible_number(number):
        abort(400, f"{name}: {text[:30]!r} is not a phone number in international form (+44...)")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _offset_hours(value: object) -> timedelta:
    try:
        hours = float(str(value or 0))
    except ValueError:
        hours = float("nan")
    if not -MAX_OFFSET_HOURS <= hours <= MAX_OFFSET_HOURS:  # NaN fails too
        abort(400, f"clock offset must be a number of hours within ±{MAX_OFFSET_HOURS}")
    return timedelta(hours=hours)
