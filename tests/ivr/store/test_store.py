from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable
from contextlib import closing
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import make_url

from ivr.store import (
    CallRecord,
    EventRecord,
    Store,
    StoreUnavailable,
    TurnExists,
    TurnRecord,
    UnknownSchema,
    database_url,
)
from tests.fixtures.postgres import POSTGRES_URL, postgres_error, require_postgres
from tests.ivr.store.conftest import DUMMY_PASSWORD, Database, TcpProxy, closed_port, run_threads

T0 = datetime(2025, 3, 14, 9, 26, 53, 589793, tzinfo=UTC)
PRAGUE = timezone(timedelta(hours=2))


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def turn(index: int, seconds: float = 0.0, **fields: Any) -> TurnRecord:
    return TurnRecord(index=index, at=at(seconds), step="menu", kind="speech", **fields)


def test_postgres_is_reachable() -> None:
    # Fails (not errors) with the reason, so a missing server is one clear line in the summary.
    require_postgres()
    assert postgres_error() is None


# -- round trip -----------------------------------------------------------------------------


def test_round_trip_of_a_call_with_turns_and_events(store: Store) -> None:
    store.call_started("CA1", caller="+420601", called="+420800", started_at=T0, language="cs")
    turns = (
        TurnRecord(index=0, at=at(0.5), step="greet", kind="start", actions=("say greeting",)),
        TurnRecord(
            index=1,
            at=at(4.25),
            step="menu",
            kind="speech",
            text="můj internet nejde",
            asr_confidence=0.87,
            intent="internet_down",
            confidence=0.93,
            decision="goto:troubleshoot",
            actions=("say troubleshoot_intro", "listen"),
            latency_ms={"end_of_turn": 310, "asr": 12.5, "nlu": 18, "tts": 3, "send": 1},
        ),
        TurnRecord(index=2, at=at(9), step="troubleshoot", kind="dtmf", text="0"),
    )
    events = (
        EventRecord(at=at(3), kind="barge_in", data={"prompt": "menu", "after_ms": 820}),
        EventRecord(at=at(9.5), kind="transfer", data={"queue": "support", "nested": {"a": [1]}}),
    )
    for turn in turns:
        store.add_turn("CA1", turn)
    for event in events:
        store.add_event("CA1", event)
    store.set_outcome("CA1", outcome="transfer", queue="support", reason="asked_for_person")
    store.call_ended("CA1", ended_at=at(60), status="completed")

    assert store.get_call("CA1") == CallRecord(
        call_id="CA1",
        caller="+420601",
        called="+420800",
        started_at=T0,
        ended_at=at(60),
        status="completed",
        outcome="transfer",
        queue="support",
        reason="asked_for_person",
        language="cs",
        turns=turns,
        events=events,
        resolved_by_bot=False,
        abandoned=False,
        stage="ended",
    )


def test_a_running_call_has_no_end_and_no_outcome(store: Store) -> None:
    store.call_started("CA1", caller=None, called="+420800", started_at=T0)
    call = store.get_call("CA1")
    assert call is not None
    assert (call.status, call.ended_at, call.outcome, call.caller, call.language) == (
        "in-progress",
        None,
        None,
        None,
        None,
    )


def test_returned_records_are_plain_types(store: Store) -> None:
    store.add_turn("CA1", turn(0, actions=("listen",), latency_ms={"asr": 12}))
    store.add_event("CA1", EventRecord(at=T0, kind="status", data={"x": 1}))
    call = store.get_call("CA1")
    assert call is not None
    assert type(call.turns) is tuple and type(call.turns[0].actions) is tuple
    assert type(call.turns[0].latency_ms) is dict and type(call.events[0].data) is dict


def test_unknown_call_is_none(store: Store) -> None:
    assert store.get_call("CA-nobody") is None


def test_data_survives_reopening_the_database(database: Database) -> None:
    first = database.open()
    first.call_started("CA1", caller="+1", called="+2", started_at=T0)
    first.add_turn("CA1", turn(0))
    first.close()
    call = database.open().get_call("CA1")
    assert call is not None and call.caller == "+1" and len(call.turns) == 1


# -- webhook races and retries --------------------------------------------------------------


