"""A call placed over the REST API, run from Twilio's side in a thread of its own.

    run = OutboundRun(voice, record, callee=AgentBehaviour("no-answer"), on_change=update)
    run.start()
    result = run.wait(10)

The callee's phone rings as its :class:`~twilio_emulator.agent.AgentBehaviour` says (``Timeout``
cuts the ring short, as ``<Dial timeout>`` does). Answered, the call fetches ``Url`` (signed,
``Direction=outbound-api``, ``CallStatus=in-progress``, ``AnsweredBy`` when ``MachineDetection``
was asked for) or runs the inline ``Twiml``, with the call emulator's verbs, ``<Dial>`` legs
per number included. The status callback gets the subscribed progress events and always the
final one. ``on_change`` hears every change of the Call resource, before the callback that
reports it is sent.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from twilio_emulator import twiml
from twilio_emulator.agent import AgentBehaviour
from twilio_emulator.call import TwilioEmulator as VoiceEmulator
from twilio_emulator.call_session import APPLICATION_ERROR, Call, CallOver, StatusCallback
from twilio_emulator.caller import Step
from twilio_emulator.rest_resources import CallRecord
from twilio_emulator.result import CallResult
from twilio_emulator.webhooks import Webhooks

log = logging.getLogger(__name__)

#: ``on_change(sid, fields)``: new values for the Call resource (``status``, ``start_time``...).
OnChange = Callable[[str, dict[str, Any]], None]


class OutboundRun:
    """One REST-created call and the thread that places it.

    Args:
        voice: The call emulator (account, web target, pace).
        record: The Call resource as created.
        callee: What the called phone does.
        on_change: Told of every change to the Call resource.
        agents: What the phones a ``<Dial>`` rings do, by number (else ``agent_default``).
        agent_default: What any other dialled phone does.
        script: What the callee does while a Media Stream is open.
        max_seconds: The callee hangs up after this long, whatever is happening.
    """

    def __init__(
        self,
        voice: VoiceEmulator,
        record: CallRecord,
        *,
        callee: AgentBehaviour,
        on_change: OnChange,
        agents: Mapping[str, AgentBehaviour] | None = None,
        agent_default: AgentBehaviour | None = None,
        script: Sequence[Step] = (),
        max_seconds: float = 120.0,
    ) -> None:
        self.record = record
        self.callee = callee
        self.on_change = on_change
        self.done = threading.Event()
        self.hooks = Webhooks(
            voice.server_url, voice.public_url, voice.auth_token, timeout=voice.http_timeout
        )
        status = None
        if record.status_callback:
            status = StatusCallback.of(
                record.status_callback, record.status_callback_method, record.status_callback_event
            )
        self.call = Call(
            voice,
            self.hooks,
            voice.player(voice.render(script)),
            caller=record.from_,
            called=record.to,
            agent=agent_default or AgentBehaviour(),
            agents=agents,
            max_seconds=max_seconds,
            direction="outbound-api",
            call_sid=record.sid,
            status_callback=status,
        )
        self.call.ended = self.ended
        self._canceled = False
        self._thread = threading.Thread(target=self._run, name=f"call-{record.sid[2:10]}")

    @property
    def result(self) -> CallResult:
        """The call's record (complete once ``done`` is set)."""
        return self.call.result

    def start(self) -> None:
        """Place the call."""
        self._thread.start()

    def wait(self, timeout: float | None = None) -> CallResult:
        """The call's record once it is over.

        Raises:
            TimeoutError: The call is still going after ``timeout`` seconds.
        """
        if not self.done.wait(timeout):
            raise TimeoutError(f"call {self.record.sid} still going after {timeout} s")
        return self.result

    def cancel(self) -> bool:
        """REST ``Status=canceled``: hang up a call that is queued or ringing; whether it was."""
        if self.call.answered:
            return False
        self._canceled = True
        self.call.hang_up()
        return True

    def hang_up(self) -> None:
        """REST ``Status=completed``: end the call wherever it is."""
        self._canceled = not self.call.answered
        self.call.hang_up()

    def join(self, timeout: float | None = None) -> None:
        """Wait for the thread (after a hang-up, when the emulator closes)."""
        if self._thread.is_alive():
            self._thread.join(timeout)

    # --- the thread -------------------------------------------------------------------------

    def _run(self) -> None:
        try:
            self._place()
        except Exception:  # a bug must not pass silently as a call that never ends
            log.exception("placing call %s failed", self.record.sid)
            self.call.error("emulator", None, "the emulator failed placing the call")
            self._change(status="failed", end_time=_now())
        finally:
            self.hooks.close()
            self.done.set()

    def _place(self) -> None:
        call, callee = self.call, self.callee
        if self._canceled:  # canceled while queued: no callbacks (twilio.md 3.2)
            call.result.status = "canceled"
            call.result.ended_at = call.clock()
            self._change(status="canceled", end_time=_now())
            return
        self._change(start_time=_now())
        call.progress("initiated", "initiated")
        if callee.answer in ("busy", "failed"):
            self._end(callee.answer)
            return
        self._change(status="ringing")
        call.progress("ringing", "ringing")
        timeout = float(self.record.timeout)
        try:
            call.sleep(min(callee.ring_seconds, timeout))
        except CallOver:
            self._end("canceled" if self._canceled else "no-answer")
            return
        if not callee.picks_up or callee.ring_seconds >= timeout:
            self._end("no-answer")
            return
        call.answered = True
        call.answered_at = call.clock()
        call.answered_by = answered_by(self.record.machine_detection, callee)
        self._change(status="in-progress", answered_by=call.answered_by)
        call.progress("answered", "in-progress")
        if self.record.url is not None:
            call.run(self.record.url, self.record.method, first_status="in-progress")
            return
        try:
            verbs = twiml.parse_twiml(self.record.twiml or "", self.record.url or "")
        except twiml.TwimlError as exc:
            call.error("unsupported" if exc.code is None else "twiml", exc.code, f"Twiml: {exc}")
            verbs = [twiml.Hangup()]
            if exc.code is not None:
                with contextlib.suppress(CallOver):
                    call.say(APPLICATION_ERROR, "twilio")
        call.execute_document(verbs)
        call.finish()

    def _end(self, status: str) -> None:
        """The call ends unanswered with ``status``."""
        self.call.result.status = status
        self.call.finish()

    def ended(self, status: str, duration: int) -> None:
        """The call is over (called by the call before its ``completed`` callback)."""
        fields: dict[str, Any] = {"status": status, "end_time": _now(), "duration": duration}
        if self.call.answered_by is not None:
            fields["answered_by"] = self.call.answered_by
        self._change(**fields)

    def _change(self, **fields: Any) -> None:
        self.on_change(self.record.sid, fields)


def answered_by(machine_detection: str | None, callee: AgentBehaviour) -> str | None:
    """``AnsweredBy`` for a callee that picked up: ``None`` unless detection was asked for."""
    if machine_detection is None:
        return None
    if callee.answer != "machine":
        return "human"
    return "machine_end_beep" if machine_detection == "DetectMessageEnd" else "machine_start"


def _now() -> datetime:
    return datetime.now(UTC)
