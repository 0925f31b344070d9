"""The tables' version: Alembic revisions in ``ivr/store/migrations/``, applied in code.

* :func:`open_tables` (every :class:`~ivr.store.Store` start): a new, empty database gets every
  table from the metadata and is stamped at the head revision, in one step; a database at the
  head is used as it is; one behind raises :class:`SchemaOutOfDate`, one this code does not
  know raises :class:`UnknownSchema`. Nothing is ever migrated behind an operator's back.
* :func:`upgrade` (``ivr db upgrade``): brings any known database to the head. A database from
  before migrations (a one-row ``schema_version`` table, no ``alembic_version``) is adopted:
  stamped at the revision of its layout (:data:`LEGACY_REVISIONS`), ``schema_version`` dropped,
  then upgraded, in the same transaction.
* :func:`schema_state` (``ivr db current``) and :func:`new_revision` (``ivr db revision``).

Each runs in :meth:`Database.locked`, so processes starting together on an empty database
create its tables once and the others wait, then find them.
"""

from __future__ import annotations

import argparse
import functools
import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, inspect, text

from ivr.store.database import Database
from ivr.store.errors import SchemaOutOfDate, StoreUnavailable, UnknownSchema
from ivr.store.schema import Base

#: The Alembic environment: ``env.py``, ``script.py.mako``, ``versions/``.
MIGRATIONS = Path(__file__).with_name("migrations")

#: What the code before migrations recorded in ``schema_version``, and the revision with exactly
#: that layout. Version 2 never shipped.
LEGACY_REVISIONS = {1: "0001", 3: "0003"}

_VERSION_TABLE = "alembic_version"
_LEGACY_TABLE = "schema_version"
_TABLES = frozenset(Base.metadata.tables)


@dataclass(frozen=True)
class SchemaState:
    """What a database says about its tables' version.

    Attributes:
        revisions: The rows of ``alembic_version`` (one, normally).
        legacy: The rows of ``schema_version`` (a database from before migrations).
        tables: Which of the code's tables it has.
        head: The newest revision this code knows.
    """

    revisions: tuple[str, ...]
    legacy: tuple[int, ...]
    tables: frozenset[str]
    head: str

    @property
    def empty(self) -> bool:
        """No version record and none of the code's tables: a new database."""
        return not (self.revisions or self.legacy or self.tables)

    @property
    def up_to_date(self) -> bool:
        """At the head revision: the code can use it."""
        return self.revisions == (self.head,)

    @property
    def found(self) -> str:
        """What the database holds, in words."""
        if self.revisions:
            return "revision " + ", ".join(self.revisions)
        if self.legacy:
            versions = ", ".join(str(version) for version in self.legacy)
            return f"schema version {versions} (made before migrations)"
        if self.tables:
            return f"the tables {', '.join(sorted(self.tables))} but no record of their version"
        return "no tables"

    def problem(self, url: str) -> SchemaOutOfDate | None:
        """Why the code cannot use the database as it is; ``None`` when it can."""
        if self.up_to_date or self.empty:
            return None
        why = self._unknown()
        if why is not None:
            return UnknownSchema(url, self.found, self.head, why)
        return SchemaOutOfDate(url, self.found, self.head)

    def _unknown(self) -> str | None:
        if len(self.revisions) > 1:
            return "several heads, which this code's single line of revisions never writes"
        if self.revisions:
            if self.revisions[0] not in known_revisions():
                return "a revision this code does not know: newer code migrated it"
            return None
        if self.legacy:
            if len(self.legacy) > 1 or self.legacy[0] not in LEGACY_REVISIONS:
                known = " and ".join(str(version) for version in sorted(LEGACY_REVISIONS))
                return f"a layout this code never wrote (it knows schema versions {known})"
            return None
        return "which this code did not create"


@dataclass(frozen=True)
class Upgrade:
    """What :func:`upgrade` did.

    Attributes:
        before: The state it found.
        created: The database was empty: every table was created and stamped at the head.
        adopted: The revision a database from before migrations was stamped at.
        applied: The revisions run, oldest first.
    """

    before: SchemaState
    created: bool = False
    adopted: str | None = None
    applied: tuple[str, ...] = ()


def open_tables(database: Database) -> None:
    """Create a new database's tables at the head, or check an existing one is at the head.

    Raises:
        SchemaOutOfDate: The tables are behind the code (run ``ivr db upgrade``).
        UnknownSchema: The tables are a layout this code does not know.
        StoreUnavailable: The database fails.
    """
    with database.locked("create tables") as conn:
        state = read_state(conn)
        if state.empty:
            _create(conn)
            return
        problem = state.problem(database.url)
        if problem is not None:
            raise problem


def upgrade(database: Database) -> Upgrade:
    """Bring the database to the head revision (see the module's description).

    Raises:
        UnknownSchema: The tables are a layout this code does not know; nothing changed.
        StoreUnavailable: The database fails; nothing changed.
    """
    with database.locked("upgrade", migrating=True) as conn:
        before = read_state(conn)
        if before.empty:
            _create(conn)
            return Upgrade(before, created=True)
        problem = before.problem(database.url)
        if isinstance(problem, UnknownSchema):
            raise problem
        adopted = None
        if before.legacy and not before.revisions:
            adopted = _adopt(conn, before.legacy[0])
        applied = migrate(conn)
        _check_foreign_keys(conn, database.url)
        return Upgrade(before, adopted=adopted, applied=applied)


def schema_state(database: Database) -> SchemaState:
    """The database's state, changing nothing."""
    with database.connect("read the schema version") as conn:
        return read_state(conn)


