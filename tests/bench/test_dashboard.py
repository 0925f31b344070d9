from __future__ import annotations

from tests.bench import load
from tests.fixtures.seed_calls import plan, seed_flow

dashboard = load("dashboard")


def test_the_bench_times_every_page_on_a_seeded_database() -> None:
    results = dashboard.run_backend("sqlite", plan(count=200, days=5), seed_flow(), runs=2)
    names = [name for name, _, _ in results]
    assert names == [
        "report(), today", "report(), 7 days", "report(), 30 days",
        "report(), 30 days, queue billing", "live()", *dashboard.CONSOLE_PAGES,
    ]  # fmt: skip
    assert all(0 < median <= p95 for _, median, p95 in results)


def test_a_page_adds_its_own_timed_functions() -> None:
    def page(backend: object) -> list[object]:
        return [dashboard.Timed("console page", lambda: None)]

    dashboard.PAGES.append(page)
    try:
        results = dashboard.run_backend("sqlite", plan(count=50, days=2), seed_flow(), runs=1)
    finally:
        dashboard.PAGES.remove(page)
    assert results[-1][0] == "console page"
