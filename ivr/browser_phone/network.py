"""Twilio's side of a browser-phone call: the emulator's call, with each stream handed to the page.

    calls = BrowserCalls(passes, publish_for)             # one per process
    call_id = calls.place(PlaceCall(server, public, token, caller="+420...", agents="answered"))
    calls.stream_ended(call_id) / calls.hang_up(call_id)  # the page's socket closed / hang-up

The page speaks Media Streams to the real socket; everything around the stream is what Twilio
would do, run by the Twilio emulator's own code (:class:`twilio_emulator.call_session.Call`):
the signed voice webhook, ``<Say>``, ``<Dial>`` with its whisper and agents that answer (or
not), the ``<Connect action>``, a second ``<Connect><Stream>`` for a callback booking, and the
status callbacks. Each step is published to the page as it happens. The emulator is a
development tool: a production install that turns the browser phone on must install it too.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from flask import url_for
from twilio_emulator import twiml
from twilio_emulator.agent import AgentBehaviour
from twilio_emulator.call_session import Call, CallOver, StatusCallback
from twilio_emulator.caller import ScriptPlayer
from twilio_emulator.result import WebhookExchange
from twilio_emulator.sids import new_sid
from twilio_emulator.webhooks import Webhooks

from ivr.config import DEVELOPMENT_AUTH_TOKEN, DEVELOPMENT_PUBLIC_URL
from ivr.stream_tokens import StreamPasses

log = logging.getLogger(__name__)

#: A browser call is hung up after this long, whatever is happening.
MAX_CALL_SECONDS = 1800
#: How long an agent who answers stays on the line before hanging up.
AGENT_TALK_SECONDS = 3.0
#: How long an agent's phone rings before it is answered (or not).
AGENT_RING_SECONDS = 1.0
#: A page that has not opened its stream by now never will (its pass has expired).
OPEN_SECONDS = 65.0
#: A stream gone this long without the page saying so: the page went away (a closed tab).
GONE_SECONDS = 3.0

Publish = Callable[[str, Mapping[str, Any]], None]


@dataclass(frozen=True)
class PlaceCall:
    """A call the page asks for: where the server is, who calls, what agents do."""

    server_url: str  # where this server answers HTTP, as seen from itself
    public_url: str  # the address Twilio signs
    auth_token: str
    caller: str
    called: str
    voice_path: str  # the number's voice webhook
    status_path: str  # the number's status callback
    agents: str = "answered"  # what a dialled agent does (twilio_emulator.agent.ANSWERS)


@dataclass(frozen=True)
class _Network:
    """What the emulator's call asks of its emulator."""

    account_sid: str
    say_words_per_second: float = 2.5


def to_this_server(
    host_url: str, config: Mapping[str, Any], caller: str, called: str, agents: str
) -> PlaceCall:
    """A call to this very server (at ``host_url``), signed as Twilio would sign it."""
    return PlaceCall(
        server_url=host_url.rstrip("/"),
        public_url=str(config["PUBLIC_URL"] or DEVELOPMENT_PUBLIC_URL),
        auth_token=str(config["TWILIO_AUTH_TOKEN"] or DEVELOPMENT_AUTH_TOKEN),
        caller=caller,
        called=called,
        voice_path=url_for("twilio.voice.incoming_call"),
        status_path=url_for("twilio.voice.call_status"),
        agents=agents,
    )


