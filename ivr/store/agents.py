"""Agents' presence (set in the console) and who is busy (being rung or on a call).

Both live in the database so every web process and every callback worker sees the same.
Being busy is one row per agent: :meth:`AgentStates.reserve` inserts it, and the primary key
makes a second reservation of the same agent fail, across processes, so an agent is never rung
twice at once. Each reservation has an end (``until``); one a dead process left behind expires
then and the agent is free again.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, or_, select, update

from ivr.store.calls import Store
from ivr.store.database import aware
from ivr.store.schema import AgentBusyRow, PresenceRow


class Presence(enum.StrEnum):
    """What an agent said about themselves in the console."""

    AVAILABLE = "available"
    AWAY = "away"
    OFFLINE = "offline"


class BusyKind(enum.StrEnum):
    """Why an agent cannot be rung now."""

    RINGING = "ringing"
    ON_CALL = "on_call"


@dataclass(frozen=True)
class Busy:
    """An agent being rung for, or talking on, a call (``call_id``) or a callback."""

    agent: str
    kind: BusyKind
    call_id: str | None
    callback_id: str | None
    since: datetime
    until: datetime


class AgentStates:
    """Presence and busy agents in ``store``'s database; thread-safe."""

    def __init__(self, store: Store) -> None:
        self._db = store.database

    # -- presence -------------------------------------------------------------------------

    def set_presence(self, agent: str, presence: Presence, now: datetime) -> None:
        """Record what ``agent`` said: available, away or offline."""
        now = aware(now, "now")
        with self._db.write("set presence", agent) as session:
            stmt = self._db.insert(PresenceRow).values(
                agent=agent, status=Presence(presence).value, changed_at=now
            )
            session.execute(
                stmt.on_conflict_do_update(
                    index_elements=[PresenceRow.agent],
                    set_={"status": stmt.excluded.status, "changed_at": stmt.excluded.changed_at},
                )
            )

    def presence(self) -> Mapping[str, Presence]:
        """Every agent's presence; an agent never seen in the console is not in it."""
        with self._db.read("presence") as session:
            rows = session.scalars(select(PresenceRow)).all()
            return {row.agent: Presence(row.status) for row in rows}

    # -- busy -----------------------------------------------------------------------------

    def reserve(
        self,
        agent: str,
        now: datetime,
        until: datetime,
        *,
        call_id: str | None = None,
        callback_id: str | None = None,
    ) -> bool:
        """Mark ``agent`` as being rung for a call or a callback; ``False`` if already busy.

        A reservation past its ``until`` no longer counts and is taken over. Reserving again
        for the same call or callback renews it.
        """
        now, until = aware(now, "now"), aware(until, "until")
        with self._db.write("reserve agent", agent, immediate=True) as session:
            stmt = self._db.insert(AgentBusyRow).values(
                agent=agent,
                kind=BusyKind.RINGING.value,
                call_id=call_id,
                callback_id=callback_id,
                since=now,
                until=until,
            )
            new = stmt.excluded
            mine = (
                AgentBusyRow.call_id == call_id
                if call_id is not None
                else AgentBusyRow.callback_id == callback_id
            )
            taken = session.execute(
                stmt.on_conflict_do_update(
                    index_elements=[AgentBusyRow.agent],
                    set_={
                        "kind": new.kind,
                        "call_id": new.call_id,
                        "callback_id": new.callback_id,
                        "since": new.since,
                        "until": new.until,
                    },
                    where=or_(AgentBusyRow.until <= now, mine),
                ).returning(AgentBusyRow.agent)  # a row back only if inserted or taken over
            ).scalar_one_or_none()
            return taken is not None

    def on_call(
        self,
        agent: str,
        now: datetime,
        until: datetime,
        *,
        call_id: str | None = None,
        callback_id: str | None = None,
    ) -> None:
        """``agent`` answered: busy on the call (or callback) until it ends, at most ``until``."""
        now, until = aware(now, "now"), aware(until, "until")
        with self._db.write("agent on call", agent) as session:
            stmt = self._db.insert(AgentBusyRow).values(
                agent=agent,
                kind=BusyKind.ON_CALL.value,
                call_id=call_id,
                callback_id=callback_id,
                since=now,
                until=until,
            )
            session.execute(
                stmt.on_conflict_do_update(
                    index_elements=[AgentBusyRow.agent],
                    set_={
                        "kind": stmt.excluded.kind,
                        "call_id": stmt.excluded.call_id,
                        "callback_id": stmt.excluded.callback_id,
                        "since": stmt.excluded.since,
                        "until": stmt.excluded.until,
                    },
                )
            )

    def release(self, *, call_id: str | None = None, callback_id: str | None = None) -> None:
        """Free every agent busy with this call (or callback): it ended or rang out."""
        if (call_id is None) == (callback_id is None):
            raise ValueError("release one call or one callback")
        key = (
            AgentBusyRow.call_id == call_id if call_id else AgentBusyRow.callback_id == callback_id
        )
        with self._db.write("release agents", call_id or callback_id) as session:
            session.execute(delete(AgentBusyRow).where(key))

    def release_agent(self, agent: str, *, call_id: str) -> None:
        """Free ``agent`` if they are busy with ``call_id`` (their phone rang out)."""
        with self._db.write("release agent", agent) as session:
            session.execute(
                delete(AgentBusyRow).where(
                    AgentBusyRow.agent == agent, AgentBusyRow.call_id == call_id
                )
            )

    def busy(self, now: datetime) -> Mapping[str, Busy]:
        """The agents busy at ``now`` (reservations that have not run out)."""
        now = aware(now, "now")
        with self._db.read("busy agents") as session:
            rows = session.scalars(select(AgentBusyRow).where(AgentBusyRow.until > now)).all()
            return {row.agent: _busy(row) for row in rows}

    def extend(self, agent: str, until: datetime) -> None:
        """Keep ``agent``'s reservation until ``until`` (a recovering worker still owns it)."""
        with self._db.write("extend agent", agent) as session:
            session.execute(
                update(AgentBusyRow)
                .where(AgentBusyRow.agent == agent)
                .values(until=aware(until, "until"))
            )


def _busy(row: AgentBusyRow) -> Busy:
    return Busy(row.agent, BusyKind(row.kind), row.call_id, row.callback_id, row.since, row.until)
