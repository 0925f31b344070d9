from __future__ import annotations

from pathlib import Path

import pytest

from tests.bench import load

suite = load("suite")
common = load("common")

# The end of a real `make test` output, pytest's summary last.
OUTPUT = """\
tests/voice/test_vosk.py ........                                       [ 99%]
tests/test_ko_line.py ..                                                 [100%]

=========================== short test summary info ============================
SKIPPED [1] tests/ivr/store/test_store.py:41: PostgreSQL is not running
SKIPPED [1] tests/e2e/test_phone_calls.py:90: no English Vosk model
========= 1811 passed, 2 skipped, 3 deselected, 1 warning in 1867.52s (0:31:07) =========
"""

DOC = """# Benchmarks

## NLU (Rasa)

| measure | value |
|---|---|
| examples / intents | 288 / 13 |

## Set-up and test suite

Some words before the table.

| cache | tests | `make test` | of which pytest | commit | date | machine |
|---|---|---|---|---|---|---|
| empty | 1,813 | 33.7 min | not recorded | before the script | 2026-12-02 | 2 cores |

| what | time |
|---|---|
| `ivr simulate` against the running service, a whole three-turn call | 0.75 s |

Words after the tables.

## Turn latency (phone)

| measure | value |
|---|---|
| turns measured | 50 |
"""


def a_run(cache: str = "warm", **changes: object) -> object:
    summary = suite.parse_summary(OUTPUT)
    fields: dict[str, object] = {
        "cache": cache,
        "summary": summary,
        "wall_seconds": 2021.4,
        "commit": "4c3c33312345678901234567890abcdef0123456",
        "date": "2026-12-03",
        "machine": "2 cores, 24 GiB, AMD EPYC 7B13",
        **changes,
    }
    return suite.SuiteRun(**fields)


def test_the_summary_line_gives_the_counts_and_pytests_time() -> None:
    summary = suite.parse_summary(OUTPUT)
    assert dict(summary.counts) == {"passed": 1811, "skipped": 2, "deselected": 3, "warning": 1}
    assert summary.seconds == 1867.52
    assert summary.tests == 1813  # deselected ones did not run; a warning is not a test
    assert summary.describe() == "1,813: 1,811 passed, 2 skipped, 3 deselected"


@pytest.mark.parametrize(
    ("line", "counts", "seconds"),
    [
        (
            "==== 1 failed, 1812 passed, 2 errors in 2.00s ====",
            {"failed": 1, "passed": 1812, "error": 2},
            2.0,
        ),
        ("============ 7 passed in 0.31s ============", {"passed": 7}, 0.31),
        (
            "==== 2 xfailed, 1 xpassed, 4 warnings in 12.5s (0:00:12) ====",
            {"xfailed": 2, "xpassed": 1, "warning": 4},
            12.5,
        ),
        ("========== no tests ran in 0.01s ==========", {}, 0.01),
    ],
)
def test_summary_lines_of_every_shape(line: str, counts: dict[str, int], seconds: float) -> None:
    summary = suite.parse_summary(f"collected 9 items\n\n{line}\n")
    assert (dict(summary.counts), summary.seconds) == (counts, seconds)


def test_the_last_summary_line_counts_and_none_is_an_error() -> None:
    earlier = "===== 3 passed in 1.00s =====\n"  # e.g. a sub-run's own output
    assert suite.parse_summary(earlier + OUTPUT).counts["passed"] == 1811
    with pytest.raises(ValueError, match="no pytest summary"):
        suite.parse_summary("make: *** [Makefile:12: test] Error 2\n")


def test_durations_read_as_minutes_and_seconds() -> None:
    assert [suite.duration(s) for s in (0.4, 42, 59.6, 60, 2021.4)] == [
        "0 s",
        "42 s",
        "1 min 00 s",
        "1 min 00 s",
        "33 min 41 s",
    ]


def test_a_run_replaces_the_row_of_its_cache_and_keeps_the_rest(tmp_path: Path) -> None:
    section = common.read_section(write(DOC, tmp_path / "benchmarks.md"), suite.SECTION)
    assert section is not None

    fresh = suite.update_section(section, a_run("empty"))
    rows = table_rows(fresh)
    assert rows == [
        [
            "empty",
            "1,813: 1,811 passed, 2 skipped, 3 deselected",
            "33 min 41 s",
            "31 min 08 s",
            "`4c3c33312345`",
            "2026-12-03",
            "2 cores, 24 GiB, AMD EPYC 7B13",
        ]
    ]
    assert "before the script" not in fresh
    # Everything around the table stays as it was.
    for kept in ("Some words before the table.", "| `ivr simulate` against", "Words after"):
        assert kept in fresh

    both = suite.update_section(fresh, a_run("warm", wall_seconds=600.0))
    assert [(row[0], row[2]) for row in table_rows(both)] == [
        ("empty", "33 min 41 s"),
        ("warm", "10 min 00 s"),
    ]
    again = suite.update_section(both, a_run("warm", wall_seconds=630.0))
    assert [(row[0], row[2]) for row in table_rows(again)] == [
        ("empty", "33 min 41 s"),
        ("warm", "10 min 30 s"),
    ]


def test_a_failed_run_says_so_in_its_row() -> None:
    row = suite.row_of(a_run(exit_code=2))
    assert row[1] == "1,813: 1,811 passed, 2 skipped, 3 deselected (`make test` exited 2)"


def test_written_into_the_document_only_the_section_changes(tmp_path: Path) -> None:
    path = write(DOC, tmp_path / "benchmarks.md")
    section = suite.update_section(common.read_section(path, suite.SECTION), a_run("empty"))
    common.write_section(path, suite.SECTION, section)
    text = path.read_text()
    before, after = DOC.split("## Set-up and test suite")[0], DOC.split("## Turn latency")[1]
    assert text.startswith(before)
    assert text.endswith("## Turn latency" + after)
    assert "| empty | 1,813: 1,811 passed" in text


def test_without_the_section_a_new_one_is_made() -> None:
    section = suite.update_section(None, a_run("empty"))
    assert section.startswith(suite.SECTION + "\n")
    assert len(table_rows(section)) == 1


def write(text: str, path: Path) -> Path:
    path.write_text(text)
    return path


def table_rows(section: str) -> list[list[str]]:
    lines = section.splitlines()
    start = lines.index("| " + " | ".join(suite.HEADER) + " |") + 2
    rows = []
    for line in lines[start:]:
        if not line.startswith("|"):
            break
        rows.append([cell.strip() for cell in line.strip("|").split("|")])
    return rows
