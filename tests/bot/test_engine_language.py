"""The engine's language switch mid-call, and conversation tests that choose like the phone."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bot.convtest import ConversationTestError, load_tests, run_test
from bot.engine import Engine, Say
from bot.engine.base import is_confident, ranked_intents
from bot.flow import load_flow
from bot.flow.model import Flow
from bot.nlu.result import NLUResult, NLUUnavailable
from tests.bot.engine_flow import OPEN, Call, nlu
from tests.bot.flow_helpers import VALID, edit

ROOT = Path(__file__).resolve().parents[2]
DEMO_DIR = ROOT / "flows"
DEMO = load_flow(DEMO_DIR)

ACCOUNT = "44128890"
# What a caller who wants another language might get from the NLU: nothing confident.
UNSURE = (("talk_to_human", 0.41), ("out_of_scope", 0.32))
CZECH_BILL = "mám dotaz k vyúčtování za tento měsíc"
BILLING = (("billing_question", 0.93), ("payment_arrangement", 0.03))


def prompt(name: str, language: str) -> str:
    return DEMO.prompts[name].in_language(language)


def english_call(flow: Flow = DEMO) -> Call:
    call = Call(flow, OPEN, "en")
    assert call.session.step_id == "main_menu"
    assert call.said == ["Thanks for calling Acme Telecom.", "How can I help you today?"]
    return call


def test_asking_for_czech_says_the_main_question_again_in_czech() -> None:
    call = english_call()
    call.session = call.session.with_slot("account_number", ACCOUNT)
    call.hear("can we speak czech", *UNSURE)
    [say] = [a for a in call.actions if isinstance(a, Say)]
    assert say.language == "cs"
    assert say.prompt_id == "how_can_i_help"
    assert say.text == "S čím vám dnes mohu pomoci?" == prompt("how_can_i_help", "cs")
    assert call.markers == ["[listen expect=intent]"]
    assert call.session.step_id == "main_menu"
    assert call.session.language == "cs"
    assert call.decision == "language:cs"
    assert dict(call.session.slots) == {"account_number": ACCOUNT}
    assert call.session.misunderstandings == 0
    assert call.session.turns[-1].step_id == "main_menu"


def test_after_the_switch_the_call_goes_on_in_czech() -> None:
    call = english_call()
    call.hear("can we speak czech", *UNSURE)
    call.hear("můžete to zopakovat", ("repeat", 0.92), ("help", 0.03))
    assert call.decision == "global:repeat"
    assert call.said == ["S čím vám dnes mohu pomoci?"]
    call.hear(CZECH_BILL, *BILLING)
    assert call.decision == "route:billing_account"
    assert call.said == [prompt("ask_account", "cs")]


def test_asking_at_a_collect_step_asks_for_the_slot_again_in_czech() -> None:
    call = english_call()
    call.hear("question about my bill", ("billing_question", 0.9), ("change_plan", 0.05))
    assert call.session.step_id == "billing_account"
    assert call.said == [prompt("ask_account", "en")]
    call.hear("do you speak czech", *UNSURE)
    assert call.session.step_id == "billing_account"
    assert call.decision == "language:cs"
    assert call.said == [prompt("ask_account", "cs")]
    assert call.markers == ["[listen expect=digits slot=account_number]"]
    # The digits are now read as Czech number words.
    call.hear("čtyři čtyři jedna dva osm osm devět nula", ("out_of_scope", 0.4))
    assert call.decision == "slot:account_number"
    assert dict(call.session.slots) == {"account_number": ACCOUNT}
    assert call.said == [
        "Děkuji, mám zaznamenaný účet 4 4 1 2 8 8 9 0. "
        "Teď vás přepojím na naše oddělení vyúčtování."
    ]
    assert call.markers == ["[transfer queue=billing reason=billing_question]"]


def test_asking_while_booking_a_callback_asks_for_the_time_again_in_polish() -> None:
    call = english_call()
    call.hear("could you call me back later", ("request_callback", 0.9), ("help", 0.02))
    assert call.session.booking is not None
    call.hear("po polsku proszę", *UNSURE)
    assert call.decision == "language:pl"
    assert call.session.step_id == "callback_general"
    assert call.session.booking is not None
    assert call.said == [DEMO.system_prompts["callback_when"].in_language("pl")]


def test_a_confident_czech_answer_on_an_english_call_is_routed_in_czech() -> None:
    call = english_call()
    call.hear(CZECH_BILL, *BILLING)
    assert call.session.language == "cs"
    assert call.decision == "route:billing_account"
    assert call.session.step_id == "billing_account"
    assert call.said == [prompt("ask_account", "cs")]
    assert call.session.turns[-1].intent == "billing_question"


def test_the_switched_turn_is_understood_in_its_language_at_once() -> None:
    # The account number in Czech words fills the slot on the very turn that switched.
    call = english_call()
    words = "mám dotaz k vyúčtování číslo účtu čtyři čtyři jedna dva osm osm devět nula"
    call.hear(words, ("billing_question", 0.91), ("payment_arrangement", 0.03))
    assert call.session.language == "cs"
    assert call.decision == "route:billing_account"
    assert call.session.step_id == "billing_agent"
    assert dict(call.session.slots) == {"account_number": ACCOUNT}
    assert call.markers == ["[transfer queue=billing reason=billing_question]"]


def test_an_unsure_czech_answer_does_not_switch() -> None:
    call = english_call()
    call.hear(CZECH_BILL, ("billing_question", 0.5), ("change_plan", 0.3))
    assert call.session.language == "en"
    assert call.decision == "clarify"
    assert call.said == [
        "Sorry, just to check, is it a question about your bill or changing your plan?"
    ]


def test_a_short_czech_yes_on_an_english_call_stays_in_english() -> None:
    call = english_call()
    call.hear("when are you open", ("opening_hours", 0.95), ("help", 0.01))
    assert call.session.step_id == "anything_else"
    call.hear("ano", ("affirm", 0.97), ("deny", 0.01))
    assert call.session.language == "en"
    assert call.decision == "route:what_else"
    assert call.said == ["Sure, what else can I help with?"]


# --- out_of_scope ------------------------------------------------------------------------------


def test_out_of_scope_is_never_confident_nor_offered() -> None:
    result = nlu("what's the weather like", ("out_of_scope", 0.95), ("billing_question", 0.03))
    assert not is_confident(result, DEMO)
    assert ranked_intents(result) == ["billing_question"]
    alone = nlu("what's the weather like", ("out_of_scope", 0.95))
    assert not is_confident(alone, DEMO)
    assert ranked_intents(alone) == []


def test_a_confident_out_of_scope_is_not_routed_but_clarified() -> None:
    call = english_call()
    call.hear(
        "what's the weather like in london", ("out_of_scope", 0.95), ("billing_question", 0.03)
    )
    assert call.session.step_id == "main_menu"
    assert call.decision == "clarify"
    assert call.said == ["Sorry, just to check, is it a question about your bill?"]
    assert call.session.pending_options == ("billing_question",)
    assert call.session.last_intent is None


def test_a_confident_out_of_scope_alone_is_misunderstood() -> None:
    call = english_call()
    call.hear("what's the weather like in london", ("out_of_scope", 0.95))
    assert call.session.step_id == "main_menu"
    assert call.decision == "misunderstood"
    assert call.said == [
        "Sorry, I didn't quite get that.",
        prompt("how_can_i_help_again", "en"),
    ]


def test_an_off_topic_czech_line_does_not_switch() -> None:
    call = english_call()
    call.hear("jaké bude zítra počasí v praze", ("out_of_scope", 0.95))
    assert call.session.language == "en"
    assert call.decision == "misunderstood"
    assert call.said[0] == "Sorry, I didn't quite get that."


# --- no switching ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def no_switching(tmp_path_factory: pytest.TempPathFactory) -> Flow:
    """The demo flow with ``switch_by_speech: false``."""
    folder = tmp_path_factory.mktemp("no_switching") / "flows"
    shutil.copytree(DEMO_DIR, folder, ignore=shutil.ignore_patterns("tests"))
    edit(folder / "main.yaml", "switch_by_speech: true", "switch_by_speech: false")
    flow = load_flow(folder)
    assert flow.language_choice.switch_by_speech is False
    return flow


def test_without_switch_by_speech_a_request_is_just_not_understood(no_switching: Flow) -> None:
    call = english_call(no_switching)
    call.hear("can we speak czech", *UNSURE)
    assert call.session.language == "en"
    assert call.decision == "misunderstood"
    assert call.said == [
        "Sorry, I didn't quite get that.",
        prompt("how_can_i_help_again", "en"),
    ]


def test_without_switch_by_speech_a_czech_answer_is_routed_in_english(no_switching: Flow) -> None:
    call = english_call(no_switching)
    call.hear(CZECH_BILL, *BILLING)
    assert call.session.language == "en"
    assert call.decision == "route:billing_account"
    assert call.said == [prompt("ask_account", "en")]


def test_a_one_language_flow_never_switches() -> None:
    call = Call(load_flow(VALID), OPEN, "en")
    call.hear("can we speak czech", ("help", 0.3), ("goodbye", 0.25))
    assert call.session.language == "en"
    assert call.decision == "misunderstood"


# --- conversation tests: `to:` -------------------------------------------------------------------


class TableNLU:
    """A stand-in NLU: fixed results for known words, nothing understood otherwise."""

    def __init__(self, table: dict[str, tuple[tuple[str, float], ...]]) -> None:
        self.table = table

    def parse(self, text: str) -> NLUResult:
        return nlu(text, *self.table.get(text, ()))


class DownNLU:
    def parse(self, text: str) -> NLUResult:
        raise NLUUnavailable("down")


STAND_IN = TableNLU({"mám dotaz k vyúčtování": BILLING, "question about my bill": BILLING})

CONVERSATION = """\
version: 1
tests:
  - name: the czech number
{numbers}
    turns:
      - expect: {{step: main_menu, bot_says: "{question}"}}
      - caller: "{bill}"
        expect: {{intent: billing_question, step: billing_account}}
