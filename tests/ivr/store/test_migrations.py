"""Schema versions on SQLite and PostgreSQL: migrations, adopting old databases, ``ivr db``."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from alembic import command
from click.testing import CliRunner
from sqlalchemy import Column, Integer, String, Table, inspect, text

from ivr.callbacks.policy import RULES
from ivr.commands.db import db
from ivr.config import ROOT
from ivr.store import (
    CallbackStatus,
    CallbackStore,
    SchemaOutOfDate,
    StoreUnavailable,
    UnknownSchema,
)
from ivr.store import migrate as migrate_module
from ivr.store.database import Database as StoreDatabase
from ivr.store.migrate import alembic_config, differences, head_revision, migrate
from ivr.store.schema import Base
from tests.ivr.store import legacy_schemas as legacy
from tests.ivr.store.conftest import Database, closed_port

HEAD = "0005"


@pytest.fixture
def raw(database: Database) -> Iterator[StoreDatabase]:
    """The store's own database object on the test database (it creates no tables)."""
    handle = StoreDatabase(database.url, schema=database.schema)
    try:
        yield handle
    finally:
        handle.close()


def cli_url(database: Database) -> str:
    """The test database as ``DATABASE_URL``; the PostgreSQL schema rides in libpq's options."""
    if database.schema is None:
        return database.url
    return f"{database.url}?options={quote(f'-csearch_path={database.schema}')}"


def ivr_db(database: Database, *args: str, code: int = 0) -> str:
    """Run ``ivr db ARGS`` on the test database; its output."""
    result = CliRunner().invoke(db, list(args), env={"DATABASE_URL": cli_url(database)})
    assert result.exit_code == code, (result.output, result.exception)
    return result.output


# -- the migrations build what the code describes ------------------------------------------


def test_the_head_is_the_newest_revision() -> None:
    assert head_revision() == HEAD


def test_every_migration_from_empty_builds_the_metadata(raw: StoreDatabase) -> None:
    with raw.locked("test", migrating=True) as conn:
        assert migrate(conn, "0001") == ("0001",)
        assert differences(conn)  # the comparison sees what 0003, 0004 and 0005 add
        assert migrate(conn) == ("0003", "0004", HEAD)
        assert differences(conn) == []


def test_migrations_down_to_nothing_and_up_again(raw: StoreDatabase) -> None:
    with raw.locked("test", migrating=True) as conn:
        migrate(conn)
        command.downgrade(alembic_config(conn), "base")
        assert migrate_module.read_state(conn).empty
        migrate(conn)
        assert differences(conn) == []


def test_a_migration_that_copies_a_table_keeps_the_rows_pointing_at_it(
    database: Database, raw: StoreDatabase
) -> None:
    # SQLite drops a column by copying the table; with foreign keys on, dropping the old
    # ``calls`` would delete every turn and event (ON DELETE CASCADE).
    legacy.build(database.url, database.schema, 3)
    migrate_module.upgrade(raw)
    with raw.locked("test", migrating=True) as conn:
        command.downgrade(alembic_config(conn), "0001")
        counts = [conn.execute(text(f"SELECT count(*) FROM {t}")).scalar() for t in TABLES]
    assert counts == [2, 2, 2]


TABLES = ("calls", "turns", "events")


def test_a_new_database_is_created_at_the_head(database: Database, raw: StoreDatabase) -> None:
    database.open()
    state = migrate_module.schema_state(raw)
    assert state.revisions == (HEAD,) and state.legacy == () and state.up_to_date
    with raw.connect("test") as conn:
        assert differences(conn) == []


# -- databases made by the code before migrations ---------------------------------------------


