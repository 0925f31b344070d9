"""What the console shows as it happens: calls in progress, a call's newest turns, open callbacks.

Read-only queries for pages that poll (server-sent events): each is one or two indexed
SELECTs, so many open consoles cost the database little.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ivr.store.callback_table import to_record
from ivr.store.calls import Store, call_from_row, turn_from_row
from ivr.store.database import aware
from ivr.store.records import OPEN, CallbackRecord, CallRecord, TurnRecord
from ivr.store.schema import CallbackRow, CallRow, TurnRow


@dataclass(frozen=True)
class LiveCall:
    """A call in progress and what the caller said last."""

    call: CallRecord
    last_words: str | None
    turns: int
    step: str | None = None  # the flow step of the caller's newest turn


class LiveReads:
    """The console's live reads over ``store``'s database; thread-safe."""

    def __init__(self, store: Store) -> None:
        self._db = store.database

    def in_progress(self, since: datetime, limit: int = 100) -> list[LiveCall]:
        """Calls started since ``since`` that have not ended, newest first."""
        since = aware(since, "since")
        with self._db.read("calls in progress") as session:
            rows = session.scalars(
                select(CallRow)
                .where(CallRow.started_at >= since, CallRow.ended_at.is_(None))
                .order_by(CallRow.started_at.desc())
                .limit(limit)
            ).all()
            ids = [row.call_id for row in rows]
            last = self._last_turns(session, ids)
            return [
                LiveCall(call_from_row(row, (), ()), *last.get(row.call_id, (None, 0, None)))
                for row in rows
            ]

    @staticmethod
    def _last_turns(
        session: Session, call_ids: list[str]
    ) -> dict[str, tuple[str | None, int, str | None]]:
        """Per call: the newest turn's words, how many turns it has, and the newest turn's step."""
        if not call_ids:
            return {}
        counts = session.execute(
            select(TurnRow.call_id, func.max(TurnRow.turn_index), func.count())
            .where(TurnRow.call_id.in_(call_ids))
            .group_by(TurnRow.call_id)
        ).all()
        newest = {call_id: index for call_id, index, _ in counts}
        last: dict[str, tuple[str | None, str | None]] = {}
        if newest:
            for call_id, index, text, step in session.execute(
                select(TurnRow.call_id, TurnRow.turn_index, TurnRow.text, TurnRow.step).where(
                    TurnRow.call_id.in_(list(newest)),
                    TurnRow.turn_index.in_(set(newest.values())),
                )
            ):
                if index == newest[call_id]:  # another call's newest index may be this one's older
                    last[call_id] = (text, step)
        found: dict[str, tuple[str | None, int, str | None]] = {}
        for call_id, _, count in counts:
            text, step = last.get(call_id, (None, None))
            found[call_id] = (text, count, step)
        return found

    def turns_after(self, call_id: str, after: int) -> tuple[CallRecord | None, list[TurnRecord]]:
        """The call (without turns) and its turns numbered above ``after``, in order."""
        with self._db.read("turns after", call_id) as session:
            row = session.get(CallRow, call_id)
            if row is None:
                return None, []
            turns = session.scalars(
                select(TurnRow)
                .where(TurnRow.call_id == call_id, TurnRow.turn_index > after)
                .order_by(TurnRow.turn_index)
            ).all()
            return call_from_row(row, (), ()), [turn_from_row(turn) for turn in turns]

    def open_callbacks(self, limit: int = 200) -> list[CallbackRecord]:
        """Callbacks not placed yet (waiting or claimed by an agent), soonest first."""
        with self._db.read("open callbacks") as session:
            rows = session.scalars(
                select(CallbackRow)
                .where(CallbackRow.status.in_(sorted(status.value for status in OPEN)))
                .order_by(CallbackRow.due_at, CallbackRow.id)
                .limit(limit)
            ).all()
            return [to_record(row) for row in rows]
