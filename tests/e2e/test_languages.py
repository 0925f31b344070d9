"""Whole calls in the line's four languages: the first language chosen without a menu, a switch
mid-call by asking or by answering in another language, a returning caller's last language, a
language with no speech model, and a server with no model of any of its languages.

Real: the server on a port, the emulator placing each call (caller and called numbers) and
streaming espeak-ng speech in the caller's language in real time, voice activity and end of
turn, the demo line's Rasa model (one model for all its languages), the language choice and
switch, the engine, pyttsx3 prompts, SQLite, the TwiML a caller hears when the bot cannot take
the call. Stand-in: the words a Vosk model would hear. No English, Czech or Polish Vosk model
can be downloaded here (and Latvian has none at all), so the calls that reach the bot hear
through :mod:`tests.fixtures.scripted_asr`: real audio and voice activity, only the words given.
One scripted pool serves every language of a call, so its words play in order across a
switch; each language gets its own view of it that notes the recognisers handed out, which
shows the call changed recogniser when the caller changed language.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from twilio_emulator import CallResult, Hangup, Speak, TwilioEmulator, WaitForBot
from twilio_emulator.caller import Step

from bot.engine.actions import Say
from ivr.config import ROOT, load_config
from ivr.nlu.service import NLUServerHandle, free_port
from ivr.store import CallRecord
from ivr.twilio.twiml import SAY_LANGUAGES
from tests.e2e.prompts import prompts_heard
from tests.fixtures.live_server import LiveServer
from tests.fixtures.scripted_asr import ScriptedRecognizerPool
from voice.asr import PoolUsage, Recognizer, resolve_model_path
from voice.hearing import Hearing

pytestmark = pytest.mark.slow

#: The line's own texts, as written in the flow (not as the product reads them).
MAIN_YAML: dict[str, Any] = yaml.safe_load((ROOT / "flows" / "main.yaml").read_text("utf-8"))
PROMPTS: dict[str, dict[str, str]] = MAIN_YAML["prompts"]
SYSTEM_PROMPTS: dict[str, dict[str, str]] = MAIN_YAML["system_prompts"]

MAIN_NUMBER = "+442079460000"  # the UK number: not in language_choice.numbers
CZECH_NUMBER = "+420228880000"  # answered in Czech
PRAGUE = "+420777123456"
WARSAW = "+48601234567"
RIGA = "+37121234567"
BERLIN = "+4915123456789"  # Germany: not in language_choice.countries
LONDON = "+447700900123"
ACCOUNT = "44128890"
SPOKEN_ACCOUNT = "4 4 1 2 8 8 9 0"  # as the bot reads it out
ALICE = "+441632960001"  # billing and general in English on Monday mornings (flows/people.yaml)


@dataclass(frozen=True)
class Spoken:
    """One sentence the bot's voice was asked to say, in the language it was said in."""

    prompt: str | None
    text: str
    language: str


class LanguageEar:
    """One language's recogniser pool: a view of the call's one scripted pool.

    Every language shares ``words`` (the transcripts play in order across a switch); each
    recogniser handed out (one per turn heard) is noted in ``handed_out`` under this view's
    language.
    """

    sample_rate = 16000

    def __init__(self, language: str, words: ScriptedRecognizerPool, handed_out: list[str]):
        self.language = language
        self.words = words
        self.handed_out = handed_out
        self.model_path = Path(f"<scripted {language} transcripts>")

    def acquire(self) -> Recognizer:
        self.handed_out.append(self.language)
        return self.words.acquire()

    def release(self, recognizer: Recognizer) -> None:
        """Nothing to keep (as the scripted pool)."""

    def discard(self, recognizer: Recognizer) -> None:
        """Nothing to keep (as the scripted pool)."""

    def usage(self) -> PoolUsage:
        """The scripted pool's (nothing is kept)."""
        return self.words.usage()

    def forget_peak(self) -> None:
        """Nothing counted (as the scripted pool)."""


@dataclass
class Ears:
    """Scripted hearing for en, cs and pl (no Latvian model, as in production)."""

    words: ScriptedRecognizerPool
    handed_out: list[str]

    @classmethod
    def hearing(cls, transcripts: list[str]) -> tuple[Ears, Hearing]:
        ears = cls(ScriptedRecognizerPool(transcripts), [])
        pools = {
            lang: LanguageEar(lang, ears.words, ears.handed_out) for lang in ("en", "cs", "pl")
        }
        return ears, Hearing(pools, deaf=("lv",))


