"""What the store raises.

* :class:`StoreUnavailable`: the database failed (unreachable, locked, a table missing, ...);
  :class:`TurnExists` is one, so a handler that keeps a call going covers it.
* :class:`SchemaOutOfDate`: the database's tables are behind the code: run ``ivr db upgrade``.
  :class:`UnknownSchema` (a subclass): they are ahead of the code, or of a layout it never wrote.
  Neither is a :class:`StoreUnavailable`: waiting does not fix them, so a process refuses to start.
* :class:`CallbackError` and its subclasses: a callback operation its state does not allow.
"""

from __future__ import annotations

from ivr.store.records import CallbackStatus

#: The command that brings a database's tables up to the code's.
UPGRADE_COMMAND = "ivr db upgrade"


class StoreUnavailable(RuntimeError):
    """The database could not be reached, read or written.

    Attributes:
        operation: What the store was doing, e.g. ``"add_turn"``.
        url: The database URL with its password masked.
        detail: The database's own first line of explanation.
    """

    def __init__(self, operation: str, url: str, detail: str) -> None:
        super().__init__(f"store {operation} failed on {url}: {detail}")
        self.operation = operation
        self.url = url
        self.detail = detail


class TurnExists(StoreUnavailable):
    """A turn with this index is already stored for the call; the new one was not written."""


class SchemaOutOfDate(RuntimeError):
    """The database's tables are an older layout than this code's: run ``ivr db upgrade``.

    Attributes:
        url: The database URL with its password masked.
        found: What the database holds, e.g. ``"revision 0001"`` or ``"schema version 1"``.
        head: The revision this code writes.
    """

    def __init__(self, url: str, found: str, head: str, message: str | None = None) -> None:
        super().__init__(
            message
            or f"the database {url} has {found}, behind this code's revision {head}; "
            f"run `{UPGRADE_COMMAND}` to migrate it"
        )
        self.url = url
        self.found = found
        self.head = head


class UnknownSchema(SchemaOutOfDate):
    """The database's tables are a layout this code does not know: newer, or never released.

    A :class:`SchemaOutOfDate`, so whatever refuses to start on an out-of-date schema refuses on
    this too; ``ivr db upgrade`` cannot help (run the newer code, or use another database).
    """

    def __init__(self, url: str, found: str, head: str, why: str) -> None:
        super().__init__(
            url,
            found,
            head,
            f"the database {url} has {found}, {why}; this code writes revision {head} and "
            "cannot use or migrate it: run the code that wrote it, or use another database",
        )


class CallbackError(Exception):
    """A callback operation that the callback's state does not allow."""


class CallbackNotFound(CallbackError):
    """No callback has this id."""


class CallbackExists(CallbackError):
    """A callback with this id is already stored (a booking replayed twice)."""


class CallbackStateError(CallbackError):
    """The callback is past the point where this can be done (e.g. cancelling a placed one)."""

    def __init__(self, callback_id: str, status: CallbackStatus, wanted: str) -> None:
        super().__init__(f"callback {callback_id} is {status}; cannot {wanted}")
        self.callback_id = callback_id
        self.status = status


class LeaseLost(CallbackError):
    """The worker no longer holds the callback: its lease expired or it was cancelled or moved."""