class BrowserNetwork(Call):
    """The emulator's call, except that a stream is the page's: published, then waited for."""

    def __init__(
        self,
        place: PlaceCall,
        hooks: Webhooks,
        publish: Publish,
        passes: StreamPasses,
        call_sid: str,
        streaming: Callable[[str], bool] = lambda call_id: True,
    ) -> None:
        agent = AgentBehaviour(place.agents, AGENT_TALK_SECONDS, AGENT_RING_SECONDS)
        super().__init__(
            _Network(new_sid("AC")),
            hooks,
            ScriptPlayer([]),
            caller=place.caller,
            called=place.called,
            agent=agent,
            max_seconds=MAX_CALL_SECONDS,
            call_sid=call_sid,
            status_callback=StatusCallback.of(hooks.public(place.status_path)),
        )
        self.publish = publish
        self.passes = passes
        self.streaming = streaming  # whether the call's stream is up in this process
        self.stream_over = threading.Event()

    @property
    def call_id(self) -> str:
        """The call's SID."""
        return self.result.call_sid

    def connect(self, verb: twiml.Connect) -> list[twiml.Verb] | None:
        """``<Connect><Stream>``: the page opens the stream; the call waits for its end."""
        self.stream_over.clear()
        stream = verb.stream
        self.publish(
            "stream",
            {
                "stream_sid": new_sid("MZ"),
                "path": urlsplit(stream.url).path,
                "parameters": dict(stream.parameters),
                "account_sid": self.result.account_sid,
                "pass": self.passes.issue(self.call_id),
            },
        )
        self._wait_for_the_stream()
        if self.hung_up.is_set():
            raise CallOver
        if verb.action:
            return self.fetch_or_end("connect-action", verb.action, verb.method, {})
        return None

    def _wait_for_the_stream(self) -> None:
        """Until the page says its stream ended, or it plainly went away (a closed tab)."""
        opened_by = self.clock() + OPEN_SECONDS
        seen, gone_since = False, None
        while not self.stream_over.wait(0.2):
            self.sleep(0)  # raises CallOver at a hang-up or the deadline
            now = self.clock()
            if self.streaming(self.call_id):
                seen, gone_since = True, None
            elif not seen and now > opened_by:
                self.hang_up()  # the page never opened it
            elif seen:
                gone_since = gone_since or now
                if now - gone_since > GONE_SECONDS:
                    self.hang_up()  # the socket closed and the page said nothing: it is gone

    def say(self, text: str, kind: str, voice: str | None = None, lang: str | None = None) -> None:
        """``<Say>`` (or Twilio's own announcement): shown on the page as the network's voice."""
        self.publish("network_said", {"text": text, "kind": kind, "language": lang})
        super().say(text, kind, voice, lang)

    def dial(self, verb: twiml.Dial) -> list[twiml.Verb] | None:
        """``<Dial>``: the page sees who rings, then how it went and what the agent heard."""
        before = len(self.result.dials)
        self.publish("dialling", {"numbers": [target.address for target in verb.targets]})
        try:
            return super().dial(verb)
        finally:
            for attempt in self.result.dials[before:]:
                self.publish(
                    "dialled",
                    {
                        "number": attempt.number,
                        "outcome": attempt.outcome,
                        "bridged": attempt.bridged,
                        "whisper": list(attempt.whisper),
                    },
                )

    def request(
        self, purpose: str, url: str, method: str, params: dict[str, str]
    ) -> WebhookExchange:
        """A signed webhook; the page's timeline shows each one."""
        exchange = super().request(purpose, url, method, params)
        self.publish(
            "webhook",
            {
                "purpose": purpose,
                "path": urlsplit(exchange.url).path,
                "status": exchange.status_code,
                "ms": round(exchange.elapsed_ms),
            },
        )
        return exchange


class BrowserCalls:
    """The browser-phone calls this process runs, each on a thread of its own."""

    def __init__(
        self,
        passes: StreamPasses,
        publisher: Callable[[str], Publish],
        streaming: Callable[[str], bool] = lambda call_id: True,
    ) -> None:
        self._passes = passes
        self._publisher = publisher
        self._streaming = streaming
        self._calls: dict[str, BrowserNetwork] = {}
        self._lock = threading.Lock()

    def place(self, place: PlaceCall, on_start: Callable[[str], None] | None = None) -> str:
        """Start a call to this server; its SID (``on_start`` runs first, with the SID)."""
        hooks = Webhooks(place.server_url, place.public_url, place.auth_token)
        call_sid = new_sid("CA")
        publish = self._publisher(call_sid)
        call = BrowserNetwork(place, hooks, publish, self._passes, call_sid, self._streaming)
        with self._lock:
            self._calls[call_sid] = call
        if on_start is not None:
            on_start(call_sid)
        voice_url = hooks.public(place.voice_path)
        threading.Thread(
            target=self._run, args=(call, hooks, voice_url), name=f"phone-{call_sid[-8:]}"
        ).start()
        return call_sid

    def owns(self, call_sid: str) -> bool:
        """Whether ``call_sid`` is a browser-phone call of this process (not a real caller)."""
        return self._find(call_sid) is not None

    def stream_ended(self, call_sid: str) -> bool:
        """The page's socket closed; ``False`` for an unknown call."""
        call = self._find(call_sid)
        if call is not None:
            call.stream_over.set()
        return call is not None

    def hang_up(self, call_sid: str) -> bool:
        """The page hung up; ``False`` for an unknown call."""
        call = self._find(call_sid)
        if call is not None:
            call.hang_up()
            call.stream_over.set()
        return call is not None

    def _find(self, call_sid: str) -> BrowserNetwork | None:
        with self._lock:
            return self._calls.get(call_sid)

    def _run(self, call: BrowserNetwork, hooks: Webhooks, voice_url: str) -> None:
        try:
            result = call.run(voice_url, "POST")
            call.publish(
                "call_ended",
                {"status": result.status, "errors": [error.message for error in result.errors]},
            )
        except Exception as failure:  # the page must learn the call is over, whatever broke
            log.exception("browser phone call failed", extra={"call_id": call.call_id})
            call.publish("call_ended", {"status": "failed", "errors": [repr(failure)]})
        finally:
            hooks.close()
            with self._lock:
                self._calls.pop(call.call_id, None)
