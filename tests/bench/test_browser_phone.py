from __future__ import annotations

from playwright.sync_api import Playwright

from tests.bench import load

browser_phone = load("browser_phone")


def test_the_bench_times_a_call_and_a_key_from_chromium(playwright_driver: Playwright) -> None:
    results = browser_phone.measure(calls=1, driver=playwright_driver)
    assert set(results) == {"call → greeting", "key → reply"}
    for values in results.values():
        assert len(values) == 1 and 0 < values[0] < 10_000
    text = browser_phone.section(results, 1)
    assert text.startswith(browser_phone.SECTION) and "| call → greeting |" in text
