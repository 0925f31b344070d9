"""A caller's language across calls: stored at the start, updated on a switch, found next time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.engine import make_url

from bot.flow import load_flow
from ivr.call.language import first_language, last_language
from ivr.config import ROOT
from ivr.store import Store
from tests.fixtures.postgres import POSTGRES_URL
from tests.ivr.store.conftest import TcpProxy

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
GERMAN = "+4915112345678"  # Germany is not in the demo's countries: the last call decides
DEMO = load_flow(ROOT / "flows")


def test_a_returning_caller_starts_in_the_language_their_last_call_ended_in(store: Store) -> None:
    store.call_started("CA1", caller=GERMAN, called=None, started_at=NOW, language="en")
    store.set_language("CA1", "pl")  # they switched to Polish during the call
    chosen = first_language(
        DEMO, store, call_id="CA2", caller=GERMAN, called=None, now=NOW + timedelta(days=3)
    )
    assert (chosen.language, chosen.reason) == ("pl", "returning_caller")


def test_the_latest_call_wins_and_a_year_is_remembered(store: Store) -> None:
    store.call_started("CA1", caller=GERMAN, called=None, started_at=NOW, language="cs")
    later = NOW + timedelta(days=30)
    store.call_started("CA2", caller=GERMAN, called=None, started_at=later, language="lv")
    assert last_language(store, GERMAN, "CA3", later + timedelta(days=1)) == "lv"
    assert last_language(store, GERMAN, "CA3", later + timedelta(days=400)) is None
    assert last_language(store, GERMAN, "CA2", later) == "cs"  # the call itself never counts


def test_the_number_called_still_wins_over_the_last_language(store: Store) -> None:
    store.call_started("CA1", caller=GERMAN, called=None, started_at=NOW, language="pl")
    chosen = first_language(
        DEMO, store, call_id="CA2", caller=GERMAN, called="+420228880000", now=NOW
    )
    assert (chosen.language, chosen.reason) == ("cs", "called_number")


def test_without_a_database_the_other_signals_choose() -> None:
    chosen = first_language(DEMO, None, call_id="CA1", caller=GERMAN, called=None, now=NOW)
    assert (chosen.language, chosen.reason) == ("en", "default")
    prague = first_language(DEMO, None, call_id="CA2", caller="+420601234567", called=None, now=NOW)
    assert (prague.language, prague.reason) == ("cs", "caller_country")


def test_a_database_that_went_down_leaves_the_other_signals(
    postgres_proxy: TcpProxy, postgres_schema: str
) -> None:
    url = make_url(POSTGRES_URL).set(
        drivername="postgresql+psycopg", host="127.0.0.1", port=postgres_proxy.port
    )
    with Store(url.render_as_string(hide_password=False), schema=postgres_schema) as store:
        store.call_started("CA1", caller=GERMAN, called=None, started_at=NOW, language="pl")
        postgres_proxy.stop()
        chosen = first_language(DEMO, store, call_id="CA2", caller=GERMAN, called=None, now=NOW)
        assert (chosen.language, chosen.reason) == ("en", "default")
        postgres_proxy.start()
        chosen = first_language(DEMO, store, call_id="CA2", caller=GERMAN, called=None, now=NOW)
        assert (chosen.language, chosen.reason) == ("pl", "returning_caller")
