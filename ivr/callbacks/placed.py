"""The calls ``ivr worker`` places: what each side hears, whom to ring next, what it led to.

Agent first (the default): the agent's phone rings; on answer they hear who and why (the
whisper), then the customer is rung and hears the opening ("This is Acme calling you back
about your bill") before the bridge. Customer first: the customer is rung with machine
screening; a machine gets a short message (and the callback is retried), a person hears the
opening and an agent is rung with the whisper.

The callback counts as *connected* when both sides are on the line, *done* when that call
ends. Each method takes one event of :mod:`ivr.telephony` and answers with a :class:`LegPlan`
that the Twilio edge renders; nothing here knows Twilio.

Busy means busy: the agent who answers is on the callback (busy until it ends), the agent a
customer-first callback rings is reserved first (a busy one is passed over), and the
callback's outcome frees them (the staffing's :class:`~ivr.people.roster.Roster`).

Languages: the customer hears the callback's language (the caller's, stored with the booking),
the agent their own (the first they list); only agents who speak the callback's language are
rung for it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from bot.flow.model import CallbackMode, Flow
from ivr.people import whispers
from ivr.people.staffing import Person, Staffing
from ivr.speech import Speech, system_prompt
from ivr.store import CallbackRecord, CallbackStatus, CallbackStore, StoreUnavailable
from ivr.telephony import (
    CallStatus,
    DialOutcome,
    LegAnswered,
    LegStatusChanged,
    SecondLegAnswered,
    SecondLegEnded,
)

log = logging.getLogger(__name__)

#: A first leg's final status that is an attempt's failure.
LEG_FAILURES: Mapping[CallStatus, CallbackStatus] = {
    CallStatus.NO_ANSWER: CallbackStatus.NO_ANSWER,
    CallStatus.BUSY: CallbackStatus.BUSY,
    CallStatus.FAILED: CallbackStatus.FAILED,
    CallStatus.CANCELED: CallbackStatus.FAILED,
}
#: A second leg that ended without the bridge.
SECOND_LEG_FAILURES: Mapping[DialOutcome, CallbackStatus] = {
    DialOutcome.NO_ANSWER: CallbackStatus.NO_ANSWER,
    DialOutcome.BUSY: CallbackStatus.BUSY,
    DialOutcome.FAILED: CallbackStatus.FAILED,
    DialOutcome.CANCELED: CallbackStatus.FAILED,
}
#: An agent who answered a callback is busy until it ends, or at most this long.
ON_CALL_LIMIT = timedelta(hours=4)
#: A customer-first callback's agent stays reserved this long past their ring.
RING_MARGIN = timedelta(seconds=30)
#: A callback whose attempt is still going: its agent stays reserved or on the call.
UNDER_WAY = frozenset({CallbackStatus.DIALING, CallbackStatus.CONNECTED})
GONE = "Sorry, this callback can no longer be connected."


@dataclass(frozen=True)
class LegPlan:
    """What the answered leg hears, then whom it rings (if anyone), then whether it ends.

    ``ring_to`` is rung for ``timeout`` seconds with ``ring_kind``'s greeting: the customer
    hears the opening, an agent (``ring_agent``) the whisper, each when they answer.
    ``caller_id`` is shown to them.
    """

    say: tuple[Speech, ...] = ()
    ring_to: str | None = None
    ring_kind: Literal["customer", "agent"] = "customer"
    ring_agent: str | None = None
    caller_id: str | None = None
    hang_up: bool = False
    timeout: int = 20


def about(flow: Flow, record: CallbackRecord, language: str | None = None) -> str:
    """What the callback is about ("your bill"), in ``language``, else the callback's."""
    language = language or record.language
    queue = flow.queues.get(record.queue)
    label = flow.in_language(queue.label if queue else {}, language)
    return label or whispers.words(language or flow.default_language)["your_call"]


def opening(flow: Flow, record: CallbackRecord) -> Speech:
    """What the customer hears first."""
    return system_prompt(flow, "callback_opening", record.language, about=about(flow, record))