def test_call_started_twice_keeps_one_call_and_the_first_data(store: Store) -> None:
    store.call_started("CA1", caller="+1", called="+2", started_at=T0, language="en")
    store.call_started("CA1", caller="+9", called="+8", started_at=at(2), language="cs")
    assert [c.call_id for c in store.recent_calls()] == ["CA1"]
    call = store.get_call("CA1")
    assert call is not None
    assert (call.caller, call.called, call.language, call.started_at) == ("+1", "+2", "en", T0)


def test_writes_before_call_started_create_the_call_and_start_fills_it_in(store: Store) -> None:
    store.add_event("CA1", EventRecord(at=at(3), kind="stream_started", data={}))
    store.add_turn("CA1", turn(0, seconds=5))
    call = store.get_call("CA1")
    assert call is not None
    assert (call.status, call.caller, call.started_at) == ("in-progress", None, at(3))

    store.call_started("CA1", caller="+1", called="+2", started_at=T0, language="en")
    call = store.get_call("CA1")
    assert call is not None
    assert (call.caller, call.called, call.language, call.started_at) == ("+1", "+2", "en", T0)
    assert len(call.turns) == 1 and len(call.events) == 1


def test_set_outcome_for_an_unknown_call_creates_it(store: Store) -> None:
    before = datetime.now(UTC)
    store.set_outcome("CA1", outcome="callback", queue=None, reason="nlu_unavailable")
    call = store.get_call("CA1")
    assert call is not None
    assert (call.outcome, call.queue, call.reason) == ("callback", None, "nlu_unavailable")
    assert before <= call.started_at <= datetime.now(UTC)


def test_set_outcome_replaces_the_previous_one(store: Store) -> None:
    store.call_started("CA1", caller=None, called=None, started_at=T0)
    store.set_outcome("CA1", outcome="transfer", queue="billing", reason="asked_for_person")
    store.set_outcome("CA1", outcome="hangup")
    call = store.get_call("CA1")
    assert call is not None
    assert (call.outcome, call.queue, call.reason) == ("hangup", None, None)


def test_call_ended_for_an_unknown_call_creates_it(store: Store) -> None:
    store.call_ended("CA-missed", ended_at=at(30), status="no-answer")
    assert store.get_call("CA-missed") == CallRecord(
        call_id="CA-missed",
        caller=None,
        called=None,
        started_at=at(30),
        ended_at=at(30),
        status="no-answer",
        outcome=None,
        queue=None,
        reason=None,
        language=None,
        resolved_by_bot=False,
        abandoned=False,
        stage="ended",
    )


def test_call_ended_keeps_start_and_takes_the_latest_status(store: Store) -> None:
    store.call_started("CA1", caller="+1", called="+2", started_at=T0)
    store.call_ended("CA1", ended_at=at(50), status="completed")
    store.call_ended("CA1", ended_at=at(51), status="failed")
    call = store.get_call("CA1")
    assert call is not None
    assert (call.started_at, call.ended_at, call.status) == (T0, at(51), "failed")


def test_a_turn_index_is_stored_once(store: Store) -> None:
    store.add_turn("CA1", turn(0, text="first"))
    with pytest.raises(TurnExists, match="turn 0 of call CA1 is already stored") as caught:
        store.add_turn("CA1", turn(0, text="second"))
    assert isinstance(caught.value, StoreUnavailable)
    call = store.get_call("CA1")
    assert call is not None and [t.text for t in call.turns] == ["first"]
    store.add_turn("CA2", turn(0, text="same index, other call"))


# -- ordering and listing -------------------------------------------------------------------


def test_turns_come_back_by_index(store: Store) -> None:
    for index in (2, 0, 3, 1):
        store.add_turn("CA1", turn(index, seconds=10 - index))
    call = store.get_call("CA1")
    assert call is not None and [t.index for t in call.turns] == [0, 1, 2, 3]


def test_events_come_back_by_time_then_insertion(store: Store) -> None:
    store.add_event("CA1", EventRecord(at=at(5), kind="late", data={}))
    for name in ("first", "second", "third"):
        store.add_event("CA1", EventRecord(at=at(1), kind=name, data={}))
    # 09:26:53.6 UTC written as 11:26:53.6+02:00: earlier than at(1) once normalised.
    store.add_event("CA1", EventRecord(at=at(0.01).astimezone(PRAGUE), kind="early", data={}))
    call = store.get_call("CA1")
    assert call is not None
    assert [e.kind for e in call.events] == ["early", "first", "second", "third", "late"]


