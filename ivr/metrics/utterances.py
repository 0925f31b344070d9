"""The utterances the bot misunderstood most, grouped by similar text.

A caller's speech turn counts as misunderstood when its NLU confidence is under the threshold,
when the bot asked a clarifying question or fell back (:data:`MISUNDERSTOOD`), or when the
caller's very next turn asked for a person (``global:person``: they gave up on the bot right
after it). Utterances are similar when :func:`normalise` makes them equal.
"""

from __future__ import annotations

import heapq
import unicodedata
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from functools import lru_cache

from sqlalchemy import ColumnElement, and_, case, or_, select
from sqlalchemy.orm import Session, aliased

from ivr.metrics.figures import CALL_LINKS, Misunderstood
from ivr.metrics.period import Period
from ivr.metrics.sql import json_list, json_row
from ivr.store.schema import CallRow, TurnRow

#: Decisions of a turn the bot did not understand: it asked again, asked which one, or gave up.
MISUNDERSTOOD = (
    "clarify",
    "clarify_failed",
    "misunderstood",
    "booking:misunderstood",
    "booking:unclear",
)
#: The caller asked for a person (the decision of the next turn that marks a misunderstanding).
ASKED_FOR_PERSON = "global:person"
#: A request for a person this soon after the period still marks the period's last turn.
NEXT_TURN = timedelta(hours=1)
#: Words that carry no meaning in a request, dropped before comparing.
FILLERS = frozenset(
    {
        "um", "umm", "uh", "uhh", "uhm", "er", "erm", "ah", "eh", "hm", "hmm", "mm", "mmm", "oh",
        "well", "like", "so", "just", "actually", "basically", "please", "okay", "ok",
    }
)  # fmt: skip


@lru_cache(maxsize=65536)
def normalise(text: str) -> str:
    """The form similar utterances share.

    Case folded, diacritics dropped (``café`` is ``cafe``), punctuation and symbols turned into
    spaces, :data:`FILLERS` dropped (unless nothing else is left), a word repeated at once kept
    once (``I I want`` is ``i want``), words joined by single spaces.
    """
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    plain = unicodedata.normalize("NFC", bare).casefold()
    words = "".join(ch if ch.isalnum() else " " for ch in plain).split()
    kept = [word for word in words if word not in FILLERS] or words
    return " ".join(word for i, word in enumerate(kept) if i == 0 or kept[i - 1] != word)


@dataclass(frozen=True)
class Heard:
    """A misunderstood turn: its row id (later turns have larger ones), call and words."""

    id: int
    call_id: str
    text: str
    asked_for_person: bool  # the caller's next turn asked for a person


def misunderstood_turns(
    session: Session, period: Period, queue: str | None, confidence: float
) -> list[Heard]:
    """The misunderstood turns heard in the period (in ``queue``'s calls if given).

    One pass over the period's turns (and the hour after it, for a request for a person that
    came just after the end) finds those flagged by their own confidence or decision and those
    asking for a person, with the turn before each of the latter.
    """
    turn, before = TurnRow, aliased(TurnRow)
    flagged = and_(
        _spoken(turn),
        or_(turn.confidence < confidence, turn.decision.in_(MISUNDERSTOOD)),
        turn.at < period.end,
    )
    person = turn.decision == ASKED_FOR_PERSON
    said_before = (  # the turn before a request for a person, if heard in the period
        select(json_row(before.id, before.text))
        .where(
            before.call_id == turn.call_id,
            before.turn_index == turn.turn_index - 1,
            _spoken(before),
            before.at >= period.start,
            before.at < period.end,
        )
        .scalar_subquery()
    )
    row = json_row(
        turn.id,
        turn.call_id,
        turn.turn_index,
        turn.text,
        flagged,
        person,
        case((person, said_before), else_=None),  # looked up for those rows only
    )
    query = select(json_list(row)).where(
        turn.at >= period.start, turn.at < period.end + NEXT_TURN, or_(flagged, person)
    )
    if queue is not None:
        query = query.join(CallRow, CallRow.call_id == turn.call_id).where(CallRow.queue == queue)
    found: dict[tuple[str, int], tuple[int, str]] = {}
    persons: set[tuple[str, int]] = set()
    rows = session.execute(query).scalar_one()
    for ident, call_id, index, text, misunderstood, asks, said in rows:
        if asks:
            persons.add((call_id, index))
        if misunderstood:
            found[(call_id, index)] = (ident, text or "")
        if said is not None:
            found[(call_id, index - 1)] = (said[0], said[1] or "")
    return [
        Heard(ident, key[0], text, (key[0], key[1] + 1) in persons)
        for key, (ident, text) in found.items()
    ]


def _spoken(turn: type[TurnRow]) -> ColumnElement[bool]:
    """A turn of words (not keys or silence)."""
    return and_(turn.kind == "speech", turn.text.is_not(None), turn.text != "")


@dataclass
class _Group:
    turns: int = 0
    asked_for_person: int = 0
    heard: Counter[str] = field(default_factory=Counter)
    newest: dict[str, int] = field(default_factory=dict)  # call id -> its newest turn's id here


def group_utterances(heard: Iterable[Heard], limit: int) -> tuple[Misunderstood, ...]:
    """The ``limit`` largest groups: most turns first, then most hand-overs, then by text."""
    groups: dict[str, _Group] = {}
    for turn in heard:
        key = normalise(turn.text)
        if not key:
            continue  # only punctuation: nothing to show
        group = groups.setdefault(key, _Group())
        group.turns += 1
        group.asked_for_person += turn.asked_for_person
        group.heard[turn.text] += 1
        group.newest[turn.call_id] = max(turn.id, group.newest.get(turn.call_id, turn.id))
    ordered = sorted(groups.items(), key=lambda kv: (-kv[1].turns, -kv[1].asked_for_person, kv[0]))
    return tuple(_figure(key, group) for key, group in ordered[:limit])


def _figure(key: str, group: _Group) -> Misunderstood:
    example = min(group.heard.items(), key=lambda item: (-item[1], item[0]))[0]
    newest = heapq.nlargest(CALL_LINKS, group.newest.items(), key=lambda item: item[1])
    return Misunderstood(
        text=key,
        example=example,
        turns=group.turns,
        calls=len(group.newest),
        asked_for_person=group.asked_for_person,
        call_ids=tuple(call_id for call_id, _ in newest),
    )
