"""What the phone network tells us about calls, in our own words.

The Twilio edge (:mod:`ivr.twilio.forms`) turns each webhook's form into one of these events;
nothing behind it reads a Twilio field name or status string. The values of
:class:`CallStatus` are the ones stored in ``calls.status`` since the first schema.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Literal


class CallStatus(enum.StrEnum):
    """Where a call stands (as stored with the call)."""

    QUEUED = "queued"
    INITIATED = "initiated"
    RINGING = "ringing"
    IN_PROGRESS = "in-progress"
    COMPLETED = "completed"
    BUSY = "busy"
    FAILED = "failed"
    NO_ANSWER = "no-answer"
    CANCELED = "canceled"

    @property
    def final(self) -> bool:
        """Whether the call is over."""
        return self not in _UNDER_WAY


_UNDER_WAY = frozenset(
    {CallStatus.QUEUED, CallStatus.INITIATED, CallStatus.RINGING, CallStatus.IN_PROGRESS}
)


class DialOutcome(enum.StrEnum):
    """How ringing somebody ended."""

    CONNECTED = "connected"  # they answered and talked (or are talking)
    NO_ANSWER = "no_answer"
    BUSY = "busy"
    FAILED = "failed"
    CANCELED = "canceled"  # the caller hung up before they answered


# -- an incoming call -----------------------------------------------------------------------


@dataclass(frozen=True)
class CallArrived:
    """Someone phoned the line; ``caller_name`` when the network looked it up."""

    call_id: str
    caller: str | None
    called: str | None
    caller_name: str | None = None


@dataclass(frozen=True)
class StreamEnded:
    """The bot's audio stream of the call closed: what now?"""

    call_id: str
    caller: str | None
    called: str | None = None


@dataclass(frozen=True)
class PersonAnswered:
    """``agent`` (an agent id, else their address) picked up a transfer of ``call_id``."""

    call_id: str
    agent: str


@dataclass(frozen=True)
class DialEnded:
    """Ringing people for a transfer of ``call_id`` (from ``caller`` to ``called``) ended.

    ``tried``: the agent ids rung so far for this call; ``person_call_id``: the person's leg.
    """

    call_id: str
    outcome: DialOutcome
    queue: str | None
    tried: tuple[str, ...] = ()
    person_call_id: str | None = None
    caller: str | None = None
    called: str | None = None


@dataclass(frozen=True)
class StatusChanged:
    """The call's status changed (the status callback)."""

    call_id: str
    status: CallStatus


# -- a callback we placed -------------------------------------------------------------------


@dataclass(frozen=True)
class LegAnswered:
    """The first leg of placed callback ``callback_id`` answered; ``machine``: a machine did."""

    callback_id: str
    machine: str | None = None  # what answered, when it was not a person ("machine_start", ...)


@dataclass(frozen=True)
class SecondLegAnswered:
    """The second leg answered: the ``customer`` (agent first) or an ``agent`` (customer first)."""

    callback_id: str
    who: Literal["customer", "agent"]
    agent: str | None = None  # which agent, when the second leg rang one


@dataclass(frozen=True)
class SecondLegEnded:
    """Ringing the second leg of ``callback_id`` ended; ``sid``: the first leg's call id."""

    callback_id: str
    outcome: DialOutcome
    sid: str | None = None


@dataclass(frozen=True)
class LegStatusChanged:
    """The first leg's status changed; ``sid``: that call's id, when the network said."""

    callback_id: str
    status: CallStatus
    sid: str | None = None


# -- a text message -------------------------------------------------------------------------


@dataclass(frozen=True)
class TextReceived:
    """``sender`` texted us ``body`` (a reply to a callback confirmation)."""

    sender: str
    body: str
