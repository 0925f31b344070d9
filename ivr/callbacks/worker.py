"""The callback worker: claim due callbacks, place each through a :class:`Ringer`, store why.

Usage::

    worker = CallbackWorker(CallbackStore(store, RULES), ringer, flow, staffing, settings)
    worker.tick()                 # one pass: claim, then dispatch each; ["placed", ...]
    worker.run(poll_seconds=1.0)  # tick until stop() (SIGTERM), finishing the dispatch in hand

Each dispatch writes ``dial_requested`` BEFORE the REST request and ``dial_placed`` after it,
so a worker that dies in between leaves a ``dialing`` row with no sid. When its lease expires,
another worker gets it back ``recovering`` and first asks Twilio for calls to that address
since then: one found is adopted, and only when Twilio has no record is the attempt dialed
again. The full guarantee is in docs/callbacks.md.

Agent first, busy means busy: the agent is reserved for the callback (the staffing's
:class:`~ivr.people.roster.Roster`) before the request, so one agent gets one callback at a
time; with nobody free the callback waits (``agents_busy``). The reservation lasts the whole
attempt, and a recovering worker takes it again before asking Twilio: while it holds the
agent, no other callback can have rung them, which is what makes a found call this one's.

Only agents who speak the callback's language (the caller's, stored with it) are rung; with
none of them on shift the callback waits for the next shift of one who does
(``nobody_speaks_language``), like one whose queue nobody staffs.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from bot.callback_time import can_ring
from bot.flow.model import CallbackMode, Flow
from ivr.callbacks.policy import next_ring_time
from ivr.callbacks.ports import DialerError, Ring, Ringer
from ivr.people.staffing import LastAgent, Staffing
from ivr.store import (
    CallbackRecord,
    CallbackStatus,
    CallbackStore,
    Claim,
    LeaseLost,
    StoreUnavailable,
)

logger = logging.getLogger(__name__)

#: Twilio's call list is filtered by start time; allow for clocks a little apart.
CLOCK_SKEW = timedelta(minutes=1)
#: When nobody may be rung within the policy's horizon, look again this much later.
NOTHING_SOON = timedelta(hours=12)
#: Agents on shift but none free (busy, away): look again this much later; the promise stays.
AGENTS_BUSY_WAIT = timedelta(seconds=30)
#: An agent's reservation outlasts the lease and the ring by this much, so a worker recovering
#: a dead worker's attempt (after the lease, plus a poll) renews it before it runs out.
HOLD_MARGIN = timedelta(seconds=60)


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class WorkerSettings:
    """What a worker needs besides its parts: who it is, and its limits.

    ``caller_id`` is the number callbacks come from when neither the queue nor the booking says.
    """

    worker_id: str
    caller_id: str = ""
    lease_seconds: float = 120.0
    batch: int = 5
    dial_timeout: int = 20


class CallbackWorker:
    """Places due callbacks; one per process (or thread), any number side by side."""

    def __init__(
        self,
        callbacks: CallbackStore,
        ringer: Ringer,
        flow: Flow,
        staffing: Staffing,
        settings: WorkerSettings,
        clock: Callable[[], datetime] = _utc_now,
    ) -> None:
        self.callbacks = callbacks
        self.ringer = ringer
        self.flow = flow
        self.staffing = staffing
        self.settings = settings
        self._clock = clock
        self._stop = threading.Event()

    def stop(self) -> None:
        """Ask :meth:`run` to return after the dispatch in hand (safe from a signal handler)."""
        self._stop.set()

    @property
    def stopping(self) -> bool:
        """Whether :meth:`stop` was called."""
        return self._stop.is_set()

    def run(self, poll_seconds: float = 1.0) -> None:
        """Tick until :meth:`stop`; a full batch is followed at once by the next tick."""
        logger.info("callback worker started", extra={"worker": self.settings.worker_id})
        while not self._stop.is_set():
            try:
                busy = len(self.tick()) >= self.settings.batch
            except StoreUnavailable as error:
                # The database comes back by itself; a lease keeps claims safe meanwhile.
                logger.warning("callback worker: %s", error)
                busy = False
            if not busy:
                self._stop.wait(poll_seconds)
        logger.info("callback worker stopped", extra={"worker": self.settings.worker_id})

    def tick(self, now: datetime | None = None) -> list[str]:
        """Claim due callbacks and dispatch each; what :meth:`dispatch` said of each.

        Claims left when :meth:`stop` is called are given back (``released``).
        """
        claims = self.callbacks.claim_due(
            self.settings.worker_id,
            now or self._clock(),
            self.settings.lease_seconds,
            self.settings.batch,
        )
        done: list[str] = []
        for claim in claims:
            if self._stop.is_set():
                # Stopping: give it back now rather than when the lease expires.
                self.callbacks.release(claim.callback.id, self.settings.worker_id, self._clock())
                done.append("released")
            else:
                done.append(self.dispatch(claim))
        return done

    def dispatch(self, claim: Claim) -> str:
        """Take one claimed callback one step further; returns what was done (for logs, tests).

        ``placed``, ``adopted`` (a call Twilio already had), ``deferred`` (not allowed to ring
        now, or no agent free), ``lost`` (a placed call never reported an outcome), ``failed``
        (Twilio refused or had no record after an error), ``unknown`` (Twilio unreachable: left
        for recovery), ``waiting`` (recovering, but the agent is held by another call, or
        nobody is free to ring again: asked again when the lease runs out), ``skipped`` (the
        lease was lost to a cancel, a move or another worker).
        """
        callback = claim.callback
        log: dict[str, object] = {
            "callback_id": callback.id,
            "call_id": callback.call_id,
            "queue": callback.queue,
        }
        try:
            if claim.recovering:
                return self._recover(callback, log)
            now = self._clock()
            later = self._next_ring_time(callback, now)
            if later > now:
                reason = self._not_now(callback, now)
                self.callbacks.defer(
                    callback.id, later, now, reason, worker_id=self.settings.worker_id
                )
                logger.info(
                    "callback deferred", extra={**log, "until": later.isoformat(), "reason": reason}
                )
                return "deferred"
            return self._dial(callback, attempt=callback.attempts + 1, log=log)
        except LeaseLost as error:
            logger.info("callback skipped: %s", error, extra=log)
            return "skipped"

    # -- one attempt ---------------------------------------------------------------------

    def _recover(self, callback: CallbackRecord, log: dict[str, object]) -> str:
        """A ``dialing`` callback whose worker died or hung: adopt its call, or dial again."""
        if callback.dial_sid:
            self.callbacks.record_outcome(
                callback.id,
                CallbackStatus.FAILED,
                self._clock(),
                {"reason": "no_final_status"},
                sid=callback.dial_sid,
            )
            self._release(callback)
            logger.warning("callback call never reported an outcome", extra=log)
            return "lost"
        if callback.dial_to and callback.dial_started_at:
            if not self._hold_again(callback, log):
                return "waiting"
            found = self._find(callback.dial_to, callback.dial_started_at)
            if found is None:
                return "unknown"
            if found:
                return self._adopt(callback, found[0], log)
        self._release(callback)  # Twilio has no call: the agent is free to be chosen afresh
        return self._dial(callback, attempt=max(1, callback.attempts), log=log)

    def _dial(self, callback: CallbackRecord, attempt: int, log: dict[str, object]) -> str:
        now = self._clock()
        customer_first = callback.mode == CallbackMode.CUSTOMER_FIRST
        to = callback.number if customer_first else self._take_agent(callback, now)
        if to is None:
            return self._wait(callback, now, log)
        call = self.ring_for(callback, to)
        started = self._clock()
        try:
            self.callbacks.dial_requested(
                callback.id,
                self.settings.worker_id,
                attempt,
                started,
                to=call.to,
                lease_seconds=self.settings.lease_seconds,
            )
        except LeaseLost:
            self._release(callback)  # nothing was requested: free the agent at once
            raise
        try:
            sid = self.ringer.ring(call)
        except DialerError as error:
            return self._dial_failed(callback, call, started, error, log)
        self.callbacks.dial_placed(callback.id, sid, self._clock())
        logger.info("callback placed", extra={**log, "sid": sid, "attempt": attempt, "to": call.to})
        return "placed"

    def _dial_failed(
        self,
        callback: CallbackRecord,
        call: Ring,
        started: datetime,
        error: DialerError,
        log: dict[str, object],
    ) -> str:
        detail = {"code": error.code, "http_status": error.status, "error": error.message}
        # Only a request that may have been carried out can have left a call behind.
        found = self._find(call.to, started) if error.unknown_outcome else []
        if found is None:
            return "unknown"  # the lease will expire; the next worker asks Twilio again
        if found:
            return self._adopt(callback, found[0], log)
        self.callbacks.record_outcome(callback.id, CallbackStatus.FAILED, self._clock(), detail)
        self._release(callback)
        logger.warning("callback dial failed: %s", error.message, extra={**log, **detail})
        return "failed"

    def _wait(self, callback: CallbackRecord, now: datetime, log: dict[str, object]) -> str:
        """Nobody to ring now: wait for a free agent, or for the next shift."""
        if callback.status == CallbackStatus.DIALING:
            return "waiting"  # recovering: asked again when the lease runs out
        if self._speakers(callback).staffed(callback.queue, now):
            later, reason = now + AGENTS_BUSY_WAIT, "agents_busy"  # on shift, none free
        else:
            # Nobody on shift who speaks it (e.g. shifts ended while it waited): try later.
            later, reason = self._next_ring_time(callback, now), self._unstaffed(callback, now)
        self.callbacks.defer(callback.id, later, now, reason, worker_id=self.settings.worker_id)
        logger.info(
            "callback deferred", extra={**log, "until": later.isoformat(), "reason": reason}
        )
        return "deferred"

    def _adopt(self, callback: CallbackRecord, sid: str, log: dict[str, object]) -> str:
        """Twilio has the call our lost request created: keep it instead of dialing again."""
        self.callbacks.dial_placed(callback.id, sid, self._clock(), adopted=True)
        logger.info("callback call adopted", extra={**log, "sid": sid})
        return "adopted"

    def ring_for(self, callback: CallbackRecord, to: str) -> Ring:
        """How ``callback``'s first leg rings ``to`` (the agent, or the customer)."""
        rules = self.flow.queue_callbacks(callback.queue)
        customer_first = callback.mode == CallbackMode.CUSTOMER_FIRST
        return Ring(
            callback_id=callback.id,
            to=to,
            from_=rules.caller_id or callback.from_number or self.settings.caller_id,
            screen_for_machine=customer_first,
            timeout=self.settings.dial_timeout,
        )

    # -- agents --------------------------------------------------------------------------

    def _take_agent(self, callback: CallbackRecord, now: datetime) -> str | None:
        """The address of the first free agent, reserved for ``callback``; ``None``: none free.

        The preferred agent first (if free and on shift), then the queue's in order; an agent
        another call or callback holds is passed over. Without agents (``IVR_AGENT_NUMBERS``)
        or a roster, nobody is reserved, as before presence and busy existed.
        """
        last = LastAgent(callback.agent_id, 0.0) if callback.agent_id else None
        roster = self.staffing.roster
        for person in self._speakers(callback).candidates(callback.queue, now, last):
            if person.agent is None or roster is None:
                return person.address
            if roster.reserve(person.agent, now, self._hold_until(now), callback_id=callback.id):
                return person.address
        return None

    def _hold_again(self, callback: CallbackRecord, log: dict[str, object]) -> bool:
        """Before recovering: take the rung agent's reservation again; ``False``: wait.

        Held by another call or callback right now: that one may have rung the agent since,
        so its call could be taken for ours; wait until it ends. Ours, run out or not: renew
        it. Gone or another's that ran out: the agent was free for a while (no worker came
        within the margin), so the search may find a call that is not ours: said in the log.
        """
        roster = self.staffing.roster
        agent = self.staffing.agent_at(callback.dial_to or "")
        if roster is None or agent is None or callback.mode == CallbackMode.CUSTOMER_FIRST:
            return True
        now = self._clock()
        held = roster.holders().get(agent)
        if held is not None and held.callback_id != callback.id and held.until > now:
            logger.info("callback recovery waits for its agent", extra={**log, "agent": agent})
            return False
        if held is None or held.callback_id != callback.id:
            logger.warning(
                "callback recovery: the agent's reservation ran out meanwhile",
                extra={**log, "agent": agent},
            )
        return roster.reserve(agent, now, self._hold_until(now), callback_id=callback.id)

    def _hold_until(self, now: datetime) -> datetime:
        """The end of an agent's reservation taken at ``now``: past the lease and the ring."""
        ring = self.settings.lease_seconds + self.settings.dial_timeout
        return now + timedelta(seconds=ring) + HOLD_MARGIN

    def _release(self, callback: CallbackRecord) -> None:
        """The attempt is over (or never went out): its agent is free."""
        if self.staffing.roster is not None:
            self.staffing.roster.release(callback_id=callback.id)

    # -- decisions -----------------------------------------------------------------------

    def _speakers(self, callback: CallbackRecord) -> Staffing:
        """The staffing for ``callback``: only agents who speak its language are rung."""
        return self.staffing.speaking(callback.language)

    def _not_now(self, callback: CallbackRecord, now: datetime) -> str:
        """Why ``callback`` may not ring at ``now``: the queue closed or quiet, or unstaffed."""
        rules = self.flow.queue_callbacks(callback.queue)
        if not can_ring(now, self.flow.queue_hours(callback.queue), rules.quiet_hours):
            return "closed_or_quiet"
        return self._unstaffed(callback, now)

    def _unstaffed(self, callback: CallbackRecord, now: datetime) -> str:
        """Nobody to ring by shifts: none on shift at all, or none who speaks its language."""
        if self.staffing.staffed(callback.queue, now):
            return "nobody_speaks_language"
        return "nobody_on_shift"

    def _next_ring_time(self, callback: CallbackRecord, now: datetime) -> datetime:
        """``now`` or the first moment the queue is open, not quiet, and somebody is on shift.

        Somebody who speaks the callback's language. Shifts only: whether agents are away or
        busy now says nothing about later.
        """
        hours = self.flow.queue_hours(callback.queue)
        quiet = self.flow.queue_callbacks(callback.queue).quiet_hours
        speakers = self._speakers(callback)

        def staffed(moment: datetime) -> bool:
            return speakers.staffed(callback.queue, moment)

        return next_ring_time(now, hours, quiet, staffed) or now + NOTHING_SOON

    def _find(self, to: str, since: datetime) -> list[str] | None:
        """Calls we placed to ``to`` since ``since`` that no callback claims, oldest first.

        ``None`` if Twilio cannot say. The ringer lists only calls placed through the API (not
        the legs ``<Dial>`` rings: transfers, second legs); calls stored against a callback, in
        this attempt or an earlier one, are left out: in agent-first mode many callbacks ring
        the same agent, one after another.
        """
        try:
            sids = self.ringer.find_rings(to, since - CLOCK_SKEW)
        except DialerError as error:
            logger.warning("callback: Twilio cannot list calls: %s", error.message)
            return None
        taken = self.callbacks.sids_in_use(sids)
        return [sid for sid in reversed(sids) if sid not in taken]
