"""``ivr users``: the console's accounts from the command line, on a real SQLite database."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from ivr.commands.users import users
from ivr.console.passwords import verify
from ivr.store import AccountStore, Store

PASSWORD = "a long enough password"


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite:///{tmp_path}/ivr.db"
    monkeypatch.setenv("DATABASE_URL", url)
    return url


def run(*args: str, stdin: str | None = None) -> Result:
    return CliRunner().invoke(users, list(args), input=stdin)


def password_hash(url: str, name: str) -> str:
    store = Store(url)
    try:
        account = AccountStore(store).get(name)
        assert account is not None
        return account.password_hash
    finally:
        store.close()


def test_add_list_disable_and_enable(database: str) -> None:
    added = run("add", "sam", "--role", "supervisor", "--password-stdin", stdin=PASSWORD + "\n")
    assert (added.exit_code, added.stdout) == (0, "added sam (supervisor)\n")
    assert verify(password_hash(database, "sam"), PASSWORD)
    assert run("add", "alice", "--role", "agent", stdin=f"{PASSWORD}\n{PASSWORD}\n").exit_code == 0

    listed = run("list")
    assert listed.stdout.split("\n")[:2] == [
        f"{'alice':<24} {'agent':<11} active",
        f"{'sam':<24} {'supervisor':<11} active",
    ]
    assert run("disable", "alice").stdout == "alice is disabled\n"
    assert "alice                    agent       disabled" in run("list").stdout
    assert run("disable", "alice", "--enable").stdout == "alice is enabled\n"


def test_an_agent_the_flows_do_not_know_is_added_with_a_note(database: str) -> None:
    added = run("add", "zed", "--role", "agent", "--password-stdin", stdin=PASSWORD)
    assert added.exit_code == 0
    assert "'zed' is not an agent in the flows" in added.stderr


def test_passwd_sets_a_new_hash(database: str) -> None:
    run("add", "bob", "--role", "agent", "--password-stdin", stdin=PASSWORD)
    before = password_hash(database, "bob")
    changed = run("passwd", "bob", "--password-stdin", stdin="another long password\n")
    assert (changed.exit_code, changed.stdout) == (0, "new password set for bob\n")
    after = password_hash(database, "bob")
    assert after != before and verify(after, "another long password")
    assert not verify(after, PASSWORD)


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (("add", "sam", "--role", "supervisor", "--password-stdin"), "short\n", "at least 10"),
        (("add", "sam", "--role", "supervisor", "--password-stdin"), "\n", "password is empty"),
        (("add", "no spaces", "--role", "agent", "--password-stdin"), PASSWORD, "a name is"),
        (("add", "sam", "--role", "king", "--password-stdin"), PASSWORD, "'king' is not one of"),
        (("disable", "nobody"), None, "nobody"),
        (("passwd", "nobody", "--password-stdin"), PASSWORD, "nobody"),
    ],
    ids=["weak", "empty", "bad-name", "bad-role", "disable-unknown", "passwd-unknown"],
)
def test_bad_input_is_refused_with_a_message_and_nothing_changes(
    database: str, args: tuple[str, ...], stdin: str | None, message: str
) -> None:
    refused = run(*args, stdin=stdin)
    assert refused.exit_code != 0
    assert message in refused.output, refused.output
    assert run("list").stdout == ""


def test_a_name_taken_is_refused(database: str) -> None:
    run("add", "sam", "--role", "supervisor", "--password-stdin", stdin=PASSWORD)
    again = run("add", "sam", "--role", "agent", "--password-stdin", stdin=PASSWORD)
    assert again.exit_code != 0 and "sam" in again.output
    assert run("list").stdout.count("sam") == 1
