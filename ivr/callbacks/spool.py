"""Bookings the database could not take, kept on local disk until it can.

A caller who has heard "I'll call you tomorrow at 3 pm" must get that call even if the
database was down at that moment. The web app writes such a booking here, one JSON file each
(written to a temporary name, flushed to disk, then renamed, so a file is whole or absent),
and replays the files into the store once it answers again.

Each booking carries its callback id from the start, so a replay is idempotent: a booking
already stored (another process replayed it, or this one died before deleting the file) is
recognised by its id and only its file is removed.

Usage::

    spool = BookingSpool(directory)
    spool.put(booking)                         # the database said no
    stored = spool.replay(callbacks.schedule)  # later: [CallbackRecord, ...]
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import uuid
from collections.abc import Callable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from ivr.store import StoreUnavailable
from ivr.store.callbacks import CallbackError, CallbackExists, CallbackRecord

log = logging.getLogger(__name__)

#: Arguments of ``CallbackStore.schedule`` that are datetimes (stored as ISO 8601).
_MOMENTS = ("due_at", "now", "promised_at")
#: The spool file format; a file of another version is set aside, not guessed at.
FORMAT = 1

Booking = Mapping[str, Any]
"""Keyword arguments for ``CallbackStore.schedule``, ``callback_id`` included."""


class SpoolError(Exception):
    """The booking could not be written to the spool (disk full, no permission, ...)."""


class BookingSpool:
    """A folder of bookings waiting for the database; ``rejected/`` holds unreadable ones."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def put(self, booking: Booking) -> Path:
        """Keep ``booking`` durably; returns its file.

        Raises:
            SpoolError: If it could not be written whole.
        """
        callback_id = str(booking["callback_id"])
        content = {"format": FORMAT, "booking": _encode(booking)}
        path = self.directory / f"{callback_id}.json"
        partial = self.directory / f".{callback_id}.{uuid.uuid4().hex}.partial"
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            with open(partial, "w", encoding="utf-8") as file:
                json.dump(content, file, ensure_ascii=False, sort_keys=True)
                file.flush()
                os.fsync(file.fileno())
            os.replace(partial, path)
            _sync_directory(self.directory)
        except (OSError, TypeError, ValueError) as error:
            with contextlib.suppress(OSError):
                partial.unlink(missing_ok=True)
            raise SpoolError(f"{path}: {error}") from error
        return path

    def pending(self) -> list[Path]:
        """The waiting bookings, oldest first."""
        try:
            files = [p for p in self.directory.glob("*.json") if p.is_file()]
        except OSError:
            return []
        return sorted(files, key=_modified)

    def replay(self, schedule: Callable[..., CallbackRecord]) -> list[CallbackRecord]:
        """Store every waiting booking through ``schedule``; returns those stored now.

        Stops at the first :class:`StoreUnavailable` (the rest wait for the next replay).
        A booking already stored is dropped quietly; an unreadable one is moved to
        ``rejected/`` and logged with its content.
        """
        stored: list[CallbackRecord] = []
        for path in self.pending():
            try:
                booking = self._read(path)
            except FileNotFoundError:
                continue  # another process replayed it just now
            except (OSError, ValueError, KeyError, TypeError) as error:
                self._reject(path, str(error))
                continue
            try:
                record = _schedule(schedule, booking)
            except StoreUnavailable:
                break
            except CallbackExists:
                path.unlink(missing_ok=True)
                continue
            except (CallbackError, ValueError, TypeError) as error:
                self._reject(path, str(error))
                continue
            path.unlink(missing_ok=True)
            log.info(
                "spooled callback stored",
                extra={"callback_id": record.id, "call_id": record.call_id},
            )
            stored.append(record)
        return stored

    def _read(self, path: Path) -> dict[str, Any]:
        content = json.loads(path.read_text(encoding="utf-8"))
        if content.get("format") != FORMAT:
            raise ValueError(f"format {content.get('format')!r}, expected {FORMAT}")
        return _decode(content["booking"])

    def _reject(self, path: Path, reason: str) -> None:
        rejected = self.directory / "rejected"
        try:
            text = path.read_text(encoding="utf-8", errors="replace")
            rejected.mkdir(exist_ok=True)
            os.replace(path, rejected / path.name)
        except OSError:
            text = "(unreadable)"
        # A person can still place this callback from this line.
        log.error(
            "spooled callback rejected",
            extra={"file": str(path), "error": reason, "content": text},
        )


def _schedule(schedule: Callable[..., CallbackRecord], booking: dict[str, Any]) -> CallbackRecord:
    """Store ``booking``; if the callback it replaces was dialed meanwhile, store it alone."""
    try:
        return schedule(**booking)
    except CallbackExists:
        raise
    except CallbackError as error:
        if booking.get("replaces") is None:
            raise
        # The caller moved their booking while the database was down and the old one has
        # since been dialed (or is gone): the new promise still stands.
        log.warning(
            "spooled callback could not replace the old one; stored on its own",
            extra={"callback_id": booking["callback_id"], "error": str(error)},
        )
        return schedule(**{**booking, "replaces": None})


def _encode(booking: Booking) -> dict[str, Any]:
    return {
        key: value.isoformat() if isinstance(value, datetime) else value
        for key, value in booking.items()
    }


def _decode(raw: Mapping[str, Any]) -> dict[str, Any]:
    booking = dict(raw)
    for key in _MOMENTS:
        if booking.get(key) is not None:
            booking[key] = datetime.fromisoformat(booking[key])
    if not booking.get("callback_id"):
        raise KeyError("callback_id")
    return booking


def _modified(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0


def _sync_directory(directory: Path) -> None:
    """Make the rename itself durable (POSIX: fsync the folder)."""
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