def demo_line(
    live_server: Callable[..., LiveServer], nlu_server: NLUServerHandle, hearing: Hearing
) -> LiveServer:
    """The demo line (flows/) on a port, at Monday 10:00 UTC, hearing through ``hearing``."""
    server = live_server(
        recognizers=hearing,
        NLU_URL=nlu_server.url,
        NLU_TOKEN=nlu_server.token,
        NLU_TIMEOUT=5.0,
    )
    assert server.services.prompts_ready.wait(180)
    # Warming the recognisers plays a few prompts through them: done before anyone listens.
    assert server.services.speech_ready.wait(60)
    return server


def bot_voice(server: LiveServer, monkeypatch: pytest.MonkeyPatch) -> list[Spoken]:
    """Everything the bot says from now on, with the language its voice says it in."""
    spoken: list[Spoken] = []
    voice = server.services.voice
    audio_for = voice.get

    def get(say: Say) -> bytes:
        spoken.append(Spoken(say.prompt_id, say.text, say.language))
        return audio_for(say)

    monkeypatch.setattr(voice, "get", get)
    return spoken


def phone(server: LiveServer, caller: str, called: str, lines: list[Speak]) -> CallResult:
    """Ring ``called`` from ``caller``, say each line once the bot has finished, hang up."""
    script: list[Step] = [WaitForBot(30)]
    for line in lines:
        script += [line, WaitForBot(60)]
    emulator = TwilioEmulator(
        server.url, server.public_url, server.auth_token, say_words_per_second=0
    )
    result = emulator.call([*script, Hangup()], caller=caller, called=called, max_seconds=150)
    assert result.ok, result.errors
    return result


def stored(server: LiveServer, result: CallResult) -> CallRecord:
    store = server.services.store
    assert store is not None
    record = store.get_call(result.call_sid)
    assert record is not None
    return record


def events(record: CallRecord, kind: str) -> list[dict[str, Any]]:
    return [dict(e.data) for e in record.events if e.kind == kind]


def said(prompt: str, language: str, **slots: str) -> Spoken:
    return Spoken(prompt, PROMPTS[prompt][language].format(**slots), language)


