"""Replies to the callback confirmation text: ``CANCEL``, or a new time in words.

The reply acts on the sender's next waiting callback. A time is read like a caller's words
("tomorrow at 10am", "zítra v 10"), in the callback's language and the queue's time zone, and
snapped into its hours. The answer is the text sent back, in the callback's language too.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from datetime import datetime

from bot.flow.model import Flow
from bot.text import fold
from ivr.callbacks.texts import language_of, read_time, sms_text, sms_wording, written_when
from ivr.store import CallbackError, CallbackStore, StoreUnavailable

log = logging.getLogger(__name__)

#: "Cancel" in each of the line's languages (read folded: "ZRUŠIT" is "zrusit").
_CANCEL = re.compile(
    r"^\s*(cancel|don'?t call|no thanks?|zrusit|zrus|anuluj|odwolaj|atcelt|atceliet)\b",
    re.IGNORECASE,
)


class TextReplies:
    """Acts on a caller's text about their callback."""

    def __init__(
        self,
        callbacks: Callable[[], CallbackStore],
        flow: Callable[[], Flow],
        clock: Callable[[], datetime],
    ) -> None:
        self._callbacks = callbacks
        self._flow = flow
        self._clock = clock

    def answer(self, sender: str, body: str) -> str:
        """Cancel or move ``sender``'s next callback as ``body`` says; the text to send back."""
        flow, now = self._flow(), self._clock()
        try:
            callbacks = self._callbacks()
            waiting = callbacks.pending_for_number(sender)
        except StoreUnavailable as error:
            log.error("sms reply not handled: database down", extra={"error": str(error)})
            return sms_wording(flow.default_language, "unavailable")
        if not waiting:
            return sms_wording(flow.default_language, "none", name=flow.name)
        booked = waiting[0]
        language = language_of(flow, booked)
        log_extra = {"callback_id": booked.id, "call_id": booked.call_id}
        try:
            if _CANCEL.match(fold(body)):
                callbacks.cancel(booked.id, now, by="sms")
                log.info("callback cancelled by sms", extra=log_extra)
                return sms_wording(language, "cancelled", name=flow.name)
            answer = read_time(flow, body, booked.queue, language, now)
            if answer.at is None:  # not a time: say again what the confirmation said
                return sms_text(flow, booked, now)
            moved = callbacks.move(booked.id, answer.at, now, by="sms")
        except (StoreUnavailable, CallbackError) as error:
            log.warning("sms reply not applied", extra={**log_extra, "error": str(error)})
            return sms_wording(language, "unchangeable")
        when = written_when(flow, moved, now)
        log.info("callback moved by sms", extra={**log_extra, "due_at": moved.due_at.isoformat()})
        return sms_wording(language, "moved", name=flow.name, when=when)
