"""Twilio's webhook forms turned into our own events (:mod:`ivr.telephony`).

This is the one place that reads Twilio's field names (``CallSid``, ``From``, ``To``,
``DialCallStatus``, ``AnsweredBy``, ...) and status strings. The query parameters (``call``,
``agent``, ``queue``, ``tried``, ``callback``) are ours: we put them in the URLs we hand
Twilio. A missing or unknown value becomes the safe reading (an unknown dial status is a
failure, so the caller is offered a person or a callback).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from ivr.telephony import (
    CallArrived,
    CallStatus,
    DialEnded,
    DialOutcome,
    LegAnswered,
    LegStatusChanged,
    PersonAnswered,
    SecondLegAnswered,
    SecondLegEnded,
    StatusChanged,
    StreamEnded,
    TextReceived,
)

log = logging.getLogger(__name__)

Fields = Mapping[str, str]

#: ``DialCallStatus`` values and what they mean to us.
DIAL_OUTCOMES: Mapping[str, DialOutcome] = {
    "completed": DialOutcome.CONNECTED,
    "answered": DialOutcome.CONNECTED,
    "busy": DialOutcome.BUSY,
    "no-answer": DialOutcome.NO_ANSWER,
    "failed": DialOutcome.FAILED,
    "canceled": DialOutcome.CANCELED,
}
#: ``AnsweredBy`` values that mean a machine (or a fax) took the call.
MACHINE = frozenset(
    {"machine_start", "machine_end_beep", "machine_end_silence", "machine_end_other", "fax"}
)


def call_arrived(form: Fields) -> CallArrived:
    """The voice webhook: a call came in."""
    return CallArrived(
        _call_id(form), _opt(form, "From"), _opt(form, "To"), _opt(form, "CallerName")
    )


def stream_ended(form: Fields) -> StreamEnded:
    """The ``<Connect action>``: the stream closed."""
    return StreamEnded(_call_id(form), _opt(form, "From"), _opt(form, "To"))


def person_answered(form: Fields, query: Fields) -> PersonAnswered:
    """The ``<Number url>`` of a transfer: the person picked up (their address if no agent id)."""
    return PersonAnswered(query.get("call", ""), query.get("agent") or form.get("To", ""))


def dial_ended(form: Fields, query: Fields) -> DialEnded:
    """The ``<Dial action>`` of a transfer: how ringing people went."""
    return DialEnded(
        call_id=_call_id(form),
        outcome=dial_outcome(form.get("DialCallStatus", "")),
        queue=query.get("queue") or None,
        tried=tuple(agent for agent in query.get("tried", "").split(",") if agent),
        person_call_id=_opt(form, "DialCallSid"),
        caller=_opt(form, "From"),
        called=_opt(form, "To"),
    )


def status_changed(form: Fields) -> StatusChanged | None:
    """The status callback; ``None`` (logged) for a status we do not know."""
    status = call_status(form.get("CallStatus", ""))
    if status is None:
        return None
    return StatusChanged(_call_id(form), status)


def leg_answered(form: Fields, query: Fields) -> LegAnswered:
    """A placed callback's first leg answered (with the machine-detection verdict, if asked)."""
    answered_by = form.get("AnsweredBy", "")
    return LegAnswered(query.get("callback", ""), answered_by if answered_by in MACHINE else None)


def customer_answered(query: Fields) -> SecondLegAnswered:
    """Agent first: the customer picked up the second leg."""
    return SecondLegAnswered(query.get("callback", ""), "customer")


def agent_answered(query: Fields) -> SecondLegAnswered:
    """Customer first: the agent picked up the second leg."""
    return SecondLegAnswered(query.get("callback", ""), "agent", query.get("agent"))


def second_leg_ended(form: Fields, query: Fields) -> SecondLegEnded:
    """A placed callback's ``<Dial action>``: how ringing the second leg went."""
    return SecondLegEnded(
        query.get("callback", ""),
        dial_outcome(form.get("DialCallStatus", "")),
        _opt(form, "CallSid"),
    )


def leg_status_changed(form: Fields, query: Fields) -> LegStatusChanged | None:
    """A placed callback's first-leg status callback; ``None`` for an unknown status."""
    status = call_status(form.get("CallStatus", ""))
    if status is None:
        return None
    return LegStatusChanged(query.get("callback", ""), status, _opt(form, "CallSid"))


def text_received(form: Fields) -> TextReceived:
    """An incoming text message."""
    return TextReceived(form.get("From", ""), form.get("Body", "").strip())


def dial_outcome(value: str) -> DialOutcome:
    """A ``DialCallStatus``; unknown or missing is a failure."""
    return DIAL_OUTCOMES.get(value, DialOutcome.FAILED)


def call_status(value: str) -> CallStatus | None:
    """A ``CallStatus``; ``None`` (logged) for one Twilio does not document."""
    try:
        return CallStatus(value)
    except ValueError:
        log.warning("unknown call status ignored", extra={"status": value[:40]})
        return None


def call_id_of(values: Fields) -> str | None:
    """The call a request is about, for logs (``None`` when it names none)."""
    return values.get("CallSid")


def _call_id(form: Fields) -> str:
    return form.get("CallSid", "")


def _opt(form: Fields, name: str) -> str | None:
    return form.get(name) or None