@pytest.mark.parametrize("version", [1, 3])
def test_a_database_from_before_migrations_is_refused_then_upgraded_with_every_row(
    database: Database, raw: StoreDatabase, version: int
) -> None:
    legacy.build(database.url, database.schema, version)

    with pytest.raises(SchemaOutOfDate, match="run `ivr db upgrade`") as caught:
        database.open()
    assert not isinstance(caught.value, StoreUnavailable | UnknownSchema)
    assert f"schema version {version} (made before migrations)" in str(caught.value)

    before = ivr_db(database, "current", "--check", code=1)
    assert f"revision: none (schema version {version} (made before migrations))" in before
    assert "status:   behind: run `ivr db upgrade`" in before

    upgraded = ivr_db(database, "upgrade")
    stamped = {1: "0001", 3: "0003"}[version]
    assert f"adopted:  stamped {stamped} - " in upgraded
    applied = [line for line in upgraded.splitlines() if line.startswith("applied:")]
    after_0003 = ["0004", HEAD]
    assert [line.split()[1] for line in applied] == (
        ["0003", *after_0003] if version == 1 else after_0003
    )
    assert f"now at:   {HEAD} - " in upgraded

    after = ivr_db(database, "current", "--check")
    assert f"revision: {HEAD} - " in after and "status:   up to date" in after
    assert_rows_kept(database, version)
    with raw.connect("test") as conn:
        assert differences(conn) == []
        assert "schema_version" not in inspect(conn).get_table_names()


def assert_rows_kept(database: Database, version: int) -> None:
    store = database.open()
    calls = {call.call_id: store.get_call(call.call_id) for call in store.recent_calls()}
    assert sorted(calls) == ["CA0", "CA1"]
    first = calls["CA0"]
    assert first is not None
    assert (first.caller, first.started_at, first.outcome) == (
        "+447700900000",
        legacy.at(0),
        "transfer",
    )
    assert [(t.index, t.text, t.actions, dict(t.latency_ms)) for t in first.turns] == [
        (0, None, ("say greeting", "listen"), {}),
        (1, "my bill is wrong", ("transfer billing",), {"asr": 12.5, "nlu": 20}),
    ]
    assert [(e.kind, dict(e.data)) for e in first.events] == [("barge_in", {"prompt": "greeting"})]
    second = calls["CA1"]
    assert second is not None and second.turns == ()
    assert [(e.kind, dict(e.data)) for e in second.events] == [("status", {"status": "ringing"})]
    people = [(c.agent, c.answered_at, c.resolved_by_bot) for c in (first, second)]
    if version == 1:
        assert people == [(None, None, None)] * 2  # columns added empty
        assert CallbackStore(store, RULES).list() == []
        return
    assert people == [("alice", legacy.at(1.5), False), (None, None, True)]
    assert first.time_to_person_seconds == 90
    assert [c.id for c in CallbackStore(store, RULES).list()] == [legacy.CALLBACK["id"]]
    callback = CallbackStore(store, RULES).get(legacy.CALLBACK["id"])
    assert callback is not None
    assert (callback.status, callback.due_at, callback.context, callback.version) == (
        CallbackStatus.RETRY,
        legacy.at(60),
        {"summary": "bill is wrong"},
        5,
    )
    assert [(t.event, t.at) for t in callback.transitions] == [
        ("scheduled", legacy.at(2)),
        ("retry", legacy.at(56)),
    ]


def test_the_real_command_upgrades_a_version_1_database(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/ivr.db"
    legacy.build(url, None, 1)
    env = {**os.environ, "DATABASE_URL": url, "IVR_LOG_LEVEL": "WARNING"}

    def ivr(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "ivr", "db", *args],
            env=env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
        )

    upgrade = ivr("upgrade")
    assert upgrade.returncode == 0, upgrade.stderr
    assert "adopted:  stamped 0001" in upgrade.stdout and "applied:  0003" in upgrade.stdout
    current = ivr("current", "--check")
    assert current.returncode == 0 and "status:   up to date" in current.stdout


# -- behind, ahead, unknown ------------------------------------------------------------------


def test_a_database_at_an_older_revision_is_refused_until_upgraded(
    database: Database, raw: StoreDatabase
) -> None:
    with raw.locked("test", migrating=True) as conn:
        migrate(conn, "0001")
    with pytest.raises(SchemaOutOfDate, match="has revision 0001, behind this code's revision"):
        database.open()
    assert "status:   behind: run `ivr db upgrade`" in ivr_db(database, "current")
    upgraded = ivr_db(database, "upgrade")
    assert "found:    revision 0001" in upgraded and "applied:  0003 - " in upgraded
    assert "adopted" not in upgraded
    database.open().ping()