def read_state(conn: Connection) -> SchemaState:
    """The version records and tables seen on ``conn``."""
    names = set(inspect(conn).get_table_names())
    revisions: tuple[str, ...] = ()
    legacy: tuple[int, ...] = ()
    if _VERSION_TABLE in names:
        revisions = tuple(conn.scalars(text(f"SELECT version_num FROM {_VERSION_TABLE}")))
    if _LEGACY_TABLE in names:
        legacy = tuple(conn.scalars(text(f"SELECT version FROM {_LEGACY_TABLE}")))
    return SchemaState(revisions, legacy, frozenset(names & _TABLES), head_revision())


def migrate(conn: Connection, target: str = "head") -> tuple[str, ...]:
    """Run the revisions after the database's one up to ``target`` on ``conn``; the ones run."""
    applied: list[str] = []

    def record(*, step: Any, **_: Any) -> None:
        applied.append(step.up_revision_id)

    command.upgrade(alembic_config(conn, on_version_apply=[record]), target)
    return tuple(applied)


def differences(conn: Connection) -> list[Any]:
    """What separates the tables on ``conn`` from the code's metadata (Alembic's diff)."""
    context = MigrationContext.configure(conn, opts={"compare_type": True})
    return list(compare_metadata(context, Base.metadata))


def new_revision(message: str, *, autogenerate: bool = True) -> Path | None:
    """Write the next revision file into ``versions/``; ``None`` if there is nothing to write.

    Autogenerated from the difference between the metadata and a scratch SQLite database
    migrated to the head, so no real database is needed or touched.
    """
    with tempfile.TemporaryDirectory(prefix="ivr-revision-") as scratch:
        database = Database(f"sqlite:///{scratch}/head.db")
        try:
            with database.locked("revision", migrating=True) as conn:
                migrate(conn)
                if autogenerate and not differences(conn):
                    return None
                script = command.revision(
                    _tidied(alembic_config(conn, quiet=True)),
                    message=message,
                    autogenerate=autogenerate,
                    rev_id=_next_revision_id(),
                )
        finally:
            database.close()
    assert script is not None and not isinstance(script, list)  # one head, one new script
    return Path(script.path)


def alembic_config(
    conn: Connection | None = None, *, quiet: bool = False, **attributes: Any
) -> Config:
    """Alembic's configuration, built in code (there is no ``alembic.ini``).

    ``conn`` and ``attributes`` reach ``env.py`` as ``config.attributes``; ``quiet`` keeps
    Alembic from printing its own progress.
    """
    config = Config(
        attributes={"connection": conn, **attributes},
        cmd_opts=argparse.Namespace(quiet=quiet),
    )
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("file_template", "%%(rev)s_%%(slug)s")
    config.set_main_option("truncate_slug_length", "60")
    return config


def _tidied(config: Config) -> Config:
    """Have a new revision file fixed and formatted by ruff (imports, quotes), if it is here."""
    ruff = shutil.which("ruff", path=str(Path(sys.executable).parent)) or shutil.which("ruff")
    if ruff is None:
        return config
    hooks = {"fix": "check --fix --quiet", "format": "format --quiet"}
    config.set_section_option("post_write_hooks", "hooks", ", ".join(hooks))
    for name, options in hooks.items():
        config.set_section_option("post_write_hooks", f"{name}.type", "exec")
        config.set_section_option("post_write_hooks", f"{name}.executable", ruff)
        config.set_section_option(
            "post_write_hooks", f"{name}.options", f"{options} REVISION_SCRIPT_FILENAME"
        )
    return config


@functools.cache
def _scripts() -> ScriptDirectory:
    return ScriptDirectory.from_config(alembic_config())


def head_revision() -> str:
    """The newest revision in ``versions/``."""
    head = _scripts().get_current_head()
    assert head is not None, f"no revisions in {MIGRATIONS}"
    return head


@functools.cache
def known_revisions() -> frozenset[str]:
    """Every revision this code can migrate from."""
    return frozenset(script.revision for script in _scripts().walk_revisions())


def describe(revision: str) -> str:
    """A revision's first docstring line, e.g. for ``ivr db current``."""
    script = _scripts().get_revision(revision)
    doc = script.doc if script is not None else ""
    return f"{revision} - {doc.rstrip('.')}" if doc else revision


def _create(conn: Connection) -> None:
    """A new database: the code's tables as they are now, stamped at the head in one step."""
    Base.metadata.create_all(conn)
    MigrationContext.configure(conn).stamp(_scripts(), "head")


def _adopt(conn: Connection, legacy: int) -> str:
    """Replace ``schema_version`` with the revision it stands for."""
    revision = LEGACY_REVISIONS[legacy]
    MigrationContext.configure(conn).stamp(_scripts(), revision)
    conn.exec_driver_sql(f"DROP TABLE {_LEGACY_TABLE}")
    return revision


def _check_foreign_keys(conn: Connection, url: str) -> None:
    """SQLite migrates with foreign keys off: refuse to commit rows that break one."""
    if conn.dialect.name != "sqlite":
        return
    broken = conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
    if broken:
        tables = sorted({str(row[0]) for row in broken})
        detail = f"the migration left rows breaking foreign keys in {', '.join(tables)}"
        raise StoreUnavailable("upgrade", url, detail)


def _next_revision_id() -> str:
    """One more than the highest numbered revision: ``0004`` after ``0003``."""
    numbers = [int(rev) for rev in known_revisions() if rev.isdigit()]
    return f"{max(numbers, default=0) + 1:04d}"
