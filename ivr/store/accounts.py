"""Console accounts and failed log-ins, in the calls' database.

The store keeps password *hashes* only; hashing and checking are the console's
(:mod:`ivr.console.passwords`). Failed log-ins are rows, counted per account and per address
over a window, so every web process sees the same count.
"""

from __future__ import annotations

import builtins
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select, update

from ivr.store.calls import Store
from ivr.store.database import aware
from ivr.store.errors import StoreUnavailable
from ivr.store.schema import LoginFailureRow, UserRow

ROLES = ("agent", "supervisor")
#: Failed log-ins older than this are forgotten when new ones are written.
FAILURES_KEPT = timedelta(days=1)


class AccountError(Exception):
    """An account operation that cannot be done (the message says why)."""


@dataclass(frozen=True)
class Account:
    """A console account; ``name`` is the agent id in the flows for an agent."""

    id: int
    name: str
    role: str
    password_hash: str
    disabled: bool
    created_at: datetime

    @property
    def is_supervisor(self) -> bool:
        """Supervisors (admins) see everything; agents only the agent pages."""
        return self.role == "supervisor"


class AccountStore:
    """Accounts and failed log-ins in ``store``'s database; thread-safe."""

    def __init__(self, store: Store) -> None:
        self._db = store.database

    def add(self, name: str, role: str, password_hash: str, now: datetime) -> Account:
        """Create an account.

        Raises:
            AccountError: the role is unknown or the name is taken.
        """
        if role not in ROLES:
            raise AccountError(f"role must be one of {', '.join(ROLES)}, not {role!r}")
        now = aware(now, "now")
        row = UserRow(
            name=name,
            role=role,
            password_hash=password_hash,
            disabled=False,
            created_at=now,
            updated_at=now,
        )
        try:
            with self._db.write("add account", name) as session:
                session.add(row)
                session.flush()
                return _account(row)
        except StoreUnavailable as error:
            if self.get(name) is not None:
                raise AccountError(f"an account named {name!r} exists already") from None
            raise error

    def get(self, name: str) -> Account | None:
        """The account called ``name``, if any."""
        with self._db.read("get account", name) as session:
            row = session.scalars(select(UserRow).where(UserRow.name == name)).one_or_none()
            return _account(row) if row else None

    def by_id(self, account_id: int) -> Account | None:
        """The account with this id (the session cookie's), if any."""
        with self._db.read("get account") as session:
            row = session.get(UserRow, account_id)
            return _account(row) if row else None

    def list(self) -> builtins.list[Account]:
        """Every account, by name."""
        with self._db.read("list accounts") as session:
            return [
                _account(row) for row in session.scalars(select(UserRow).order_by(UserRow.name))
            ]

    def set_disabled(self, name: str, disabled: bool, now: datetime) -> Account:
        """Disable (or enable again) an account; a disabled one cannot log in."""
        return self._update(name, now, disabled=disabled)

    def set_password(self, name: str, password_hash: str, now: datetime) -> Account:
        """Store a new password hash for ``name``."""
        return self._update(name, now, password_hash=password_hash)

    def _update(self, name: str, now: datetime, **values: object) -> Account:
        now = aware(now, "now")
        with self._db.write("update account", name) as session:
            done = session.execute(
                update(UserRow).where(UserRow.name == name).values(updated_at=now, **values)
            )
            if not done.rowcount:  # type: ignore[attr-defined]  # a CursorResult for UPDATE
                raise AccountError(f"no account named {name!r}")
        found = self.get(name)
        assert found is not None  # just updated
        return found

    # -- failed log-ins -------------------------------------------------------------------

    def login_failed(self, name: str, address: str, now: datetime) -> None:
        """Count a failed log-in for ``name`` from ``address`` (and forget day-old ones)."""
        now = aware(now, "now")
        with self._db.write("login failed", name) as session:
            session.execute(delete(LoginFailureRow).where(LoginFailureRow.at < now - FAILURES_KEPT))
            session.add(LoginFailureRow(name=name[:64], address=address[:64], at=now))

    def failures_since(self, since: datetime, *, name: str, address: str) -> tuple[int, int]:
        """Failed log-ins since ``since``: for the account, and from the address."""
        since = aware(since, "since")
        with self._db.read("count login failures", name) as session:
            per_name = session.scalar(
                select(func.count()).where(
                    LoginFailureRow.name == name, LoginFailureRow.at >= since
                )
            )
            per_address = session.scalar(
                select(func.count()).where(
                    LoginFailureRow.address == address, LoginFailureRow.at >= since
                )
            )
        return int(per_name or 0), int(per_address or 0)

    def login_succeeded(self, name: str) -> None:
        """Forget the account's failures: its owner got it right.

        The address's failures stay until they age out, so one good log-in cannot reset a
        guesser's count against other accounts.
        """
        with self._db.write("login succeeded", name) as session:
            session.execute(delete(LoginFailureRow).where(LoginFailureRow.name == name))


def _account(row: UserRow) -> Account:
    return Account(row.id, row.name, row.role, row.password_hash, row.disabled, row.created_at)
