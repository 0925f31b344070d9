"""A stand-in for Twilio's side of a phone call, following twilio.md.

Usage::

    emulator = TwilioEmulator(
        server_url="http://127.0.0.1:8123",        # where the server really listens
        public_url="https://ivr.example.test",     # what Twilio would call and sign
        auth_token=token,
    )
    result = emulator.call(parse_script(text, path), agent=AgentBehaviour("busy"))
    assert result.ok, result.errors

The call fetches the voice webhook (signed, ``CallStatus=ringing``), runs the TwiML it gets
(``Say``, ``Play``, ``Pause``, ``Hangup``, ``Reject``, ``Redirect``, ``Dial`` with whisper and
action, ``Connect``/``Stream``), and posts the status callback when it ends. A webhook that
fails or returns bad TwiML ends the call with Twilio's "application error" announcement and the
error Twilio would log (11200, 11205, 12100, 12300) in ``result.errors``.

The same machinery runs outbound calls placed over the REST API (``twilio_emulator.outbound``):
``Direction=outbound-api``, the first webhook already ``in-progress``, ``AnsweredBy`` when
machine detection was asked for, and the call's own status callback events.
"""

from __future__ import annotations

import logging
import math
import secrets
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import numpy as np

from twilio_emulator import twiml
from twilio_emulator.agent import AgentBehaviour
from twilio_emulator.caller import ScriptPlayer, Speak, Step, render_script
from twilio_emulator.dial import DialRun
from twilio_emulator.playback import SILENCE
from twilio_emulator.result import CallError, CallResult, HeardText, WebhookExchange
from twilio_emulator.stream import HANDSHAKE_REFUSED, StreamSession, StreamTarget
from twilio_emulator.webhooks import Webhooks, progress_fields

if TYPE_CHECKING:
    from voice.tts import Synthesizer

log = logging.getLogger(__name__)

APPLICATION_ERROR = "We are sorry, an application error has occurred. Goodbye."
INVALID_CONTENT_TYPE = 12300
_TWIML_TYPES = ("text/xml", "application/xml", "text/html")
_MAX_DOCUMENTS = 500  # a loop of redirects would otherwise never end


def new_sid(prefix: str) -> str:
    """A Twilio-shaped SID: two letters and 32 lowercase hex digits."""
    return prefix + secrets.token_hex(16)


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


class TwilioEmulator:
    """Places emulated inbound calls to a server, as Twilio would.

    Args:
        server_url: Where the server listens (``http://127.0.0.1:8123``).
        public_url: The public base URL Twilio signs (``https://ivr.example.test``).
        auth_token: The account's auth token.
        account_sid: ``AC`` + 32 hex digits; a random one by default.
        say_words_per_second: Pace of ``<Say>`` (words / this = seconds); 0 takes no time.
        wait_settle: Seconds the bot must be quiet before a script ``wait`` ends.
        http_timeout: Twilio's 15 s limit for a webhook response.
        synthesizer: Speaks the script's ``say`` lines; espeak-ng by default.
    """

    def __init__(
        self,
        server_url: str,
        public_url: str,
        auth_token: str,
        account_sid: str | None = None,
        *,
        say_words_per_second: float = 2.5,
        wait_settle: float = 0.3,
        http_timeout: float = 15.0,
        synthesizer: Synthesizer | None = None,
    ) -> None:
        if say_words_per_second < 0:
            raise ValueError("say_words_per_second cannot be negative")
        self.server_url = server_url
        self.public_url = public_url
        self.auth_token = auth_token
        self.account_sid = account_sid or new_sid("AC")
        self.say_words_per_second = say_words_per_second
        self.wait_settle = wait_settle
        self.http_timeout = http_timeout
        self._synthesizer = synthesizer

    def call(
        self,
        script: Sequence[Step] = (),
        *,
        caller: str = "+447700900123",
        called: str = "+442079460000",
        voice_path: str = "/twilio/voice",
        voice_method: str = "POST",
        status_callback_path: str | None = "/twilio/status",
        agent: AgentBehaviour | None = None,
        max_seconds: float = 120.0,
    ) -> CallResult:
        """Place one call and run it to the end.

        Args:
            script: What the caller does while a stream is open (see ``caller.parse_script``);
                ``say`` lines are synthesized before the call is placed.
            caller: ``From``.
            called: ``To``.
            voice_path: The number's voice URL, under ``public_url``.
            voice_method: Its method.
            status_callback_path: The number's status callback, or ``None`` for none.
            agent: What dialled agents do (answer by default).
            max_seconds: The caller hangs up after this long, whatever is happening.

        Returns:
            The call's record.

        Raises:
            voice.tts.SynthesisFailed: A ``say`` line could not be synthesized.
        """
        steps = self.render(script)
        hooks = Webhooks(
            self.server_url, self.public_url, self.auth_token, timeout=self.http_timeout
        )
        try:
            status = None
            if status_callback_path:
                status = StatusCallback.of(hooks.public(status_callback_path))
            run = Call(
                self,
                hooks,
                self.player(steps),
                caller=caller,
                called=called,
                agent=agent or AgentBehaviour(),
                max_seconds=max_seconds,
                status_callback=status,
            )
            return run.run(hooks.public(voice_path), voice_method.upper())
        finally:
            hooks.close()

    def render(self, script: Sequence[Step]) -> list[Step]:
        """The script with its ``say`` lines synthesized."""
        steps = list(script)
        if any(isinstance(step, Speak) for step in steps):
            steps = render_script(steps, self._speech())
        return steps

    def player(self, steps: Sequence[Step]) -> ScriptPlayer:
        """A player for a rendered script."""
        return ScriptPlayer(list(steps), wait_settle=self.wait_settle)

    def _speech(self) -> Synthesizer:
        if self._synthesizer is None:
            from voice.tts import EspeakNgSynthesizer  # lazy: only scripts with `say` need it

            self._synthesizer = EspeakNgSynthesizer()
        return self._synthesizer