def test_a_database_ahead_of_the_code_is_refused(database: Database) -> None:
    database.open().close()
    database.execute("UPDATE alembic_version SET version_num = '0099'")
    expected = "has revision 0099, a revision this code does not know: newer code migrated it"
    with pytest.raises(UnknownSchema, match=expected) as caught:
        database.open()
    assert isinstance(caught.value, SchemaOutOfDate)  # what refuses to start refuses this too
    current = ivr_db(database, "current")
    assert "revision: 0099 (unknown to this code)" in current and "unusable: " in current
    refused = ivr_db(database, "upgrade", code=1)
    assert "ivr db upgrade: " in refused and "0099" in refused
    database.execute(f"UPDATE alembic_version SET version_num = '{HEAD}'")  # nothing changed
    database.open().ping()


def test_tables_without_a_version_record_are_refused(
    database: Database, raw: StoreDatabase
) -> None:
    with raw.locked("test") as conn:
        Base.metadata.create_all(conn)
    with pytest.raises(UnknownSchema, match="but no record of their version"):
        database.open()


def test_an_empty_database_is_created_by_upgrade_too(database: Database) -> None:
    if database.schema is not None:  # the command's URL selects it; it creates no schema
        database.execute(f'CREATE SCHEMA "{database.schema}"')
    current = ivr_db(database, "current", "--check", code=1)
    assert "revision: none (no tables)" in current and "status:   empty" in current
    upgraded = ivr_db(database, "upgrade")
    assert "found:    no tables" in upgraded and "created:  every table" in upgraded
    assert "changed:  nothing" in ivr_db(database, "upgrade")
    database.open().ping()


def test_an_unreachable_database_is_one_line() -> None:
    url = f"postgresql://ivr:s3cret@127.0.0.1:{closed_port()}/ivr"
    result = CliRunner().invoke(db, ["current"], env={"DATABASE_URL": url})
    assert result.exit_code == 1
    assert "ivr db current: store read the schema version failed on " in result.output
    assert "s3cret" not in result.output


# -- writing the next migration ---------------------------------------------------------------


@pytest.fixture
def scratch_migrations(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The migrations copied to a scratch folder, where ``ivr db revision`` writes."""
    copy = tmp_path / "migrations"
    shutil.copytree(migrate_module.MIGRATIONS, copy, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(migrate_module, "MIGRATIONS", copy)
    clear_caches()
    try:
        yield copy
    finally:
        clear_caches()


def clear_caches() -> None:
    migrate_module._scripts.cache_clear()
    migrate_module.known_revisions.cache_clear()


def test_revision_writes_the_next_migration_from_the_metadata(
    scratch_migrations: Path, tmp_path: Path
) -> None:
    nothing = CliRunner().invoke(db, ["revision", "-m", "nothing"])
    assert nothing.exit_code == 1 and "nothing written" in nothing.output

    notes = Table(
        "notes", Base.metadata, Column("id", Integer, primary_key=True), Column("text", String)
    )
    try:
        result = CliRunner().invoke(db, ["revision", "-m", "Notes on calls"])
        assert result.exit_code == 0, result.output
        written = scratch_migrations / "versions" / "0006_notes_on_calls.py"
        assert f"wrote {written}" in result.output
        source = written.read_text().replace("'", '"')  # formatted by ruff if it is installed
        assert f'down_revision: str | None = "{HEAD}"' in source
        assert 'op.create_table(\n        "notes",' in source or 'op.create_table("notes"' in source
        clear_caches()
        scratch = StoreDatabase(f"sqlite:///{tmp_path}/check.db")
        with scratch.locked("test", migrating=True) as conn:
            assert migrate(conn) == ("0001", "0003", "0004", HEAD, "0006")
            assert differences(conn) == []
        scratch.close()
    finally:
        Base.metadata.remove(notes)
