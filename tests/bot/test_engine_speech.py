"""Speech: local extraction, NLU failure, global intents, routing, clarifying, misunderstanding."""

from __future__ import annotations

import pytest

from bot.engine import Listen, Status, Transfer
from tests.bot.engine_flow import CLOSED, OPEN, Call, make_flow


def at_account(**escalation: object) -> Call:
    call = Call(make_flow(**escalation))
    call.hear("outage", ("report_outage", 0.95))
    return call


def at_confirm() -> Call:
    call = Call()
    call.hear("bill", ("billing_question", 0.95))
    return call


def at_notes() -> Call:
    call = at_account()
    call.press("12345678")
    call.hear("tomorrow at three")
    assert call.session.step_id == "notes"
    return call


def transferred(call: Call, reason: str) -> bool:
    return isinstance(call.last, Transfer) and call.last.reason == reason


# --- (a) local extraction -----------------------------------------------------------------


def test_spoken_digits_fill_slot_even_without_nlu() -> None:
    call = at_account()
    call.hear_without_nlu("one two three four five six seven eight")
    assert call.session.slots["account_number"] == "12345678"
    assert call.decision == "slot:account_number"
    assert call.session.step_id == "outage_when"


def test_valid_digits_win_over_a_global_intent() -> None:
    call = at_account()
    call.hear("double one two three four five six seven", ("talk_to_human", 0.9))
    assert call.session.slots["account_number"] == "11234567"


def test_invalid_digits_fall_through_to_global_intent() -> None:
    call = at_account()
    call.hear("one person please", ("talk_to_human", 0.9))
    assert call.decision == "global:person"
    assert transferred(call, "asked_for_person")


def test_invalid_digits_are_a_misunderstanding() -> None:
    call = at_account()
    call.hear("one two three", ("chit_chat", 0.3))
    assert call.decision == "misunderstood"
    assert call.said == [
        "Sorry, I didn't get that.",
        "Please say or type your eight digit account number.",
    ]
    assert call.last == Listen(expect="digits", slot="account_number")


def test_entity_fills_collect_slot_when_words_do_not() -> None:
    from bot.nlu.result import Entity

    call = at_account()
    call.hear(
        "it's the usual", ("chit_chat", 0.3), entities=(Entity("account_number", "87654321"),)
    )
    assert call.session.slots["account_number"] == "87654321"


def test_datetime_slot_from_words_without_nlu() -> None:
    call = at_account()
    call.press("12345678")
    call.hear_without_nlu("tomorrow at three")
    assert call.session.slots["callback_time"] == "2026-03-11T15:00:00+00:00"
    assert call.session.step_id == "notes"


def test_past_datetime_is_not_accepted() -> None:
    call = at_account()
    call.press("12345678")
    call.hear("yesterday", ("chit_chat", 0.2))
    assert "callback_time" not in call.session.slots
    assert call.decision == "misunderstood"


@pytest.mark.parametrize(("words", "step"), [("yes", "main_menu"), ("no thanks", "goodbye")])
def test_confirm_by_words_without_nlu(words: str, step: str) -> None:
    call = at_confirm()
    call.hear_without_nlu(words)
    assert call.session.step_id == step
    assert call.decision == f"confirm:{'yes' if step == 'main_menu' else 'no'}"


@pytest.mark.parametrize(("intent", "answer"), [("affirm", "yes"), ("deny", "no")])
def test_confirm_by_confident_affirm_deny(intent: str, answer: str) -> None:
    call = at_confirm()
    call.hear("mm-hmm", (intent, 0.9))
    assert call.decision == f"confirm:{answer}"


def test_unsure_affirm_does_not_confirm() -> None:
    call = at_confirm()
    call.hear("mm-hmm", ("affirm", 0.4), ("deny", 0.35))
    assert call.decision == "misunderstood"
    assert call.said[-1] == "Is there anything else? Yes or no."


def test_yes_no_slot_from_words_and_intent() -> None:
    call = at_notes()
    call.hear("1 High Street", ("chit_chat", 0.2))
    call.hear("sure", ("chit_chat", 0.3))
    assert call.session.slots["wants_sms"] == "yes"
    call = at_notes()
    call.hear("1 High Street", ("chit_chat", 0.2))
    call.hear("i'll pass", ("deny", 0.9))  # no yes/no word: the confident intent decides
    assert call.session.slots["wants_sms"] == "no"
    call = at_notes()
    call.hear("1 High Street", ("chit_chat", 0.2))
    call.hear("hmm", ("deny", 0.9))  # a hesitation alone is never an answer
    assert "wants_sms" not in call.session.slots


# --- (b) NLU unavailable ------------------------------------------------------------------