def test_recent_calls_newest_first_without_turns_or_events(store: Store) -> None:
    for minutes in (3, 1, 4, 0, 2):
        call_id = f"CA{minutes}"
        store.call_started(call_id, caller=None, called=None, started_at=at(60 * minutes))
        store.add_turn(call_id, turn(0))
        store.add_event(call_id, EventRecord(at=T0, kind="status", data={}))
    calls = store.recent_calls()
    assert [c.call_id for c in calls] == ["CA4", "CA3", "CA2", "CA1", "CA0"]
    assert all(c.turns == () and c.events == () for c in calls)
    assert [c.call_id for c in store.recent_calls(limit=2)] == ["CA4", "CA3"]
    assert store.recent_calls(limit=0) == []
    with pytest.raises(ValueError, match="limit=-1"):
        store.recent_calls(limit=-1)


def test_recent_calls_default_limit_is_50(store: Store) -> None:
    for i in range(55):
        store.call_started(f"CA{i:02d}", caller=None, called=None, started_at=at(i))
    calls = store.recent_calls()
    assert len(calls) == 50 and calls[0].call_id == "CA54" and calls[-1].call_id == "CA05"


# -- time zones -----------------------------------------------------------------------------


def test_datetimes_come_back_aware_utc(store: Store) -> None:
    local = T0.astimezone(PRAGUE)
    store.call_started("CA1", caller=None, called=None, started_at=local)
    store.add_turn("CA1", TurnRecord(index=0, at=local, step=None, kind="start"))
    store.add_event("CA1", EventRecord(at=local, kind="status", data={}))
    store.call_ended("CA1", ended_at=local + timedelta(minutes=1), status="completed")
    call = store.get_call("CA1")
    assert call is not None
    stamps = [call.started_at, call.ended_at, call.turns[0].at, call.events[0].at]
    assert stamps == [T0, at(60), T0, T0]
    assert all(s is not None and s.tzinfo is UTC for s in stamps)
    assert store.recent_calls()[0].started_at.tzinfo is UTC


@pytest.mark.parametrize(
    "write",
    [
        lambda s: s.call_started("CA1", caller=None, called=None, started_at=datetime(2025, 1, 1)),
        lambda s: s.add_turn("CA1", TurnRecord(0, datetime(2025, 1, 1), None, "start")),
        lambda s: s.add_event("CA1", EventRecord(datetime(2025, 1, 1), "status", {})),
        lambda s: s.call_ended("CA1", ended_at=datetime(2025, 1, 1), status="completed"),
    ],
    ids=["call_started", "add_turn", "add_event", "call_ended"],
)
def test_naive_datetimes_are_refused_and_nothing_is_written(
    store: Store, write: Callable[[Store], None]
) -> None:
    with pytest.raises(ValueError, match="naive"):
        write(store)
    assert store.recent_calls() == []


def test_data_json_cannot_hold_is_refused_before_writing(store: Store) -> None:
    with pytest.raises(TypeError, match="data of event 'failure' of call CA1"):
        store.add_event("CA1", EventRecord(at=T0, kind="failure", data={"error": object()}))
    with pytest.raises(TypeError, match="latency_ms of turn 0 of call CA1"):
        store.add_turn("CA1", turn(0, latency_ms={"asr": float("nan")}))
    assert store.recent_calls() == []


# -- concurrency ----------------------------------------------------------------------------


def test_threads_writing_turns_to_one_call_lose_nothing(store: Store) -> None:
    store.call_started("CA1", caller=None, called=None, started_at=T0)

    def work(thread: int) -> None:
        for i in range(50):
            index = thread * 50 + i
            store.add_turn("CA1", turn(index, seconds=index, text=f"t{thread}"))

    run_threads(8, work)
    call = store.get_call("CA1")
    assert call is not None
    assert [t.index for t in call.turns] == list(range(400))
    assert all(t.text == f"t{t.index // 50}" for t in call.turns)