def machine_message(flow: Flow, record: CallbackRecord) -> Speech:
    """The short message an answering machine gets."""
    return system_prompt(flow, "callback_machine", record.language, about=about(flow, record))


def agent_whisper(flow: Flow, record: CallbackRecord, language: str) -> Speech:
    """What the agent hears before the customer joins, in ``language`` (the agent's)."""
    language = whispers.spoken_in(language)  # English for a language with no wording
    promised = record.promised_at.astimezone(flow.queue_hours(record.queue).zone)
    intent = str(record.context.get("intent") or "")
    labels = flow.intents[intent].label if intent in flow.intents else {}
    summary = record.context.get("summary")
    text = whispers.callback_whisper(
        language,
        number=whispers.spelled(language, record.number),
        about=about(flow, record, language),
        time=f"{promised:%H:%M}",
        summary=str(summary) if summary else None,
        label=flow.in_language(labels, language) if labels else None,
        why=record.reason,
    )
    return Speech(text, language)


class PlacedCallbacks:
    """Answers the phone network's questions about a callback's legs, and stores the outcomes."""

    def __init__(
        self,
        callbacks: Callable[[], CallbackStore],
        flow: Callable[[], Flow],
        staffing: Callable[[], Staffing],
        clock: Callable[[], datetime],
        dial_timeout: int = 20,
    ) -> None:
        self._callbacks = callbacks
        self._flow = flow
        self._staffing = staffing
        self._clock = clock
        self._timeout = dial_timeout

    def first_leg_answered(self, event: LegAnswered) -> LegPlan:
        """The first leg picked up: the whisper and the customer, or the opening and an agent."""
        record = self._record(event.callback_id)
        if record is None:
            return LegPlan((Speech(GONE, "en"),), hang_up=True)
        flow, staffing = self._flow(), self._staffing()
        if record.mode != CallbackMode.CUSTOMER_FIRST:
            agent = staffing.agent_at(record.dial_to or "")
            self._on_call(record, agent)
            return LegPlan(
                (agent_whisper(flow, record, staffing.agent_language(agent)),),
                record.number,
                "customer",
                caller_id=record.from_number,
                timeout=self._timeout,
            )
        if event.machine is not None:
            self._outcome(record, CallbackStatus.MACHINE, answered_by=event.machine)
            return LegPlan((machine_message(flow, record),), hang_up=True)
        person = self._free_agent(record)
        if person is None:
            self._outcome(record, CallbackStatus.FAILED, why=self._nobody(record))
            return LegPlan((system_prompt(flow, "no_agent", record.language),), hang_up=True)
        return LegPlan(
            (opening(flow, record),),
            person.address,
            "agent",
            ring_agent=person.agent,
            caller_id=record.from_number,
            timeout=self._timeout,
        )

    def second_leg_answered(self, event: SecondLegAnswered) -> LegPlan:
        """Both sides are on the line: connected. The second leg hears its greeting."""
        record = self._record(event.callback_id)
        if record is None:
            return LegPlan((Speech(GONE, "en"),), hang_up=True)
        flow = self._flow()
        if event.who == "customer":
            self._outcome(record, CallbackStatus.CONNECTED, leg="customer")
            return LegPlan((opening(flow, record),))
        self._outcome(record, CallbackStatus.CONNECTED, leg="agent", agent=event.agent)
        self._on_call(record, event.agent)
        language = self._staffing().agent_language(event.agent)
        return LegPlan((agent_whisper(flow, record, language),))

    def second_leg_ended(self, event: SecondLegEnded) -> LegPlan:
        """Ringing the second leg ended: done, or a failed attempt (to be retried)."""
        record = self._record(event.callback_id)
        if record is None:
            return LegPlan(hang_up=True)
        if event.outcome is DialOutcome.CONNECTED:
            self._outcome(record, CallbackStatus.DONE, event.sid, second_leg=str(event.outcome))
            return LegPlan(hang_up=True)
        failure = SECOND_LEG_FAILURES[event.outcome]
        self._outcome(record, failure, event.sid, second_leg=str(event.outcome))
        if record.mode == CallbackMode.CUSTOMER_FIRST:
            sorry = system_prompt(self._flow(), "no_agent", record.language)
        else:  # the agent is on the line: told in their language
            staffing = self._staffing()
            language = staffing.agent_language(staffing.agent_at(record.dial_to or ""))
            sorry = Speech(whispers.words(language)["customer_away"], whispers.spoken_in(language))
        return LegPlan((sorry,), hang_up=True)

    def first_leg_status(self, event: LegStatusChanged) -> None:
        """The first leg's progress: a failed attempt, or the end of a connected callback."""
        record = self._record(event.callback_id)
        if record is None:
            return
        status, sid = event.status, event.sid
        if status in LEG_FAILURES:
            self._outcome(record, LEG_FAILURES[status], sid, first_leg=str(status))
        elif status is CallStatus.COMPLETED:
            if record.status == CallbackStatus.CONNECTED:
                self._outcome(record, CallbackStatus.DONE, sid, first_leg=str(status))
            elif record.status == CallbackStatus.DIALING:
                # Answered, but the two sides were never bridged (someone hung up early).
                self._outcome(
                    record, CallbackStatus.FAILED, sid, first_leg=str(status), why="not_bridged"
                )

    def _record(self, callback_id: str) -> CallbackRecord | None:
        try:
            return self._callbacks().get(callback_id)
        except StoreUnavailable as error:
            log.error("callback not read", extra={"callback_id": callback_id, "error": str(error)})
            return None

    def _free_agent(self, record: CallbackRecord) -> Person | None:
        """Customer first: the first free agent on shift who speaks its language, reserved."""
        staffing, now = self._staffing().speaking(record.language), self._clock()
        until = now + timedelta(seconds=self._timeout) + RING_MARGIN
        for person in staffing.candidates(record.queue, now):
            roster = staffing.roster
            if person.agent is None or roster is None:
                return person
            if roster.reserve(person.agent, now, until, callback_id=record.id):
                return person
        return None

    def _nobody(self, record: CallbackRecord) -> str:
        """Why no agent could be rung for ``record`` (customer first), for its outcome."""
        staffing, now = self._staffing(), self._clock()
        if staffing.speaking(record.language).staffed(record.queue, now):
            return "no_agent_free"  # on shift, but busy or away
        if staffing.staffed(record.queue, now):
            return "no_agent_speaks_language"  # the agents on shift do not speak it
        return "no_agent_on_shift"

    def _on_call(self, record: CallbackRecord, agent: str | None) -> None:
        """``agent`` answered the callback: busy with it until its outcome frees them."""
        roster = self._staffing().roster
        if roster is not None and agent and agent in self._flow().agents:
            now = self._clock()
            roster.on_call(agent, now, now + ON_CALL_LIMIT, callback_id=record.id)

    def _outcome(
        self,
        record: CallbackRecord,
        status: CallbackStatus,
        sid: str | None = None,
        **detail: Any,
    ) -> None:
        """Store what the callback led to (``sid``: the first leg's, when its webhook said)."""
        try:
            after = self._callbacks().record_outcome(
                record.id, status, self._clock(), detail, sid=sid or record.dial_sid
            )
        except StoreUnavailable as error:
            log.error(
                "callback outcome not stored",
                extra={"callback_id": record.id, "outcome": str(status), "error": str(error)},
            )
            return  # the agent's reservation runs out by itself
        log.info("callback outcome", extra={"callback_id": record.id, "outcome": str(status)})
        roster = self._staffing().roster
        if roster is not None and after is not None and after.status not in UNDER_WAY:
            # The attempt is over (done, to be retried, given up): the agent is free. An
            # outcome the store ignored (another attempt's call) leaves them as they are.
            roster.release(callback_id=record.id)
