"""One call on Twilio's side while it runs: TwiML documents executed verb by verb.

    call = Call(settings, hooks, player, caller=..., called=..., agent=..., max_seconds=120)
    result = call.run(voice_url, "POST")

The call fetches the voice webhook (signed, ``CallStatus=ringing``), runs the TwiML it gets
(``Say``, ``Play``, ``Pause``, ``Hangup``, ``Reject``, ``Redirect``, ``Dial`` with whisper and
action, ``Connect``/``Stream``), and posts the status callback when it ends. A webhook that
fails or returns bad TwiML ends the call with Twilio's "application error" announcement and the
error Twilio would log (11200, 11205, 12100, 12300) in ``result.errors``. ``<Dial>`` runs in
``twilio_emulator.dial``, ``<Connect><Stream>`` in ``twilio_emulator.connect``.

Inbound calls are made by :class:`~twilio_emulator.call.TwilioEmulator`. Outbound ones, placed
over the REST API (``twilio_emulator.outbound``), have ``Direction=outbound-api``, the first
webhook already ``in-progress``, ``AnsweredBy`` when machine detection was asked for, and the
call's own status callback events.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Protocol

from twilio_emulator import twiml
from twilio_emulator.agent import AgentBehaviour
from twilio_emulator.caller import ScriptPlayer
from twilio_emulator.connect import heard_audio, run_stream
from twilio_emulator.dial import DialRun
from twilio_emulator.result import CallError, CallResult, HeardText, WebhookExchange
from twilio_emulator.sids import new_sid
from twilio_emulator.stream import StreamSession
from twilio_emulator.webhooks import Webhooks, progress_fields

log = logging.getLogger(__name__)

APPLICATION_ERROR = "We are sorry, an application error has occurred. Goodbye."
_MAX_DOCUMENTS = 500  # a loop of redirects would otherwise never end


@dataclass(frozen=True)
class StatusCallback:
    """A call's ``StatusCallback``: where and how, and which progress events it wants.

    ``completed`` is always sent (Twilio sends only that when nothing is subscribed).
    """

    url: str
    method: str = "POST"
    events: tuple[str, ...] = ("completed",)

    @classmethod
    def of(cls, url: str, method: str = "POST", events: Iterable[str] = ()) -> StatusCallback:
        """A status callback for ``events`` (plus ``completed``)."""
        wanted = tuple(dict.fromkeys([*events, "completed"]))
        return cls(url, method.upper(), wanted)


class CallSettings(Protocol):
    """What a call takes from its emulator (:class:`~twilio_emulator.call.TwilioEmulator`)."""

    @property
    def account_sid(self) -> str:
        """The account the call belongs to."""

    @property
    def say_words_per_second(self) -> float:
        """Pace of ``<Say>``; 0 takes no time."""


class CallOver(Exception):
    """The call is over (caller, TwiML, a REST hang-up or max_seconds)."""


class Call:
    """One call's state while it runs.

    Args:
        emulator: The account and the pace of ``<Say>``.
        hooks: Signs and sends the requests.
        player: The far end's script (the caller, or the callee of an outbound call).
        caller: ``From``.
        called: ``To``.
        agent: What ``<Dial>`` legs do unless ``agents`` names their address.
        max_seconds: The far end hangs up after this long.
        direction: ``inbound`` or ``outbound-api``.
        call_sid: The call's SID (a new one by default).
        agents: Per-address behaviour of ``<Dial>`` legs.
        answered_by: ``AnsweredBy`` for every request (outbound calls with machine detection).
        status_callback: The call's status callback, if any.
    """

    def __init__(
        self,
        emulator: CallSettings,
        hooks: Webhooks,
        player: ScriptPlayer,
        *,
        caller: str,
        called: str,
        agent: AgentBehaviour,
        max_seconds: float,
        direction: str = "inbound",
        call_sid: str | None = None,
        agents: Mapping[str, AgentBehaviour] | None = None,
        answered_by: str | None = None,
        status_callback: StatusCallback | None = None,
    ) -> None:
        self.emulator = emulator
        self.hooks = hooks
        self.player = player
        self.caller = caller
        self.called = called
        self.agent = agent
        self.agents = dict(agents or {})
        self.direction = direction
        self.answered_by = answered_by
        self.status_callback = status_callback
        self.clock: Callable[[], float] = time.monotonic
        started = self.clock()
        self.result = CallResult(call_sid or new_sid("CA"), emulator.account_sid, started)
        self.deadline = started + max_seconds
        self.answered = False
        self.answered_at: float | None = None
        self.hung_up = threading.Event()  # set from another thread: a REST hang-up
        self.streams: list[StreamSession] = []
        self.callbacks: list[threading.Thread] = []
        self._sequence = 0
        #: Told ``(status, duration)`` when the call is over, before the ``completed`` callback.
        self.ended: Callable[[str, int], None] | None = None
        self.log_extra = {"call_id": self.result.call_sid}

    def agent_for(self, address: str) -> AgentBehaviour:
        """What the phone at ``address`` does when a ``<Dial>`` rings it."""
        return self.agents.get(address, self.agent)

    def hang_up(self) -> None:
        """End the call from outside (REST ``Status=completed``): at the next verb or pause."""
        self.hung_up.set()

    # --- the call ---------------------------------------------------------------------------

    def run(
        self, voice_url: str, voice_method: str, *, first_status: str = "ringing"
    ) -> CallResult:
        """Fetch the voice URL, run its TwiML to the end, send the status callback."""
        log.info("call placed to %s", voice_url, extra=self.log_extra)
        try:
            verbs = self.fetch("voice", voice_url, voice_method, {}, status=first_status)
        except CallOver:
            verbs = None
        self.execute_document(verbs)
        self.finish()
        return self.result

    def execute_document(self, verbs: list[twiml.Verb] | None) -> None:
        """Run verbs, and the documents they lead to, until the call is over."""
        documents = 1
        try:
            while verbs:
                if self.clock() >= self.deadline or self.hung_up.is_set():
                    raise CallOver
                verb = verbs.pop(0)
                next_document = self.execute(verb)
                if next_document is not None:
                    documents += 1
                    if documents > _MAX_DOCUMENTS:
                        self.error("twiml", None, f"more than {_MAX_DOCUMENTS} TwiML documents")
                        raise CallOver
                    verbs = next_document
        except CallOver:
            pass

    def execute(self, verb: twiml.Verb) -> list[twiml.Verb] | None:
        """Run one verb; a new document to continue with, or ``None`` for the next verb."""
        if isinstance(verb, twiml.Reject):
            if not self.answered:  # the first verb: Twilio never picks up
                self.result.status = "busy" if verb.reason == "busy" else "no-answer"
            raise CallOver
        self.answered = True
        if isinstance(verb, twiml.Say):
            for _ in range(verb.loop or 1000):
                self.say(verb.text, "say", verb.voice, verb.language)
        elif isinstance(verb, twiml.Play):
            for _ in range(verb.loop or 1000):
                self.result.heard.append(HeardText(self.clock(), verb.url, "play"))
        elif isinstance(verb, twiml.Pause):
            self.sleep(verb.length)
        elif isinstance(verb, twiml.Hangup):
            raise CallOver
        elif isinstance(verb, twiml.Redirect):
            return self.fetch_or_end("redirect", verb.url, verb.method, {})
        elif isinstance(verb, twiml.Dial):
            return self.dial(verb)
        elif isinstance(verb, twiml.Connect):
            return self.connect(verb)
        return None

    @property
    def say_pace(self) -> float:
        """Words per second of ``<Say>`` (0: no time)."""
        return self.emulator.say_words_per_second

    def say(self, text: str, kind: str, voice: str | None = None, lang: str | None = None) -> None:
        """The caller hears ``text``; it takes words / pace seconds."""
        self.result.heard.append(HeardText(self.clock(), text, kind, voice, lang))
        if self.say_pace:
            self.sleep(len(text.split()) / self.say_pace)

    def sleep(self, seconds: float) -> None:
        """Let time pass on the line; the caller hangs up at the deadline."""
        remaining = self.deadline - self.clock()
        if self.hung_up.wait(max(0.0, min(seconds, remaining))) or seconds >= remaining:
            raise CallOver

    def dial(self, verb: twiml.Dial) -> list[twiml.Verb] | None:
        """Run ``<Dial>``; a new document (the ``action``) or ``None``."""
        attempt = DialRun(self, verb).run()
        if verb.action is None:
            return None
        extra = {"DialCallStatus": attempt.outcome, "DialCallSid": attempt.call_sid}
        if attempt.answered_at is not None and attempt.ended_at is not None:
            extra["DialCallDuration"] = str(round(attempt.ended_at - attempt.answered_at))
        extra["DialBridged"] = "true" if attempt.bridged else "false"
        return self.fetch_or_end("dial-action", verb.action, verb.method, extra)

    def connect(self, verb: twiml.Connect) -> list[twiml.Verb] | None:
        """Run ``<Connect><Stream>``; a new document (the ``action``) or ``None``."""
        if run_stream(self, verb.stream) in ("hangup", "max-seconds"):
            raise CallOver
        if verb.action:
            return self.fetch_or_end("connect-action", verb.action, verb.method, {})
        return None

    # --- webhooks ---------------------------------------------------------------------------

    def params(self, status: str = "in-progress") -> dict[str, str]:
        """Twilio's standard voice request parameters (twilio.md 3.1)."""
        params = {
            "AccountSid": self.result.account_sid,
            "ApiVersion": "2010-04-01",
            "CallSid": self.result.call_sid,
            "CallStatus": status,
            "Called": self.called,
            "Caller": self.caller,
            "Direction": self.direction,
            "From": self.caller,
            "To": self.called,
        }
        if self.answered_by is not None:
            params["AnsweredBy"] = self.answered_by
        return params

    def fetch(
        self,
        purpose: str,
        url: str,
        method: str,
        extra: dict[str, str],
        *,
        status: str = "in-progress",
        base: dict[str, str] | None = None,
    ) -> list[twiml.Verb] | None:
        """Request TwiML; ``None`` (error recorded, Twilio's announcement heard) on failure."""
        exchange = self.request(purpose, url, method, {**(base or self.params(status)), **extra})
        if exchange.error is not None:
            self.application_error(exchange.error)
            return None
        try:
            return self.document(exchange)
        except twiml.TwimlError as exc:
            error = self.error(
                "unsupported" if exc.code is None else "twiml", exc.code, str(exc), exchange.url
            )
            exchange.error = error
            if exc.code is not None:
                self.say(APPLICATION_ERROR, "twilio")
            return None

    def fetch_or_end(
        self, purpose: str, url: str, method: str, extra: dict[str, str]
    ) -> list[twiml.Verb]:
        """Request TwiML; the call ends if that fails."""
        verbs = self.fetch(purpose, url, method, extra)
        if verbs is None:
            raise CallOver
        return verbs

    def request(
        self, purpose: str, url: str, method: str, params: dict[str, str]
    ) -> WebhookExchange:
        """Make one signed request and record the exchange."""
        exchange = self.hooks.request(purpose, url, method, params)
        self.result.webhooks.append(exchange)
        log.info(
            "%s %s -> %s in %.0f ms",
            method,
            exchange.url,
            exchange.status_code,
            exchange.elapsed_ms,
            extra=self.log_extra,
        )
        return exchange

    def document(self, exchange: WebhookExchange) -> list[twiml.Verb]:
        """The verbs of a response, by its content type, as Twilio reads it."""
        return twiml.read_response(exchange.body, exchange.content_type, exchange.url)

    def application_error(self, error: CallError) -> None:
        """Record ``error``; the caller hears Twilio's announcement."""
        self.result.errors.append(error)
        log.warning("application error: %s", error.message, extra=self.log_extra)
        self.say(APPLICATION_ERROR, "twilio")

    def error(self, kind: str, code: int | None, message: str, url: str | None = None) -> CallError:
        """Record an error Twilio would log."""
        error = CallError(kind, code, message, self.clock(), url)
        self.result.errors.append(error)
        log.warning("%s error %s: %s", kind, code, message, extra=self.log_extra)
        return error

    def post_async(self, purpose: str, url: str, method: str, params: dict[str, str]) -> None:
        """A callback whose answer Twilio ignores, sent without holding up the call."""
        thread = threading.Thread(
            target=self.request, args=(purpose, url, method, params), name=f"callback-{purpose}"
        )
        thread.start()
        self.callbacks.append(thread)

    # --- the end ----------------------------------------------------------------------------

    def progress(self, event: str, status: str, extra: Mapping[str, str] | None = None) -> None:
        """A call progress event for the status callback, if it subscribed to ``event``.

        ``completed`` is sent and answered before the call is over; the others go in the
        background, as Twilio's may arrive out of order (``SequenceNumber`` orders them).
        """
        callback = self.status_callback
        if callback is None or event not in callback.events:
            return
        params = {**self.params(status), **progress_fields(self._sequence), **(extra or {})}
        self._sequence += 1
        if event == "completed":
            self.request("status-callback", callback.url, callback.method, params)
        else:
            self.post_async("status-callback", callback.url, callback.method, params)

    def duration(self, end: float) -> int:
        """Whole seconds from the answer to ``end``; 0 for a call never answered."""
        if not self.answered:
            return 0
        answered_at = self.result.started_at if self.answered_at is None else self.answered_at
        return round(end - answered_at)

    def finish(self) -> None:
        """The call is over: its status, what was heard, the ``completed`` callback."""
        end = self.clock()
        self.result.ended_at = end
        if self.result.status == "in-progress":
            self.result.status = "completed"
        self.result.audio = heard_audio(self.streams, self.result.started_at, end)
        duration = self.duration(end)
        extra = {"CallDuration": str(duration)}
        if self.result.status == "completed":
            extra["Duration"] = str(math.ceil(duration / 60))
        if self.ended is not None:
            self.ended(self.result.status, duration)
        self.progress("completed", self.result.status, extra)
        for thread in self.callbacks:
            thread.join()
        log.info(
            "call %s after %.1f s",
            self.result.status,
            end - self.result.started_at,
            extra=self.log_extra,
        )
