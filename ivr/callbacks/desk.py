"""The web side of callbacks: booking what the bot agreed, and what a call needs to know.

The engine decides (``ScheduleCallback``, ``CancelCallback``); this desk stores it, texts the
confirmation, and tells a new call about the caller's pending callback and the queues' waits.
A database failure never ends a call: it is logged, and the call goes on. A callback promised
to a caller while the database is down is kept in the :class:`BookingSpool` and stored (and
texted) once the database answers again.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

from bot.callback_time import earliest_callback
from bot.engine.actions import ScheduleCallback
from bot.engine.events import PendingCallback
from bot.flow.model import Flow
from ivr.callbacks.policy import RULES
from ivr.callbacks.ports import DialerError, Texter
from ivr.callbacks.spool import BookingSpool, SpoolError
from ivr.callbacks.texts import sms_text
from ivr.people.routing import expected_wait_seconds
from ivr.store import Store, StoreUnavailable
from ivr.store.callbacks import CallbackError, CallbackRecord, CallbackStore

log = logging.getLogger(__name__)

#: Answer waits older than this say nothing about the wait now.
WAIT_WINDOW = timedelta(hours=1)
#: How often spooled bookings are offered to the database again.
REPLAY_SECONDS = 10.0


class CallbackDesk:
    """Books, cancels and looks up callbacks for the web app.

    Args:
        store: The call store (reconnecting); callbacks live in the same database.
        flow: The current flow (queues, hours, callback rules).
        clock: Now, aware.
        texter: Sends SMS confirmations; ``None`` when no Twilio account is configured.
        caller_id: The number callbacks come from when the queue names none.
        spool: Where promised callbacks wait while the database is down; ``None``: nowhere
            (they are only logged).
        replay_seconds: How often spooled callbacks are offered to the database again.
    """

    def __init__(
        self,
        store: Callable[[], Store],
        flow: Callable[[], Flow],
        clock: Callable[[], datetime],
        texter: Texter | None = None,
        caller_id: str = "",
        spool: BookingSpool | None = None,
        replay_seconds: float = REPLAY_SECONDS,
    ) -> None:
        self._store = store
        self._flow = flow
        self._clock = clock
        self.texter = texter
        self.caller_id = caller_id
        self.spool = spool
        self._replay_seconds = replay_seconds
        self._replayer: threading.Thread | None = None
        self._replayer_lock = threading.Lock()  # starting the thread: never waits on the database
        self._replay_lock = threading.Lock()  # one replay at a time
        self._closed = threading.Event()

    def callbacks(self) -> CallbackStore:
        """The callback store (raises :class:`StoreUnavailable` while the database is down)."""
        return CallbackStore(self._store(), RULES)

    def book(
        self,
        action: ScheduleCallback,
        *,
        call_id: str | None,
        caller: str | None,
        called: str | None,
        language: str | None,
        slots: Mapping[str, str] | None = None,
        promised: bool = False,
    ) -> CallbackRecord | None:
        """Store the callback the bot agreed with the caller; text them if the flow says so.

        ``None`` when it is not stored now: it is logged with all it needs, and if the caller
        was already ``promised`` it (a voice booking) and the database is down, it is spooled
        and stored later. ``call_id`` is ``None`` for one booked without a call (the JSON API).
        """
        number = action.number or caller
        if not number:
            log.error("callback without a number not booked", extra={"call_id": call_id})
            return None
        booking = self._booking(action, number, call_id, called, language, slots)
        try:
            record = self.callbacks().schedule(**booking)
        except StoreUnavailable as error:
            if promised and self._keep(booking, str(error)):
                return None
            self._lost(booking, str(error))
            return None
        except CallbackError as error:
            self._lost(booking, str(error))
            return None
        log.info(
            "callback booked",
            extra={
                "call_id": call_id,
                "callback_id": record.id,
                "due_at": record.due_at.isoformat(),
            },
        )
        if action.sms:
            self.confirm_by_sms(record)
        return record

    def _booking(
        self,
        action: ScheduleCallback,
        number: str,
        call_id: str | None,
        called: str | None,
        language: str | None,
        slots: Mapping[str, str] | None,
    ) -> dict[str, Any]:
        """What the store is asked to book (and the spool keeps, if the database is down)."""
        flow, now = self._flow(), self._clock()
        rules = flow.queue_callbacks(action.queue)
        due = (
            datetime.fromisoformat(action.at)
            if action.at
            else earliest_callback(now, flow.queue_hours(action.queue), rules.quiet_hours)
        )
        return {
            "callback_id": uuid.uuid4().hex,
            "queue": action.queue,
            "number": number,
            "due_at": due,
            "now": now,
            "reason": action.reason,
            "call_id": call_id,
            "from_number": rules.caller_id or self.caller_id or called,
            "mode": str(rules.mode),
            "language": language,
            "context": {**dict(action.context), "slots": dict(slots or {})},
            "sms": action.sms,
            "max_attempts": rules.max_attempts,
            "retry_after_minutes": list(rules.retry_after_minutes),
            "replaces": action.replaces,
        }

    def _keep(self, booking: Mapping[str, Any], why: str) -> bool:
        """Spool a promised booking the database refused; whether it is now safe on disk."""
        if self.spool is None:
            return False
        try:
            path = self.spool.put(booking)
        except SpoolError as error:
            log.error("callback not spooled", extra={"error": str(error)})
            return False
        log.warning(
            "callback spooled until the database answers",
            extra={
                "call_id": booking["call_id"],
                "callback_id": booking["callback_id"],
                "number": booking["number"],  # the whole promise is in the log as well
                "queue": booking["queue"],
                "due_at": booking["due_at"].isoformat(),
                "file": str(path),
                "error": why,
            },
        )
        self.replay_in_background()
        return True

    def _lost(self, booking: Mapping[str, Any], why: str) -> None:
        # Everything needed to place it by hand is in this line: the promise is not lost.
        log.error(
            "callback not booked",
            extra={
                "call_id": booking["call_id"],
                "number": booking["number"],
                "queue": booking["queue"],
                "due_at": booking["due_at"].isoformat(),
                "error": why,
            },
        )

    def replay_spool(self) -> list[CallbackRecord]:
        """Store the spooled bookings the database takes now, and text those that asked."""
        if self.spool is None:
            return []
        with self._replay_lock:
            try:
                stored = self.spool.replay(self.callbacks().schedule)
            except StoreUnavailable:
                return []
        for record in stored:
            if record.sms:
                self.confirm_by_sms(record)
        return stored

    def replay_in_background(self) -> None:
        """Offer the spool to the database now, then every ``replay_seconds`` until it is empty."""
        if self.spool is None or not self.spool.pending():
            return
        with self._replayer_lock:
            if self._replayer is not None and self._replayer.is_alive():
                return

            def loop() -> None:
                assert self.spool is not None
                self.replay_spool()
                while self.spool.pending() and not self._closed.wait(self._replay_seconds):
                    self.replay_spool()

            self._replayer = threading.Thread(target=loop, name="callback-spool", daemon=True)
            self._replayer.start()

    def close(self) -> None:
        """Stop replaying the spool (what is left stays on disk for the next start)."""
        self._closed.set()

    def book_earliest(
        self,
        call_id: str,
        caller: str | None,
        queue: str | None,
        reason: str,
        language: str | None = None,
    ) -> CallbackRecord | None:
        """Book the earliest time for a caller the bot could not talk to (its voice failed).

        ``language`` is the call's: the callback is placed in it, by an agent who speaks it.
        """
        flow = self._flow()
        action = ScheduleCallback(reason, queue or flow.escalation.person_queue)
        return self.book(
            action, call_id=call_id, caller=caller, called=None, language=language, promised=True
        )

    def cancel(self, callback_id: str, *, by: str) -> CallbackRecord | None:
        """Cancel a waiting callback; ``None`` (logged) if it cannot be."""
        try:
            return self.callbacks().cancel(callback_id, self._clock(), by=by)
        except (StoreUnavailable, CallbackError) as error:
            log.warning(
                "callback not cancelled", extra={"callback_id": callback_id, "error": str(error)}
            )
            return None

    def pending(self, caller: str | None) -> PendingCallback | None:
        """The caller's next waiting callback, for the bot to ask about."""
        if not caller:
            return None
        try:
            waiting = self.callbacks().pending_for_number(caller)
        except StoreUnavailable as error:
            log.warning("pending callbacks not read", extra={"error": str(error)})
            return None
        if not waiting:
            return None
        first = waiting[0]
        return PendingCallback(first.id, first.due_at.isoformat(), first.number, first.queue)

    def expected_waits(self) -> dict[str, int]:
        """Seconds a caller can expect to wait for each queue, from its recent answers."""
        flow, now = self._flow(), self._clock()
        queues = set(flow.queues) | {flow.escalation.person_queue}
        waits: dict[str, int] = {}
        try:
            store = self._store()
            for queue in sorted(queues):
                newest_first = store.answer_waits(queue, since=now - WAIT_WINDOW)
                waits[queue] = expected_wait_seconds(newest_first[::-1])
        except StoreUnavailable as error:
            log.warning("queue waits not read", extra={"error": str(error)})
        return waits

    def confirm_by_sms(self, record: CallbackRecord) -> None:
        """Text the booked time; a failure is logged (the booking stands)."""
        if self.texter is None or not record.from_number:
            log.warning(
                "sms confirmation skipped: no Twilio account or sender number",
                extra={"callback_id": record.id},
            )
            return
        body = sms_text(self._flow(), record, self._clock())
        try:
            self.texter.send_sms(record.number, record.from_number, body)
        except DialerError as error:
            log.warning(
                "sms confirmation not sent", extra={"callback_id": record.id, "error": str(error)}
            )