def test_threads_each_running_a_call_lose_nothing(store: Store) -> None:
    def work(thread: int) -> None:
        call_id = f"CA{thread}"
        store.call_started(call_id, caller=f"+{thread}", called=None, started_at=at(thread))
        for i in range(50):
            store.add_turn(call_id, turn(i, seconds=thread + i))
            store.add_event(call_id, EventRecord(at=at(thread + i), kind="dtmf", data={"i": i}))
            if i % 10 == 0:
                assert store.get_call(call_id) is not None
                store.recent_calls(limit=5)
        store.call_ended(call_id, ended_at=at(thread + 60), status="completed")

    run_threads(8, work)
    calls = store.recent_calls()
    assert [c.call_id for c in calls] == [f"CA{i}" for i in reversed(range(8))]
    for thread in range(8):
        call = store.get_call(f"CA{thread}")
        assert call is not None
        assert call.caller == f"+{thread}" and call.status == "completed"
        assert [t.index for t in call.turns] == list(range(50))
        assert [e.data["i"] for e in call.events] == list(range(50))


def test_stores_opening_a_new_database_together_all_succeed(database: Database) -> None:
    opened: list[Store] = []
    lock = threading.Lock()

    def work(_: int) -> None:
        store = Store(database.url, schema=database.schema)
        with lock:
            opened.append(store)

    try:
        run_threads(8, work)
        assert len(opened) == 8
        opened[0].call_started("CA1", caller=None, called=None, started_at=T0)
        assert [c.call_id for c in opened[7].recent_calls()] == ["CA1"]
    finally:
        for store in opened:
            store.close()


# -- failures -------------------------------------------------------------------------------


def test_postgres_on_a_closed_port_is_unavailable_and_the_password_masked() -> None:
    port = closed_port()
    url = f"postgresql://ivr:s3cr%40t-pw@127.0.0.1:{port}/ivr"
    with pytest.raises(StoreUnavailable) as caught:
        Store(url, connect_timeout=1)
    message = str(caught.value)
    assert f"postgresql+psycopg://ivr:***@127.0.0.1:{port}/ivr" in message
    assert "create tables" in message and "s3cr" not in message
    assert caught.value.operation == "create tables"


def test_sqlite_at_an_unwritable_path_is_unavailable(tmp_path: Path) -> None:
    # A path under a regular file cannot be created, even by root.
    (tmp_path / "a-file").write_text("")
    url = f"sqlite:///{tmp_path}/a-file/ivr.db"
    with pytest.raises(StoreUnavailable, match="unable to open database file") as caught:
        Store(url)
    assert url in str(caught.value) and "create tables" in str(caught.value)


def test_errors_in_each_method_are_store_unavailable(database: Database) -> None:
    store = database.open()
    store.call_started("CA1", caller=None, called=None, started_at=T0)
    for table in ("turns", "events", "calls"):
        database.execute(f"DROP TABLE {table}")
    calls: dict[str, Callable[[], object]] = {
        "call_started": lambda: store.call_started("CA2", caller=None, called=None, started_at=T0),
        "add_turn": lambda: store.add_turn("CA1", turn(0)),
        "add_event": lambda: store.add_event("CA1", EventRecord(at=T0, kind="x", data={})),
        "set_outcome": lambda: store.set_outcome("CA1", outcome="hangup"),
        "call_ended": lambda: store.call_ended("CA1", ended_at=T0, status="completed"),
        "get_call": lambda: store.get_call("CA1"),
        "recent_calls": lambda: store.recent_calls(),
    }
    for operation, call in calls.items():
        with pytest.raises(StoreUnavailable) as caught:
            call()
        message = str(caught.value)
        assert message.startswith(f"store {operation} failed on {store.url}: "), message
        assert DUMMY_PASSWORD not in message
        assert database.backend == "sqlite" or ":***@" in message
    store.ping()  # the server itself still answers


def test_a_store_from_another_schema_version_is_refused(database: Database) -> None:
    # Made before migrations (schema_version, no alembic_version) with a version never shipped.
    database.open().close()
    database.execute("DROP TABLE alembic_version")
    database.execute("CREATE TABLE schema_version (version INTEGER PRIMARY KEY)")
    database.execute("INSERT INTO schema_version VALUES (99)")
    expected = r"schema version 99 \(made before migrations\), a layout this code never wrote"
    with pytest.raises(UnknownSchema, match=expected):
        database.open()


def test_a_closed_store_is_unavailable(store: Store) -> None:
    store.close()
    with pytest.raises(StoreUnavailable, match=r"store ping failed on .*: the store is closed"):
        store.ping()


