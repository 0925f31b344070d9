"""What happens to the caller once the bot's stream has closed, and after a transfer rang.

Pure decisions, no Twilio: the web edge renders them as TwiML. Each ends with a person, a
callback booking or a deliberate goodbye, never silence.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from ivr.call.handover import Handover
from ivr.people.staffing import LastAgent, Staffing
from ivr.telephony import DialOutcome


@dataclass(frozen=True)
class DialPerson:
    """Ring ``number`` (or ``sip:``/``client:``) for ``queue``; say ``apology`` first if set.

    ``agent`` is the agent id when the flow's people know them; ``tried`` the agent ids rung
    before for this call (the dial action passes it on).
    """

    number: str
    queue: str | None
    apology: str | None = None
    agent: str | None = None
    tried: tuple[str, ...] = ()


@dataclass(frozen=True)
class OfferCallback:
    """Book a callback for ``queue`` with the caller (the bot has not): ``prompts`` come first.

    ``converse``: the bot books the time with the caller in a new stream; ``False`` when our
    own voice failed, so Twilio says the prompts and the earliest time is booked for them.
    """

    queue: str | None
    reason: str
    prompts: tuple[str, ...] = ()
    converse: bool = True


@dataclass(frozen=True)
class EndCall:
    """Say ``prompts`` (system prompts), if any, and hang up."""

    prompts: tuple[str, ...] = ()


NextStep = DialPerson | OfferCallback | EndCall


#: What is said before a hand-over that is no fault: a language the line cannot hear is by design.
APOLOGIES = {"language_not_heard": "connecting"}


def after_stream(
    handover: Handover | None,
    staffing: Staffing,
    now: datetime,
    last: LastAgent | None = None,
) -> NextStep:
    """The next step for a call whose stream closed with ``handover``.

    No handover means the stream ended without the bot deciding (it crashed, or the socket
    dropped): apologise and hand over, as for any failure. ``last`` is who handled the caller's
    previous call (a returning caller goes to them first when they can).
    """
    if handover is None:
        handover = Handover("transfer", "stream_lost", apologise=True)
    apology = (APOLOGIES.get(handover.reason, "technical_problem"),) if handover.apologise else ()
    flow = staffing.flow
    queue = handover.queue or flow.escalation.person_queue
    if handover.kind == "hangup":
        return EndCall()
    if handover.kind == "callback":
        # The bot booked it with the caller, unless its voice failed before it could.
        if apology:
            return OfferCallback(queue, handover.reason, ("outside_hours",), converse=False)
        return EndCall()
    if not flow.queue_hours(queue).is_open(now):
        return OfferCallback(queue, "outside_hours", (*apology, "outside_hours"), not apology)
    if handover.number:
        return DialPerson(handover.number, queue, apology[0] if apology else None)
    person = staffing.first(queue, now, last)
    if person is None:
        return OfferCallback(queue, "no_agent_available", (*apology, "no_agent"), not apology)
    return DialPerson(
        person.address,
        queue,
        apology[0] if apology else None,
        person.agent,
        (person.agent,) if person.agent else (),
    )


def after_dial(
    outcome: DialOutcome,
    queue: str | None,
    staffing: Staffing,
    now: datetime,
    tried: tuple[str, ...] = (),
) -> NextStep:
    """The next step once ringing people for a transfer ended with ``outcome``.

    Nobody answered: ring one more agent of the queue (if another is on shift), then book a
    callback.
    """
    if outcome is DialOutcome.CONNECTED:
        return EndCall()
    person = staffing.next(queue, now, tried) if queue and tried else None
    if person is not None:
        return DialPerson(person.address, queue, None, person.agent, (*tried, person.agent or ""))
    return OfferCallback(queue, f"dial_{outcome}", ("no_agent",))
