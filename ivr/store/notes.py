"""Agents' notes about callers, by phone number: written on one call, shown on the next."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from ivr.store.calls import Store
from ivr.store.database import aware
from ivr.store.schema import NoteRow

#: A note longer than this is refused: notes are for the next agent to read at a glance.
MAX_NOTE_CHARS = 2000


@dataclass(frozen=True)
class Note:
    """What ``author`` wrote about the caller at ``number`` (on call ``call_id``)."""

    id: int
    number: str
    call_id: str | None
    author: str
    text: str
    at: datetime


class NoteStore:
    """Caller notes in ``store``'s database; thread-safe."""

    def __init__(self, store: Store) -> None:
        self._db = store.database

    def add(self, number: str, author: str, text: str, at: datetime, call_id: str | None) -> Note:
        """Keep a note about the caller at ``number``.

        Raises:
            ValueError: the note is empty or longer than :data:`MAX_NOTE_CHARS`.
        """
        text = text.strip()
        if not text:
            raise ValueError("the note is empty")
        if len(text) > MAX_NOTE_CHARS:
            raise ValueError(f"a note holds at most {MAX_NOTE_CHARS} characters")
        row = NoteRow(number=number, call_id=call_id, author=author, text=text, at=aware(at, "at"))
        with self._db.write("add note", call_id) as session:
            session.add(row)
            session.flush()
            return _note(row)

    def for_number(self, number: str, limit: int = 20) -> list[Note]:
        """The latest notes about ``number``, newest first."""
        with self._db.read("notes", number) as session:
            rows = session.scalars(
                select(NoteRow)
                .where(NoteRow.number == number)
                .order_by(NoteRow.at.desc(), NoteRow.id.desc())
                .limit(limit)
            ).all()
            return [_note(row) for row in rows]


def _note(row: NoteRow) -> Note:
    return Note(row.id, row.number, row.call_id, row.author, row.text, row.at)
