"""Actions: imperatives the engine gives the transport. Small, frozen, serialisable."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Say:
    """Speak ``text``. ``prompt_id`` identifies a static prompt (cacheable audio)."""

    text: str
    language: str
    prompt_id: str | None = None
    cacheable: bool = True  # False when slots were filled into the template


@dataclass(frozen=True)
class Listen:
    """Wait for the caller. ``expect`` is "intent", "yes_no" or a slot type such as "digits"."""

    expect: str
    slot: str | None = None
    timeout_seconds: float = 6.0


@dataclass(frozen=True)
class Transfer:
    """Hand the call to a person. Terminal for the bot."""

    reason: str
    queue: str | None = None
    number: str | None = None
    context: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ScheduleCallback:
    """Book a callback instead of a queue. Terminal for the bot.

    ``at`` is the promised moment (ISO 8601 with offset; ``None``: as soon as the queue is
    open), ``number`` the number to ring (``None``: the caller's), ``sms`` whether to confirm
    by text, ``replaces`` the id of a booked callback this one moves.
    """

    reason: str
    queue: str
    context: Mapping[str, str] = field(default_factory=dict)
    at: str | None = None
    number: str | None = None
    sms: bool = False
    replaces: str | None = None


@dataclass(frozen=True)
class CancelCallback:
    """Cancel a booked callback (the caller said so). Not terminal: the call goes on."""

    callback_id: str
    reason: str = "caller_cancelled"


@dataclass(frozen=True)
class Hangup:
    """End the call."""

    reason: str


Action = Say | Listen | Transfer | ScheduleCallback | CancelCallback | Hangup


def describe(action: Action) -> str:
    """A one-line marker for logs and the simulator: ``[transfer queue=billing reason=x]``."""
    match action:
        case Say(text=text):
            return text
        case Listen(expect=expect, slot=slot):
            return f"[listen expect={expect}" + (f" slot={slot}]" if slot else "]")
        case Transfer(queue=queue, number=number, reason=reason):
            target = f"queue={queue}" if queue else f"number={number}"
            return f"[transfer {target} reason={reason}]"
        case ScheduleCallback(queue=queue, reason=reason, at=at):
            return f"[callback queue={queue} reason={reason}" + (f" at={at}]" if at else "]")
        case CancelCallback(callback_id=callback_id):
            return f"[cancel callback {callback_id}]"
        case Hangup(reason=reason):
            return f"[hangup reason={reason}]"
    raise TypeError(f"not an action: {action!r}")