class CallOver(Exception):
    """The call is over (caller, TwiML, a REST hang-up or max_seconds)."""


class Call:
    """One call's state while it runs.

    Inbound calls are made by :meth:`TwilioEmulator.call`; outbound ones by
    ``twilio_emulator.outbound`` with ``direction="outbound-api"``.

    Args:
        emulator: Pace, account and speech settings.
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
        emulator: TwilioEmulator,
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
        content_type = exchange.content_type.split(";", 1)[0].strip().lower()
        if content_type in _TWIML_TYPES:
            return twiml.parse_twiml(exchange.body, exchange.url)
        if content_type == "text/plain":
            try:
                return twiml.parse_twiml(exchange.body, exchange.url)
            except twiml.UnsupportedTwiml:
                raise
            except twiml.TwimlError:  # not TwiML: Twilio reads the text out and hangs up
                return [twiml.Say(exchange.body.strip()), twiml.Hangup()]
        if content_type.startswith("audio/"):
            return [twiml.Play(exchange.url), twiml.Hangup()]
        raise twiml.TwimlError(
            f"Content-Type {content_type or '(none)'!r} is not TwiML", code=INVALID_CONTENT_TYPE
        )

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

    # --- <Connect><Stream> ------------------------------------------------------------------

    def connect(self, verb: twiml.Connect) -> list[twiml.Verb] | None:
        """Run ``<Connect><Stream>``; a new document (the ``action``) or ``None``."""
        stream = verb.stream
        stream_sid = new_sid("MZ")
        notify = self.stream_notifier(stream, stream_sid)
        if urlsplit(stream.url).scheme != "wss":
            message = f"stream {stream.url}: Twilio connects to wss:// URLs only"
            self.error("stream", HANDSHAKE_REFUSED, message, stream.url)
            notify("stream-error", message)
        else:
            if urlsplit(stream.url).query:
                self.result.warnings.append(
                    f"stream URL {stream.url} has a query string; Twilio may drop it or fail "
                    "the handshake: pass data with <Parameter>"
                )
            target = StreamTarget(
                stream.url,
                self.hooks.to_server(stream.url),
                self.hooks.signer.expected(stream.url),  # the wss:// URL, no parameters
                dict(stream.parameters),
            )
            session = StreamSession(
                target, stream_sid, self.result, self.player, self.deadline, notify
            )
            self.streams.append(session)
            if session.run() in ("hangup", "max-seconds"):
                raise CallOver
        if verb.action:
            return self.fetch_or_end("connect-action", verb.action, verb.method, {})
        return None

    def stream_notifier(
        self, stream: twiml.Stream, stream_sid: str
    ) -> Callable[[str, str | None], None]:
        """Sends the stream's ``statusCallback`` events."""

        def notify(event: str, error: str | None) -> None:
            if stream.status_callback is None:
                return
            params = {
                "AccountSid": self.result.account_sid,
                "CallSid": self.result.call_sid,
                "StreamSid": stream_sid,
                "StreamName": stream.name or stream_sid,
                "StreamEvent": event,
                "Timestamp": datetime.now(UTC).isoformat(timespec="milliseconds"),
            }
            if error is not None:
                params["StreamError"] = error
            self.post_async(
                "stream-status", stream.status_callback, stream.status_callback_method, params
            )

        return notify

    # --- <Dial> -----------------------------------------------------------------------------

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
        self.result.audio = self.heard_audio(end)
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

    def heard_audio(self, end: float) -> bytes:
        """The caller's ears over the whole call: each stream's playback at its wall time."""
        heard = np.full(max(0, round((end - self.result.started_at) * 8000)), SILENCE, np.uint8)
        for session in self.streams:  # streams never overlap in time
            rendered = np.frombuffer(session.playback.render(self.result.started_at, end), np.uint8)
            rendered = rendered[: len(heard)]
            played = rendered != SILENCE
            heard[: len(rendered)][played] = rendered[played]
        return heard.tobytes()