@pytest.mark.parametrize("make", [Call, at_account, at_confirm, at_notes])
def test_nlu_down_and_nothing_local_goes_to_a_person(make) -> None:  # type: ignore[no-untyped-def]
    call = make()
    call.hear_without_nlu("blah blah")
    assert call.decision == "nlu_unavailable"
    assert call.said == ["We have a technical problem.", "Connecting you now."]
    assert transferred(call, "nlu_unavailable")


def test_nlu_down_outside_hours_gives_callback() -> None:
    call = Call(now=CLOSED)
    call.hear_without_nlu("blah")
    assert call.said == [
        "We have a technical problem.",
        "We're closed; we'll call you back.",
        "When would be a good time for us to call you back?",
    ]
    assert call.last == Listen(expect="callback_time")
    booking = call.session.booking
    assert booking is not None
    assert (booking.reason, booking.action_reason) == ("nlu_unavailable", "outside_hours")


# --- (c) global intents -------------------------------------------------------------------


def test_global_person() -> None:
    call = Call()
    call.hear("a human please", ("talk_to_human", 0.9), ("billing_question", 0.05))
    assert call.decision == "global:person"
    assert call.said == ["Connecting you now."]
    assert call.last.queue == "general"  # type: ignore[union-attr]
    assert transferred(call, "asked_for_person")


def test_global_person_outside_hours() -> None:
    call = Call(now=CLOSED)
    call.hear("a human please", ("talk_to_human", 0.9))
    assert call.said == [
        "We're closed; we'll call you back.",
        "When would be a good time for us to call you back?",
    ]
    assert call.last == Listen(expect="callback_time")
    assert call.session.booking is not None
    assert call.session.booking.queue == "general"


def test_global_repeat_says_the_question_again() -> None:
    call = Call()
    call.hear("what?", ("repeat", 0.9))
    assert call.decision == "global:repeat"
    assert call.said == ["How can I help?"]
    assert call.last == Listen(expect="intent")


def test_repeat_after_reprompt_repeats_the_reprompt_not_the_apology() -> None:
    call = Call()
    call.hear("banana", ("chit_chat", 0.9))
    call.hear("again?", ("repeat", 0.9))
    assert call.said == ["Please tell me briefly why you're calling."]


def test_global_help_then_question() -> None:
    call = at_account()
    call.hear("help", ("help", 0.9))
    assert call.said == ["You can ask about bills.", "What's your account number?"]
    assert call.last == Listen(expect="digits", slot="account_number")


def test_global_goto() -> None:
    call = at_account()
    call.hear("bye", ("goodbye", 0.9))
    assert call.decision == "global:goto:goodbye"
    assert call.session.status is Status.ENDED


def test_unsure_global_is_not_honoured() -> None:
    call = Call()
    call.hear("human?", ("talk_to_human", 0.5), ("billing_question", 0.3))
    assert call.decision == "clarify"  # talk_to_human is not routable here, billing is


def test_small_margin_vetoes_global() -> None:
    call = Call()
    call.hear("human bill", ("talk_to_human", 0.7), ("billing_question", 0.65))
    assert call.decision == "clarify"


def test_fallback_ignored_in_ranking_and_flag_does_not_veto() -> None:
    call = Call()
    call.hear("person", ("nlu_fallback", 0.9), ("talk_to_human", 0.8), ("help", 0.1), fallback=True)
    assert call.decision == "global:person"


def test_text_slot_checks_global_before_filling() -> None:
    call = at_notes()
    call.hear("I want a person", ("talk_to_human", 0.9))
    assert "outage_address" not in call.session.slots
    assert transferred(call, "asked_for_person")


def test_text_slot_filled_as_said() -> None:
    call = at_notes()
    call.hear("  1 High Street, Leeds ", ("chit_chat", 0.4))
    assert call.session.slots["outage_address"] == "1 High Street, Leeds"
    assert call.decision == "slot:outage_address"


# --- (d) routing ---------------------------------------------------------------------------


def test_confident_routed_intent() -> None:
    call = Call()
    call.hear("my bill", ("billing_question", 0.8), ("change_plan", 0.1))
    assert call.decision == "route:billing_info"
    assert call.session.last_intent == "billing_question"
    turn = call.session.turns[-1]
    assert (turn.intent, turn.confidence, turn.kind, turn.step_id) == (
        "billing_question",
        0.8,
        "speech",
        "main_menu",
    )
    assert turn.actions == ("Your bill is ready.", "Anything else?", "[listen expect=yes_no]")


def test_confident_but_not_routed_is_a_misunderstanding() -> None:
    call = Call()
    call.hear("nice weather", ("chit_chat", 0.95))
    assert call.decision == "misunderstood"
    assert call.session.misunderstandings == 1


def test_threshold_is_inclusive() -> None:
    call = Call(make_flow(confidence_threshold=0.6, margin=0.1))
    call.hear("bill", ("billing_question", 0.6), ("change_plan", 0.5))
    assert call.decision == "route:billing_info"