def test_database_outage_and_recovery(postgres_proxy: TcpProxy, postgres_schema: str) -> None:
    url = make_url(POSTGRES_URL).set(
        drivername="postgresql+psycopg", host="127.0.0.1", port=postgres_proxy.port
    )
    with Store(url.render_as_string(hide_password=False), schema=postgres_schema) as store:
        store.call_started("CA1", caller=None, called=None, started_at=T0)
        store.ping()

        postgres_proxy.stop()
        with pytest.raises(StoreUnavailable, match=f"store ping failed on .*:{url.port}/"):
            store.ping()
        with pytest.raises(StoreUnavailable, match="store add_turn failed"):
            store.add_turn("CA1", turn(0))

        postgres_proxy.start()
        store.ping()  # pool_pre_ping replaced the dead connections
        store.add_turn("CA1", turn(0))
        call = store.get_call("CA1")
        assert call is not None and len(call.turns) == 1


def test_sqlite_uses_wal(tmp_path: Path) -> None:
    with Store(f"sqlite:///{tmp_path}/ivr.db"):
        pass
    with closing(sqlite3.connect(tmp_path / "ivr.db")) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)


@pytest.mark.parametrize(
    ("url", "kwargs", "message"),
    [
        ("sqlite://", {}, "in-memory SQLite"),
        ("sqlite:///:memory:", {}, "in-memory SQLite"),
        ("mysql://u:p@localhost/db", {}, "unsupported database 'mysql'"),
        ("sqlite:///x.db", {"schema": "ivr"}, "a schema needs PostgreSQL"),
        ("postgresql://h/db", {"schema": "Robert'); DROP"}, "a schema needs PostgreSQL"),
        ("not a url", {}, "not a database URL"),
    ],
)
def test_unusable_arguments_are_value_errors(
    url: str, kwargs: dict[str, str], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        Store(url, **kwargs)  # type: ignore[arg-type]


# -- database_url ---------------------------------------------------------------------------


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    for name in ("DATABASE_URL", "IVR_DATA_DIR", "XDG_DATA_HOME"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    return tmp_path


def test_database_url_prefers_the_environment(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert database_url("sqlite:////srv/ivr.db") == "sqlite:////srv/ivr.db"
    monkeypatch.setenv("DATABASE_URL", "sqlite:////env/ivr.db")
    assert database_url("sqlite:////srv/ivr.db") == "sqlite:////env/ivr.db"
    monkeypatch.setenv("DATABASE_URL", "")
    assert database_url("sqlite:////srv/ivr.db") == "sqlite:////srv/ivr.db"


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgres://u:p@db:5432/ivr", "postgresql+psycopg://u:p@db:5432/ivr"),
        ("postgresql://u@db/ivr?sslmode=require", "postgresql+psycopg://u@db/ivr?sslmode=require"),
        ("postgresql+psycopg://u@db/ivr", "postgresql+psycopg://u@db/ivr"),
        ("postgresql+psycopg2://u@db/ivr", "postgresql+psycopg2://u@db/ivr"),
        ("sqlite:////var/lib/ivr.db", "sqlite:////var/lib/ivr.db"),
    ],
)
def test_database_url_uses_psycopg_3_for_postgres(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch, given: str, expected: str
) -> None:
    assert database_url(given) == expected
    monkeypatch.setenv("DATABASE_URL", given)
    assert database_url() == expected


def test_database_url_defaults_to_sqlite_in_the_data_dir(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home_default = clean_env / "home" / ".local" / "share" / "ivr"
    assert database_url() == f"sqlite:///{home_default}/ivr.db"
    assert home_default.is_dir()

    monkeypatch.setenv("XDG_DATA_HOME", str(clean_env / "xdg"))
    assert database_url() == f"sqlite:///{clean_env}/xdg/ivr/ivr.db"

    monkeypatch.setenv("IVR_DATA_DIR", str(clean_env / "data" / "deep"))
    url = database_url()
    assert url == f"sqlite:///{clean_env}/data/deep/ivr.db"
    with Store(url) as store:
        store.call_started("CA1", caller=None, called=None, started_at=T0)
    assert (clean_env / "data" / "deep" / "ivr.db").is_file()


def test_database_url_reports_a_data_dir_it_cannot_create(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (clean_env / "a-file").write_text("")
    monkeypatch.setenv("IVR_DATA_DIR", str(clean_env / "a-file" / "ivr"))
    with pytest.raises(StoreUnavailable, match="create the data directory failed on sqlite:///"):
        database_url()