@pytest.mark.rasa
def test_a_czech_caller_ringing_the_uk_number_is_answered_in_czech(
    live_server: Callable[..., LiveServer],
    nlu_server: NLUServerHandle,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    question = "jakou máte otevírací dobu"
    ears, hearing = Ears.hearing([question])
    server = demo_line(live_server, nlu_server, hearing)
    voice = bot_voice(server, monkeypatch)

    result = phone(server, PRAGUE, MAIN_NUMBER, [Speak(question, "cs")])

    assert prompts_heard(result)[:2] == ["greeting", "how_can_i_help"]
    assert voice[:2] == [said("greeting", "cs"), said("how_can_i_help", "cs")]
    assert voice[1].text == "S čím vám dnes mohu pomoci?"
    assert result.streams[0].custom_parameters["language"] == "cs"
    assert ears.words.heard == [question]
    assert ears.handed_out == ["cs"]  # heard by the Czech recogniser, no other
    record = stored(server, result)
    assert record.language == "cs"
    assert events(record, "language_switched") == []


@pytest.mark.rasa
def test_english_please_mid_call_goes_on_in_english_keeping_the_account_number(
    live_server: Callable[..., LiveServer],
    nlu_server: NLUServerHandle,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    czech = "jakou máte otevírací dobu moje číslo účtu je čtyři čtyři jedna dva osm osm devět nula"
    transcripts = [czech, "english please", "i've got a question about my bill"]
    ears, hearing = Ears.hearing(transcripts)
    server = demo_line(live_server, nlu_server, hearing)
    voice = bot_voice(server, monkeypatch)

    result = phone(
        server,
        PRAGUE,
        MAIN_NUMBER,
        [
            Speak(czech, "cs"),  # one breath: a pause would end the turn early
            Speak("English please"),
            Speak("I've got a question about my bill"),
        ],
    )

    assert ears.words.heard == transcripts
    # A recogniser per turn: the Czech one hears "English please" too, the English one the rest.
    assert ears.handed_out == ["cs", "cs", "en"]
    assert prompts_heard(result) == [
        "greeting", "how_can_i_help", "opening_hours_text", "anything_else_question",
        "anything_else_question", "connecting_billing",
    ]  # fmt: skip
    assert voice == [
        said("greeting", "cs"),
        said("how_can_i_help", "cs"),
        said("opening_hours_text", "cs"),
        said("anything_else_question", "cs"),
        # The same question again, in English: the call did not go back to the main menu.
        said("anything_else_question", "en"),
        said("connecting_billing", "en", account_number=SPOKEN_ACCOUNT),
    ]

    record = stored(server, result)
    assert [(t.step, t.decision) for t in record.turns][:2] == [
        ("main_menu", "route:hours_info"), ("anything_else", "language:en"),
    ]  # fmt: skip
    assert record.turns[1].actions[0] == PROMPTS["anything_else_question"]["en"]
    assert events(record, "language_switched") == [{"from": "cs", "to": "en"}]
    assert record.language == "en"
    assert (record.outcome, record.queue) == ("transfer", "billing")
    (handover,) = events(record, "handover")
    assert handover["queue"] == "billing" and handover["language"] == "en"
    assert handover["slots"] == {"account_number": ACCOUNT}  # given in Czech, kept
    assert handover["context"]["slots"] == f"account_number={ACCOUNT}"
    (dial,) = result.dials
    assert dial.number == ALICE and dial.outcome == "completed"
    whisper = " ".join(dial.whisper)
    assert f"account_number={ACCOUNT}" in whisper and "billing_question" in whisper


@pytest.mark.rasa
def test_a_polish_caller_on_the_czech_number_answering_in_polish_is_served_in_polish(
    live_server: Callable[..., LiveServer],
    nlu_server: NLUServerHandle,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    polish = "dlaczego mój rachunek jest taki wysoki w tym miesiącu"
    digits = "cztery cztery jeden dwa osiem osiem dziewięć zero"
    ears, hearing = Ears.hearing([polish, digits])
    server = demo_line(live_server, nlu_server, hearing)
    voice = bot_voice(server, monkeypatch)

    result = phone(
        server,
        WARSAW,
        CZECH_NUMBER,
        [
            Speak(polish, "pl"),
            Speak(digits, "pl"),
        ],
    )

    assert ears.words.heard == [polish, digits]
    assert result.streams[0].custom_parameters["language"] == "cs"  # the number called wins
    assert voice[:3] == [
        said("greeting", "cs"),
        said("how_can_i_help", "cs"),
        said("ask_account", "pl"),  # understood at once, in Polish: no turn lost
    ]
    assert voice[3:] == [said("connecting_billing", "pl", account_number=SPOKEN_ACCOUNT)]
    assert ears.handed_out == ["cs", "pl"]
    record = stored(server, result)
    assert events(record, "language_switched") == [{"from": "cs", "to": "pl"}]
    assert (record.turns[0].intent, record.turns[0].decision) == (
        "billing_question", "route:billing_account",
    )  # fmt: skip
    assert record.language == "pl"
    assert (record.outcome, record.queue) == ("transfer", "billing")
    (handover,) = events(record, "handover")
    assert handover["language"] == "pl" and handover["slots"] == {"account_number": ACCOUNT}
    polish_speakers = {
        a.address for a in server.services.flow.agents.values() if "pl" in a.languages
    }
    (dial,) = result.dials
    assert dial.number in polish_speakers, (dial.number, polish_speakers)
    assert " ".join(dial.whisper).startswith("Dzwoni ")  # the agent's whisper is in Polish


@pytest.mark.rasa
def test_a_latvian_caller_hears_the_apology_in_latvian_and_reaches_a_latvian_speaker(
    live_server: Callable[..., LiveServer], nlu_server: NLUServerHandle
) -> None:
    ears, hearing = Ears.hearing(["this must never be heard"])
    server = demo_line(live_server, nlu_server, hearing)

    result = phone(server, RIGA, MAIN_NUMBER, [])

    assert not result.streams  # no bot: Latvian has no speech model
    assert ears.handed_out == []  # and no other language's model stands in
    assert result.heard_says[0] == SYSTEM_PROMPTS["connecting"]["lv"]
    assert result.heard[0].language == SAY_LANGUAGES["lv"] == "lv-LV"
    latvian_speakers = {
        a.address: a.id for a in server.services.flow.agents.values() if "lv" in a.languages
    }
    assert latvian_speakers, "no agent in flows/people.yaml lists lv in their languages"
    (dial,) = result.dials
    assert dial.number in latvian_speakers and dial.outcome == "completed"
    record = stored(server, result)
    assert (record.language, record.agent) == ("lv", latvian_speakers[dial.number])
    whisper = " ".join(dial.whisper)
    assert whisper.startswith(f"Zvana {' '.join(RIGA)}.")  # in Līga's own language
    assert "language_not_heard" not in whisper, whisper  # a reason in words, not a code


@pytest.mark.rasa
def test_a_caller_who_switched_to_polish_is_answered_in_polish_next_time(
    live_server: Callable[..., LiveServer],
    nlu_server: NLUServerHandle,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    question = "jakie są godziny otwarcia"
    ears, hearing = Ears.hearing(["po polsku proszę", question])
    server = demo_line(live_server, nlu_server, hearing)
    voice = bot_voice(server, monkeypatch)

    first = phone(server, BERLIN, MAIN_NUMBER, [Speak("Po polsku proszę", "pl")])
    assert first.streams[0].custom_parameters["language"] == "en"  # nothing chose another
    assert voice == [
        said("greeting", "en"),
        said("how_can_i_help", "en"),
        said("how_can_i_help", "pl"),  # asked: the question again, in Polish
    ]
    record = stored(server, first)
    assert events(record, "language_switched") == [{"from": "en", "to": "pl"}]
    assert record.language == "pl"  # the language the call ended in

    voice.clear()
    second = phone(server, BERLIN, MAIN_NUMBER, [Speak(question, "pl")])
    assert second.streams[0].custom_parameters["language"] == "pl"
    assert voice[:2] == [said("greeting", "pl"), said("how_can_i_help", "pl")]
    assert stored(server, second).language == "pl"
    assert ears.words.heard == ["po polsku proszę", question]
    assert ears.handed_out == ["en", "pl"]  # the first call's turn in English, the next in Polish


def test_with_only_the_korean_model_installed_no_language_is_heard_and_korean_never_stands_in(
    live_server: Callable[..., LiveServer], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert resolve_model_path(None, lang="ko") is not None, "the Korean model package is missing"
    cache = load_config()["CACHE_DIR"]  # prompt audio stays warm ...
    monkeypatch.setenv("IVR_CACHE_DIR", str(tmp_path / "no-downloads"))  # ... no other models
    server = live_server(
        NLU_URL=f"http://127.0.0.1:{free_port()}", CACHE_DIR=cache, VOSK_MODEL="", VOSK_MODELS=""
    )

    health = healthz(server)
    assert health["languages_heard"] == [] and health["speech_models"] == {}
    assert sorted(health["languages_not_heard"]) == ["cs", "en", "lv", "pl"]

    result = phone(server, LONDON, MAIN_NUMBER, [])
    assert not result.streams  # no bot stream, and no Korean recogniser behind one
    # A technical problem, not the "connecting" said when a language is unheard by design.
    assert result.heard_says[0] == SYSTEM_PROMPTS["technical_problem"]["en"]
    assert result.heard[0].language == SAY_LANGUAGES["en"]
    (dial,) = result.dials
    assert dial.outcome == "completed"
    assert "speech recognition was unavailable" in " ".join(dial.whisper)
    record = stored(server, result)
    assert (record.language, record.turns) == ("en", ())
    # Not "language_not_heard": nothing is heard at all, the speech models are missing. (The
    # store keeps no reason for a call the bot never took; the agent's whisper says it.)


def healthz(server: LiveServer) -> dict[str, Any]:
    """``GET /healthz`` (503 while the NLU is down: the body still says what is heard)."""
    try:
        with urllib.request.urlopen(f"{server.url}/healthz", timeout=10) as response:
            body = response.read()
    except urllib.error.HTTPError as error:
        body = error.read()
    answer: dict[str, Any] = json.loads(body)
    return answer
