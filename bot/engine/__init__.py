"""The sans-IO conversation engine.

``Engine(flow).start(call_id, CallStarted(...), now)`` begins a call and
``Engine(flow).step(session, event, now)`` applies each later event; both return the new
:class:`Session` and the :mod:`actions <bot.engine.actions>` for the transport to perform.
"""

from __future__ import annotations

from bot.engine.actions import (
    Action,
    Hangup,
    Listen,
    Say,
    ScheduleCallback,
    Transfer,
    describe,
)
from bot.engine.engine import LOOP_LIMIT, Engine
from bot.engine.events import (
    CallEnded,
    CallStarted,
    DigitsPressed,
    Event,
    SilenceTimedOut,
    SpeechRecognized,
)
from bot.engine.session import Session, Status, Turn, TurnKind

__all__ = [
    "LOOP_LIMIT",
    "Action",
    "CallEnded",
    "CallStarted",
    "DigitsPressed",
    "Engine",
    "Event",
    "Hangup",
    "Listen",
    "Say",
    "ScheduleCallback",
    "Session",
    "SilenceTimedOut",
    "SpeechRecognized",
    "Status",
    "Transfer",
    "Turn",
    "TurnKind",
    "describe",
]
