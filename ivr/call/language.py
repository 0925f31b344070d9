"""The language a phone call starts in: the flow's choice, with the caller's last call."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from bot.flow.model import RETURNING_CALLER, Flow
from bot.language import Chosen, choose_language
from ivr.store import Store, StoreUnavailable

log = logging.getLogger(__name__)

#: A caller's language is remembered this long: a year covers a contract's yearly calls.
REMEMBERED = timedelta(days=365)


def first_language(
    flow: Flow,
    store: Store | None,
    *,
    call_id: str,
    caller: str | None,
    called: str | None,
    now: datetime,
) -> Chosen:
    """The call's first language (a returning caller's last one looked up only when needed)."""
    wanted = RETURNING_CALLER in flow.language_choice.order and len(flow.languages) > 1
    last = last_language(store, caller, call_id, now) if wanted else None
    chosen = choose_language(flow, called=called, caller=caller, last=last)
    log.info(
        "language chosen",
        extra={"call_id": call_id, "language": chosen.language, "reason": chosen.reason},
    )
    return chosen


def last_language(
    store: Store | None, caller: str | None, call_id: str, now: datetime
) -> str | None:
    """The language ``caller``'s latest earlier call ended in, if the store knows it."""
    if store is None or not caller:
        return None
    try:
        calls = store.calls_from(caller, since=now - REMEMBERED, exclude=call_id, limit=5)
    except StoreUnavailable:
        return None  # the database is down: the other signals still choose
    return next((call.language for call in calls if call.language), None)
