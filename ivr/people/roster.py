"""Who can be rung now: what agents said in the console (presence) and who is busy.

Routing (:mod:`ivr.people.routing`) stays pure; this is where the two facts are read from the
store (:class:`~ivr.store.AgentStates`) and where busy reservations are made and released.

An agent with no presence row (never logged into the console, a phone-only agent) counts as
available, so a line without the console routes as before. Presence is only about now: future
ring times (quiet hours, shifts) are decided from shifts alone.

Two modes, because the two users want different things when the database fails:

* ``tolerant`` (the web app): a caller must still reach a person, so presence is unknown
  (everyone available), nobody is busy and a reservation is taken as granted; each failure is
  logged, none is raised.
* strict (the callback worker): :class:`~ivr.store.StoreUnavailable` is raised, because the
  worker's delivery guarantee rests on the reservation really being held; the worker retries
  the whole dispatch when the database is back.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import UTC, datetime

from ivr.store import AgentStates, Busy, Presence, StoreUnavailable

log = logging.getLogger(__name__)

#: Presence that keeps an agent from being rung.
NOT_HERE = frozenset({Presence.AWAY, Presence.OFFLINE})
#: Earlier than any reservation: :meth:`AgentStates.busy` at this moment lists every row.
_EVER = datetime(1970, 1, 1, tzinfo=UTC)


class Roster:
    """Presence and busy agents, read and reserved through ``states``.

    Args:
        states: The agents' table, or ``None`` while the database is not connected (the
            web app's store is made on first use; counts as a failure); asked at each use.
        tolerant: Never raise for a database failure (see the module's docstring).
    """

    def __init__(self, states: Callable[[], AgentStates | None], *, tolerant: bool) -> None:
        self._states = states
        self.tolerant = tolerant

    def unavailable(self, now: datetime) -> frozenset[str]:
        """Agents who may not be rung at ``now``: away or offline, or busy."""
        try:
            states = self._use("presence")
            presence = states.presence()
            busy = states.busy(now)
        except StoreUnavailable as error:
            self._failed("presence and busy agents unknown: everyone counts as free", error)
            return frozenset()
        away = {agent for agent, said in presence.items() if said in NOT_HERE}
        return frozenset(away | set(busy))

    def reserve(
        self,
        agent: str,
        now: datetime,
        until: datetime,
        *,
        call_id: str | None = None,
        callback_id: str | None = None,
    ) -> bool:
        """Mark ``agent`` as being rung until ``until``; ``False`` if someone else holds them.

        Reserving again for the same call or callback renews it. Tolerant and the database
        down: ``True`` (the agent is rung as before presence and busy existed).
        """
        try:
            return self._use("reserve").reserve(
                agent, now, until, call_id=call_id, callback_id=callback_id
            )
        except StoreUnavailable as error:
            self._failed(f"agent {agent} not reserved: rung without a reservation", error)
            return True

    def on_call(
        self,
        agent: str,
        now: datetime,
        until: datetime,
        *,
        call_id: str | None = None,
        callback_id: str | None = None,
    ) -> None:
        """``agent`` answered: busy with the call (or callback) until it ends, at most ``until``."""
        try:
            self._use("on call").on_call(
                agent, now, until, call_id=call_id, callback_id=callback_id
            )
        except StoreUnavailable as error:
            self._failed(f"agent {agent} not marked on a call", error)

    def release(self, *, call_id: str | None = None, callback_id: str | None = None) -> None:
        """Free every agent busy with this call (or callback)."""
        try:
            self._use("release").release(call_id=call_id, callback_id=callback_id)
        except StoreUnavailable as error:
            # Their reservation runs out by itself (its ``until``).
            self._failed(f"agents of {call_id or callback_id} not released", error)

    def holders(self) -> Mapping[str, Busy]:
        """Every agent's reservation row, run out or not (a recovering worker's question)."""
        return self._use("holders").busy(_EVER)

    def _use(self, doing: str) -> AgentStates:
        states = self._states()
        if states is None:
            raise StoreUnavailable(doing, "(not connected)", "the database is not connected")
        return states

    def _failed(self, what: str, error: StoreUnavailable) -> None:
        if not self.tolerant:
            raise error
        log.warning("%s: %s", what, error, extra={"error": str(error)})
