"""The text simulator: a chat in the terminal against the real engine and the real NLU.

It is one more transport in front of :class:`bot.dialogue.Dialogue`, not a second
implementation. A line of input is one caller turn:

* ``some words``      the caller says them
* ``[keypad 0]``      the caller presses keys (``0`` = a person)
* ``[silence]``       the caller says nothing until the listening timeout
* ``[hangup]``        the caller hangs up
* ``# ...``           a comment (scripts); blank lines are skipped
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TextIO

from bot.dialogue import Dialogue, Reply
from bot.engine import Engine, Turn
from bot.engine.actions import Listen, Say, describe
from bot.nlu.result import NLU

_CONTROL = re.compile(r"^\[(?P<verb>keypad|silence|hangup)(?:\s+(?P<arg>[0-9*#]+))?\]$")


class ScriptError(ValueError):
    """A simulator input line is not understood; says which line and why."""


@dataclass(frozen=True)
class CallerTurn:
    """One parsed input line."""

    kind: str  # "speech" | "keypad" | "silence" | "hangup"
    text: str = ""


def parse_line(line: str, number: int = 0) -> CallerTurn | None:
    """Parse one input line; ``None`` for blank lines and comments."""
    line = line.strip()
    if not line or line.startswith("#"):
        return None
    if line.startswith("["):
        match = _CONTROL.match(line)
        if not match or (match["verb"] == "keypad") != bool(match["arg"]):
            raise ScriptError(
                f"line {number}: {line!r} is not one of [keypad DIGITS], [silence], [hangup]"
            )
        return CallerTurn(match["verb"], match["arg"] or "")
    return CallerTurn("speech", line)


class Simulator:
    """Runs a conversation from lines of input and writes what the bot does to ``out``."""

    def __init__(
        self,
        engine: Engine,
        nlu: NLU,
        out: TextIO,
        *,
        verbose: bool = False,
        as_json: bool = False,
        call_id: str = "sim-1",
        caller: str | None = None,
        called: str | None = None,
        language: str | None = None,
    ) -> None:
        self.dialogue = Dialogue(engine, nlu, call_id)
        self.called = called
        self.language = language
        self.out = out
        self.verbose = verbose
        self.as_json = as_json
        self.caller = caller
        self.turn = 0

    @property
    def active(self) -> bool:
        """Whether the call is still with the bot (not transferred, not ended)."""
        return self.dialogue.session.active

    def start(self, now: datetime) -> None:
        """Answer the call and show the greeting."""
        reply = self.dialogue.start(
            now, caller=self.caller, called=self.called, language=self.language
        )
        self._show(None, reply)

    def feed(self, turn: CallerTurn, now: datetime) -> None:
        """Play one caller turn and show the bot's answer."""
        if turn.kind == "speech":
            reply = self.dialogue.hear(turn.text, now)
        elif turn.kind == "keypad":
            reply = self.dialogue.press(turn.text, now)
        elif turn.kind == "silence":
            reply = self.dialogue.silence(now)
        else:
            reply = self.dialogue.hang_up(now)
        self._show(turn, reply)

    def run(self, lines: Iterable[str], clock: Callable[[], datetime]) -> None:
        """Start the call, then play ``lines`` until they end or the bot lets go of the call.

        ``clock`` gives the time of each turn (a fixed one for scripts pinned with --now).
        Raises :class:`ScriptError` on a line it does not understand.
        """
        self.start(clock())
        for number, line in enumerate(lines, start=1):
            if not self.active:
                break
            turn = parse_line(line, number)
            if turn is not None:
                self.feed(turn, clock())

    def _show(self, turn: CallerTurn | None, reply: Reply) -> None:
        session = self.dialogue.session
        record: Turn | None = session.turns[-1] if turn and session.turns else None
        if self.as_json:
            self.out.write(json.dumps(self._as_json(turn, reply, record), ensure_ascii=False))
            self.out.write("\n")
        else:
            self._as_text(reply, record)
        self.out.flush()
        self.turn += 1

    def _as_text(self, reply: Reply, record: Turn | None) -> None:
        if self.verbose and reply.nlu is not None:
            ranking = ", ".join(f"{s.name} {s.confidence:.2f}" for s in reply.nlu.ranking[:3])
            decision = record.decision if record else ""
            self.out.write(
                f"      ({ranking}; margin {reply.nlu.margin:.2f}; "
                f"{reply.nlu_ms:.0f} ms) -> {decision}\n"
            )
        elif self.verbose and reply.nlu_error:
            self.out.write(f"      (NLU unavailable: {reply.nlu_error})\n")
        for action in reply.actions:
            if isinstance(action, Say):
                self.out.write(f"bot:  {action.text}\n")
            elif not isinstance(action, Listen) or self.verbose:
                self.out.write(f"      {describe(action)}\n")

    def _as_json(
        self, turn: CallerTurn | None, reply: Reply, record: Turn | None
    ) -> dict[str, Any]:
        session = self.dialogue.session
        entry: dict[str, Any] = {
            "turn": self.turn,
            "input": None if turn is None else {turn.kind: turn.text or True},
            "intent": reply.nlu.intent if reply.nlu else None,
            "confidence": round(reply.nlu.confidence, 4) if reply.nlu else None,
            "decision": record.decision if record else None,
            "step": session.step_id,
            "bot": [a.text for a in reply.actions if isinstance(a, Say)],
            "actions": [describe(a) for a in reply.actions if not isinstance(a, Say)],
            "status": str(session.status),
            "slots": dict(session.slots),
        }
        if reply.nlu_error:
            entry["nlu_error"] = reply.nlu_error
        if self.verbose and reply.nlu:
            entry["ranking"] = [[s.name, round(s.confidence, 4)] for s in reply.nlu.ranking]
            entry["entities"] = [{"entity": e.name, "value": e.value} for e in reply.nlu.entities]
            entry["nlu_ms"] = round(reply.nlu_ms or 0.0, 1)
        return entry
