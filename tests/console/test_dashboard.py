"""The supervisor's dashboard in Chromium over ~670 seeded calls (tests/fixtures/seed_calls.py):
every figure on the page equals the reference computation over the database
(tests/ivr/metrics/reference.py, written apart from ivr/metrics), every CSV export equals the
page's table, and the wall screen shows the line now."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator

import httpx
import pytest
from playwright.sync_api import Page, expect

from ivr.metrics import Live, Period, Report, Share
from ivr.nlu.service import free_port
from tests.console.conftest import Console, add_accounts, log_in, session_client
from tests.fixtures.browser import SCREENSHOTS
from tests.fixtures.live_server import LiveServer
from tests.fixtures.seed_calls import NOW, TIMEZONE, plan
from tests.fixtures.seed_store import write
from tests.ivr.metrics.reference import Reference, read

SEED = plan()
SHARES = ("service_level", "containment", "not_repeated", "abandoned", "hung_up_with_bot",
          "callbacks_on_time")  # fmt: skip
TABLES = ("summary", "queues", "misunderstood", "intents", "handover_reasons", "time_to_person")


@pytest.fixture(scope="module")
def seeded_console(live_server_module: Callable[..., LiveServer]) -> Iterator[Console]:
    server = live_server_module(clock=lambda: NOW, NLU_URL=f"http://127.0.0.1:{free_port()}")
    store = server.services.store
    assert store is not None
    write(SEED, store)
    add_accounts(server)
    yield Console(server)


def reference(console: Console) -> Reference:
    store = console.server.services.store
    assert store is not None
    return Reference(read(store), console.server.services.flow, NOW)


def shown_share(page: Page, name: str) -> Share | None:
    card = page.locator(f"[data-figure='{name}']")
    numerator, denominator = (
        card.get_attribute("data-numerator"),
        card.get_attribute("data-denominator"),
    )
    return Share(int(numerator), int(denominator)) if numerator and denominator else None


def page_table(page: Page, name: str) -> list[list[str]]:
    rows = page.locator(f"table[data-table='{name}'] tbody tr:not(.empty)")
    return [
        [cell.strip() for cell in rows.nth(i).locator("td").all_inner_texts()]
        for i in range(rows.count())
    ]


def check_page_against(page: Page, expected: Report) -> None:
    assert page.locator("[data-figure='calls']").inner_text() == str(expected.calls)
    for name in SHARES:
        assert shown_share(page, name) == getattr(expected, name), name
    p50 = page.locator("[data-figure='time_to_person_p50']").get_attribute("data-value")
    assert (float(p50) if p50 else None) == expected.time_to_person_after_handover.p50
    intents = [(row[0], int(row[1])) for row in page_table(page, "intents")]
    assert intents == [(i.intent or "", i.calls) for i in expected.intents]
    reasons = [(row[0], int(row[3])) for row in page_table(page, "handover_reasons")]
    assert reasons == [(r.reason or "", r.total) for r in expected.handover_reasons]
    queues = [(row[0], int(row[1])) for row in page_table(page, "queues")]
    assert queues == [(q.queue, q.calls) for q in expected.queues]
    misheard = [(row[0], int(row[2])) for row in page_table(page, "misunderstood")]
    assert misheard == [(m.text, m.turns) for m in expected.misunderstood]


def check_live(page: Page, expected: Live) -> None:
    values = {name: page.locator(f"[data-figure='{name}'] .value").inner_text()
              for name in ("with_bot", "waiting", "callbacks_due_soon")}  # fmt: skip
    assert values == {
        "with_bot": str(expected.with_bot),
        "waiting": str(expected.waiting),
        "callbacks_due_soon": str(expected.callbacks_due_soon),
    }


@pytest.mark.parametrize(
    ("query", "period", "queue"),
    [
        ("range=7d", Period.last_7_days(NOW, TIMEZONE), None),
        ("range=today", Period.today(NOW, TIMEZONE), None),
        ("range=custom&from=2026-03-02&to=2026-03-06&queue=billing",
         Period.days(NOW.date().replace(day=2), NOW.date().replace(day=6), TIMEZONE), "billing"),
    ],
    ids=["7-days", "today", "custom-billing"],
)  # fmt: skip
def test_every_figure_on_the_page_equals_the_reference(
    page: Page, seeded_console: Console, query: str, period: Period, queue: str | None
) -> None:
    log_in(page, seeded_console, "sam")
    page.goto(f"{seeded_console.url}/dashboard?{query}")
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()
    truth = reference(seeded_console)
    assert truth.report(period, queue).calls > (100 if queue is None and "7d" in query else 0)
    check_page_against(page, truth.report(period, queue))
    check_live(page, truth.live())
    charts = page.locator("canvas")
    expect(charts).to_have_count(4)
    assert page.evaluate("Array.from(document.querySelectorAll('canvas')).every(c => c.width > 0)")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"dashboard-first-screen-{query.split('&')[0][6:]}.png"))


def test_the_seed_is_large_enough() -> None:
    assert len(SEED.calls) >= 500


def test_each_csv_export_matches_the_page(page: Page, seeded_console: Console) -> None:
    log_in(page, seeded_console, "sam")
    page.goto(f"{seeded_console.url}/dashboard?range=30d")
    client = session_client(seeded_console, "sam")
    for name in TABLES:
        link = page.locator(f"#t-{name}").locator("xpath=..").get_by_role("link", name="CSV")
        response = client.get(link.get_attribute("href") or "")
        assert response.status_code == 200 and response.headers["content-type"].startswith(
            "text/csv"
        )
        rows = list(csv.reader(io.StringIO(response.text)))
        header = [
            cell.strip()
            for cell in page.locator(f"table[data-table='{name}'] thead th").all_text_contents()
        ]
        assert [column.replace("_", " ") for column in rows[0]] == header, name
        shown = page_table(page, name)
        if name == "misunderstood":  # the page links the calls by number; the CSV lists their ids
            rows = [row[:5] for row in rows]
            shown = [row[:5] for row in shown]
        assert [[_same(cell) for cell in row] for row in rows[1:]] == [
            [_same(cell) for cell in row] for row in shown
        ], name


def _same(cell: str) -> str:
    """A CSV value and a page cell compared as the page shows numbers (3 decimals for shares)."""
    try:
        number = float(cell)
    except ValueError:
        return cell
    return f"{number:.3f}" if not number.is_integer() or "." in cell else str(int(number))


def test_the_wall_screen_shows_the_line_now(page: Page, seeded_console: Console) -> None:
    log_in(page, seeded_console, "sam")
    page.set_viewport_size({"width": 1920, "height": 1080})
    page.goto(f"{seeded_console.url}/wall")
    expect(page.get_by_role("heading", name="The line now")).to_be_visible()
    truth = reference(seeded_console)
    live = truth.live()
    assert page.locator("[data-figure='with_bot'] .value").inner_text() == str(live.with_bot)
    assert page.locator("[data-figure='waiting'] .value").inner_text() == str(live.waiting)
    today = truth.report(Period.today(NOW, TIMEZONE), None).service_level
    assert page.locator("[data-figure='service_level'] .detail").inner_text() == (
        f"{today.numerator} of {today.denominator}"
    )


def test_nothing_is_loaded_from_another_server(page: Page, seeded_console: Console) -> None:
    outside: list[str] = []
    page.on("request", lambda request: outside.append(request.url)
            if not request.url.startswith(seeded_console.server.url) else None)  # fmt: skip
    log_in(page, seeded_console, "sam")
    page.goto(f"{seeded_console.url}/dashboard?range=7d")
    page.wait_for_load_state("networkidle")
    assert outside == []
    policy = httpx.get(f"{seeded_console.url}/login").headers["content-security-policy"]
    assert "default-src 'self'" in policy
