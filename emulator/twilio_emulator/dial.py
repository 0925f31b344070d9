"""``<Dial>`` from Twilio's side: ring the legs, run the whisper, bridge, report the outcome.

Every leg behaves as the call's :class:`~twilio_emulator.agent.AgentBehaviour` for its address
says (``call.agent_for``). Legs ring in parallel: ``busy`` and ``failed`` legs end at once, the
answering leg that rings shortest wins (ties: the first target) and the others are
``canceled``; when none answers, every leg ends ``no-answer`` after the longest ring or the
Dial ``timeout``, whichever is shorter. An answered leg with ``url=`` gets its own signed
request (its own ``CallSid``, ``Direction=outbound-dial``, ``ParentCallSid``) and the TwiML
returned runs for the agent before the bridge: its ``<Say>`` texts are recorded as the whisper.
A whisper that hangs up leaves the legs unbridged: the leg was answered, so ``DialCallStatus``
is ``completed`` with ``DialBridged=false`` (an inference: that is what ``DialBridged`` exists
to tell apart).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from twilio_emulator import twiml
from twilio_emulator.agent import AgentBehaviour
from twilio_emulator.result import CallError, CallResult, DialAttempt, WebhookExchange
from twilio_emulator.webhooks import progress_fields

_WHISPER_DOCUMENTS = 20


class ParentCall(Protocol):
    """What a dial needs from the call it runs in."""

    result: CallResult
    caller: str
    clock: Callable[[], float]

    def agent_for(self, address: str) -> AgentBehaviour:
        """What the phone at ``address`` does when it rings."""

    def sleep(self, seconds: float) -> None:
        """Let time pass; raises when the caller hangs up."""

    def request(
        self, purpose: str, url: str, method: str, params: dict[str, str]
    ) -> WebhookExchange:
        """Make a signed Twilio request and record it."""

    def post_async(self, purpose: str, url: str, method: str, params: dict[str, str]) -> None:
        """Make a signed request in the background (callbacks)."""

    def error(self, kind: str, code: int | None, message: str, url: str | None = None) -> CallError:
        """Record an error Twilio would log."""

    def document(self, exchange: WebhookExchange) -> list[twiml.Verb]:
        """The verbs of a TwiML response."""

    @property
    def say_pace(self) -> float:
        """Words per second of ``<Say>`` (0: no time)."""


@dataclass
class _Leg:
    target: twiml.DialTarget
    attempt: DialAttempt
    agent: AgentBehaviour


class DialRun:
    """One ``<Dial>`` verb, run to its end.

    Args:
        call: The parent call.
        verb: The ``<Dial>``.
    """

    def __init__(self, call: ParentCall, verb: twiml.Dial) -> None:
        self.call = call
        self.verb = verb
        self.caller_id = verb.caller_id or call.caller
        self._sequence: dict[str, int] = {}

    def run(self) -> DialAttempt:
        """Ring, answer or not, whisper, bridge; the attempt to report to the ``action``."""
        call, verb = self.call, self.verb
        now = call.clock()
        legs = [
            _Leg(t, DialAttempt(t.address, "CA" + secrets.token_hex(16), "", now), agent)
            for t in verb.targets
            for agent in [call.agent_for(t.address)]
        ]
        if not legs:
            return DialAttempt("", "", "failed", now)
        call.result.dials.extend(leg.attempt for leg in legs)
        for leg in legs:
            self.leg_event(leg, "initiated", "initiated")
        ringing = [leg for leg in legs if leg.agent.answer not in ("busy", "failed")]
        for leg in legs:
            if leg not in ringing:
                self.end(leg, leg.agent.answer)
            else:
                self.leg_event(leg, "ringing", "ringing")
        if not ringing:
            return legs[0].attempt
        timeout = float(verb.timeout)
        answering = [
            leg for leg in ringing if leg.agent.picks_up and leg.agent.ring_seconds < timeout
        ]
        if not answering:
            call.sleep(min(max(leg.agent.ring_seconds for leg in ringing), timeout))
            for leg in ringing:
                self.end(leg, "no-answer")
            return ringing[0].attempt
        winner = min(answering, key=lambda leg: leg.agent.ring_seconds)  # min keeps the first tie
        call.sleep(winner.agent.ring_seconds)
        winner.attempt.answered_at = call.clock()
        for leg in ringing:
            if leg is not winner:
                self.end(leg, "canceled")
        self.leg_event(winner, "answered", "in-progress")
        if winner.target.url is None or self.whisper(winner.target, winner.attempt):
            winner.attempt.bridged = True
            call.sleep(min(winner.agent.talk_seconds, float(verb.time_limit)))
        self.end(winner, "completed")
        return winner.attempt

    def end(self, leg: _Leg, outcome: str) -> None:
        """End one leg with ``outcome``."""
        leg.attempt.outcome = outcome
        leg.attempt.ended_at = self.call.clock()
        self.leg_event(leg, "completed", outcome)

    def leg_params(
        self, target: twiml.DialTarget, attempt: DialAttempt, status: str
    ) -> dict[str, str]:
        """The child leg's standard parameters."""
        return {
            "AccountSid": self.call.result.account_sid,
            "ApiVersion": "2010-04-01",
            "CallSid": attempt.call_sid,
            "CallStatus": status,
            "Called": target.address,
            "Caller": self.caller_id,
            "Direction": "outbound-dial",
            "From": self.caller_id,
            "ParentCallSid": self.call.result.call_sid,
            "To": target.address,
        }

    def leg_event(self, leg: _Leg, event: str, status: str) -> None:
        """The leg's ``statusCallback``, for the events it subscribed to."""
        target, attempt = leg.target, leg.attempt
        if target.status_callback is None or event not in target.status_callback_event:
            return
        sequence = self._sequence.get(attempt.call_sid, 0)
        self._sequence[attempt.call_sid] = sequence + 1
        params = {**self.leg_params(target, attempt, status), **progress_fields(sequence)}
        if event == "completed":
            answered = attempt.answered_at
            duration = round((attempt.ended_at or answered or 0) - answered) if answered else 0
            params["CallDuration"] = str(duration)
        self.call.post_async(
            "leg-status", target.status_callback, target.status_callback_method, params
        )

    def whisper(self, target: twiml.DialTarget, attempt: DialAttempt) -> bool:
        """Run the whisper document on the agent's leg; whether the legs get bridged."""
        url, method = target.url or "", target.method
        for _ in range(_WHISPER_DOCUMENTS):
            params = self.leg_params(target, attempt, "in-progress")
            exchange = self.call.request("whisper", url, method, params)
            if exchange.error is not None:
                self.call.result.errors.append(exchange.error)
                return False
            try:
                verbs = self.call.document(exchange)
            except twiml.TwimlError as exc:
                kind = "unsupported" if exc.code is None else "dial"
                exchange.error = self.call.error(kind, exc.code, f"whisper: {exc}", exchange.url)
                return False
            outcome = self.run_whisper(verbs, attempt, exchange.url)
            if not isinstance(outcome, twiml.Redirect):
                return outcome
            url, method = outcome.url, outcome.method
        self.call.error("dial", None, f"whisper: more than {_WHISPER_DOCUMENTS} redirects", url)
        return False

    def run_whisper(
        self, verbs: list[twiml.Verb], attempt: DialAttempt, url: str
    ) -> twiml.Redirect | bool:
        """True: bridge; False: the agent's leg hung up; a ``Redirect``: fetch that next."""
        pace = self.call.say_pace
        for verb in verbs:
            if isinstance(verb, twiml.Say):
                for _ in range(verb.loop or 1000):
                    attempt.whisper.append(verb.text)
                    if pace:
                        self.call.sleep(len(verb.text.split()) / pace)
            elif isinstance(verb, twiml.Play):
                attempt.whisper.append(f"[play {verb.url}]")
            elif isinstance(verb, twiml.Pause):
                self.call.sleep(verb.length)
            elif isinstance(verb, twiml.Hangup | twiml.Reject):
                return False
            elif isinstance(verb, twiml.Redirect):
                return verb
            else:
                name = type(verb).__name__
                self.call.error(
                    "dial",
                    twiml.DOCUMENT_PARSE_FAILURE,
                    f"whisper: <{name}> is not allowed in a <Number url> document",
                    url,
                )
                return False
        return True