"""


def converse(tmp_path: Path, numbers: str, question: str, bill: str) -> tuple[str, ...]:
    """Run one conversation test; its transcript (it must pass)."""
    path = tmp_path / "language.yaml"
    path.write_text(CONVERSATION.format(numbers=numbers, question=question, bill=bill))
    [test] = load_tests(path)
    outcome = run_test(test, Engine(DEMO), STAND_IN, DownNLU())
    assert outcome.failures == ()
    return outcome.transcript


def test_a_conversation_test_to_the_czech_number_starts_in_czech(tmp_path: Path) -> None:
    numbers = '    from: "+447400123456"\n    to: "+420228880000"'
    transcript = converse(
        tmp_path, numbers, "S čím vám dnes mohu pomoci?", "mám dotaz k vyúčtování"
    )
    assert transcript == (
        "  bot: Děkujeme, že voláte Acme Telecom.",
        "  bot: S čím vám dnes mohu pomoci?",
        "caller: mám dotaz k vyúčtování  [billing_question 0.93]",
        f"  bot: {prompt('ask_account', 'cs')}",
    )


def test_the_to_key_is_read(tmp_path: Path) -> None:
    path = tmp_path / "t.yaml"
    path.write_text(CONVERSATION.format(numbers='    to: "+420228880000"', question="x", bill="y"))
    [test] = load_tests(path)
    assert test.called_number == "+420228880000"
    assert test.caller_number is None
    assert test.language is None


def test_a_conversation_test_from_a_polish_number_starts_in_polish(tmp_path: Path) -> None:
    transcript = converse(
        tmp_path, '    from: "+48601234567"', "W czym mogę dziś pomóc?", "question about my bill"
    )
    assert transcript[:2] == (
        "  bot: Dziękujemy za telefon do Acme Telecom.",
        "  bot: W czym mogę dziś pomóc?",
    )


def test_a_conversation_test_with_no_numbers_starts_in_english(tmp_path: Path) -> None:
    converse(
        tmp_path,
        "    now: 2026-11-23T10:00:00+00:00",
        "How can I help you today?",
        "question about my bill",
    )


def test_the_tests_language_wins_over_the_number(tmp_path: Path) -> None:
    numbers = '    to: "+420228880000"\n    language: en'
    converse(tmp_path, numbers, "How can I help you today?", "question about my bill")


UNQUOTED = """\
version: 1
tests:
  - name: an unquoted number
    {key}: {number}
    turns:
      - expect: {{step: main_menu, bot_says: "S čím vám dnes mohu pomoci?"}}
"""


@pytest.mark.parametrize(("key", "number"), [("to", "+420228880000"), ("from", "+420601234567")])
def test_an_unquoted_number_is_refused_or_read(tmp_path: Path, key: str, number: str) -> None:
    """BUG: unquoted ``to: +420228880000`` is a YAML int and run_test crashes (AttributeError).

    choose_language calls ``.strip()`` on the int (``from:`` too, since it now chooses the
    language). Either fix passes: load_tests refuses the number at its line, or the test runs.
    """
    path = tmp_path / "t.yaml"
    path.write_text(UNQUOTED.format(key=key, number=number))
    try:
        [test] = load_tests(path)
    except ConversationTestError as error:
        message = str(error)
        assert message.startswith(f"{path}:3:"), message  # the test that has it
        return
    outcome = run_test(test, Engine(DEMO), STAND_IN, DownNLU())
    assert outcome.failures == ()