# --- (e) clarifying ------------------------------------------------------------------------


def unsure() -> Call:
    call = Call()
    call.hear("my plan bill", ("billing_question", 0.45), ("change_plan", 0.4), ("help", 0.1))
    return call


def test_clarify_offers_top_two_routable_labels() -> None:
    call = unsure()
    assert call.decision == "clarify"
    assert call.said == ["Did you mean a question about your bill or changing your plan?"]
    assert call.actions[0].cacheable is False  # type: ignore[union-attr]
    assert call.session.pending_options == ("billing_question", "change_plan")
    assert call.last == Listen(expect="intent")


def test_clarify_in_call_language() -> None:
    call = Call(language="cs")
    call.hear("tarif", ("help", 0.5), ("change_plan", 0.4), ("chit_chat", 0.05))
    assert call.said == ["Myslíte změna tarifu?"]


def test_clarify_skipped_when_no_routable_candidates() -> None:
    call = Call()
    call.hear("hmm", ("chit_chat", 0.4), ("help", 0.3))
    assert call.decision == "misunderstood"


def test_clarify_disabled_by_policy() -> None:
    call = Call(make_flow(clarifying_questions=0))
    call.hear("my plan bill", ("billing_question", 0.45), ("change_plan", 0.4))
    assert call.decision == "misunderstood"


def test_reply_confident_and_routable() -> None:
    call = unsure()
    call.hear("an outage actually", ("report_outage", 0.9))
    assert call.decision == "route:outage_account"


def test_reply_top_intent_among_options_at_any_confidence() -> None:
    call = unsure()
    call.hear("the second", ("change_plan", 0.3), ("billing_question", 0.29))
    assert call.decision == "route:plan_callback"
    assert call.session.last_intent == "change_plan"


def test_reply_matching_one_label_by_words() -> None:
    call = unsure()
    call.hear("the bill one", ("chit_chat", 0.5))
    assert call.decision == "route:billing_info"


def test_reply_by_words_works_without_nlu() -> None:
    call = unsure()
    call.hear_without_nlu("changing plan")
    assert call.decision == "route:plan_callback"


def test_reply_yes_to_single_option() -> None:
    call = Call()
    call.hear("bill?", ("billing_question", 0.5), ("help", 0.2))
    assert call.said == ["Did you mean a question about your bill?"]
    call.hear("yes", ("affirm", 0.5))
    assert call.decision == "route:billing_info"


def test_reply_yes_to_two_options_goes_to_person() -> None:
    call = unsure()
    call.hear("yes", ("affirm", 0.9))
    assert call.decision == "clarify_failed"
    assert transferred(call, "low_confidence")


def test_reply_unclear_goes_to_person() -> None:
    call = unsure()
    call.hear("whatever", ("chit_chat", 0.4))
    assert transferred(call, "low_confidence")


def test_reply_repeat_keeps_clarification_pending() -> None:
    call = unsure()
    call.hear("sorry?", ("repeat", 0.9))
    assert call.said == ["Did you mean a question about your bill or changing your plan?"]
    assert call.session.pending_options == ("billing_question", "change_plan")


def test_reply_global_person() -> None:
    call = unsure()
    call.hear("human", ("talk_to_human", 0.9))
    assert transferred(call, "asked_for_person")


# --- (f) misunderstanding -------------------------------------------------------------------


def test_misunderstanding_reprompts_then_person() -> None:
    call = Call()
    call.hear("banana", ("chit_chat", 0.9))
    assert call.said == ["Sorry, I didn't get that.", "Please tell me briefly why you're calling."]
    assert call.last == Listen(expect="intent")
    call.hear("banana", ("chit_chat", 0.9))
    assert call.said == ["Connecting you now."]
    assert transferred(call, "low_confidence")


def test_misunderstanding_uses_prompt_without_reprompt() -> None:
    call = at_account()
    call.press("12345678")
    call.hear("banana", ("chit_chat", 0.9))
    assert call.said == ["Sorry, I didn't get that.", "When shall we call?"]


def test_misunderstandings_limit_from_policy() -> None:
    call = Call(make_flow(misunderstandings_before_person=3))
    for _ in range(2):
        call.hear("banana", ("chit_chat", 0.9))
        assert call.session.status is Status.ACTIVE
    call.hear("banana", ("chit_chat", 0.9))
    assert transferred(call, "low_confidence")


def test_misunderstood_to_person_outside_hours() -> None:
    call = Call(make_flow(misunderstandings_before_person=1), now=CLOSED)
    call.hear("banana", ("chit_chat", 0.9))
    assert call.last == Listen(expect="callback_time")
    assert call.session.booking is not None
    assert call.session.booking.reason == "low_confidence"
    assert call.session.turns[-1].at == CLOSED
    assert OPEN != CLOSED
