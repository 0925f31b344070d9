"""What happens to the caller once the bot's stream has closed, and after a transfer rang.

Pure decisions, no Twilio: the web edge renders them as TwiML. Each ends with a person, a
callback offer or a deliberate goodbye, never silence.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.flow.model import Flow
from ivr.call.directory import AgentDirectory
from ivr.call.handover import Handover

#: DialCallStatus values that mean the caller spoke with the person.
CONNECTED = frozenset({"completed", "answered"})


@dataclass(frozen=True)
class DialPerson:
    """Ring ``number`` for ``queue``; say ``apology`` (a system prompt) first if set."""

    number: str
    queue: str | None
    apology: str | None = None


@dataclass(frozen=True)
class OfferCallback:
    """Say ``prompts`` (system prompts), note a callback for ``queue``, end the call."""

    queue: str | None
    reason: str
    prompts: tuple[str, ...] = ()


@dataclass(frozen=True)
class EndCall:
    """Say ``prompts`` (system prompts), if any, and hang up."""

    prompts: tuple[str, ...] = ()


NextStep = DialPerson | OfferCallback | EndCall


def after_stream(
    handover: Handover | None, flow: Flow, directory: AgentDirectory, now: datetime
) -> NextStep:
    """The next step for a call whose stream closed with ``handover``.

    No handover means the stream ended without the bot deciding (it crashed, or the socket
    dropped): apologise and hand over, as for any failure.
    """
    if handover is None:
        handover = Handover("transfer", "stream_lost", apologise=True)
    apology = ("technical_problem",) if handover.apologise else ()
    queue = handover.queue or flow.escalation.person_queue
    if handover.kind == "hangup":
        return EndCall()
    if handover.kind == "callback":
        # The bot already told the caller (unless it could not speak).
        return OfferCallback(queue, handover.reason, ("outside_hours",) if apology else ())
    if not flow.business_hours.is_open(now):
        return OfferCallback(queue, "outside_hours", (*apology, "outside_hours"))
    number = handover.number or directory.number_for(queue)
    if number is None:
        return OfferCallback(queue, "no_agent_number", (*apology, "no_agent"))
    return DialPerson(number, queue, apology[0] if apology else None)


def after_dial(status: str, queue: str | None) -> NextStep:
    """The next step once a transfer ended with Twilio's ``DialCallStatus``."""
    if status in CONNECTED:
        return EndCall()
    return OfferCallback(queue, f"dial_{status or 'failed'}".replace("-", "_"), ("no_agent",))
