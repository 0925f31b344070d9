"""``<Say>`` in the caller's language, with a voice that speaks it."""

from __future__ import annotations

from xml.etree import ElementTree

import pytest
from twilio.twiml.voice_response import VoiceResponse

from ivr.speech import Speech
from ivr.twilio.twiml import SAY_LANGUAGES, SAY_VOICES, say


@pytest.mark.parametrize(
    ("language", "text", "locale", "voice"),
    [
        ("en", "Please hold on.", "en-GB", "Polly.Amy"),
        ("cs", "Chvilku prosím.", "cs-CZ", "Google.cs-CZ-Standard-A"),
        ("pl", "Proszę chwilę poczekać.", "pl-PL", "Polly.Ewa"),
        ("lv", "Lūdzu, uzgaidiet.", "lv-LV", "Google.lv-LV-Standard-A"),
    ],
)
def test_say_names_the_language_and_a_voice_of_it(
    language: str, text: str, locale: str, voice: str
) -> None:
    response = VoiceResponse()
    say(response, Speech(text, language))
    element = ElementTree.fromstring(str(response))[0]
    assert (element.tag, element.text) == ("Say", text)
    assert (element.get("language"), element.get("voice")) == (locale, voice)


def test_every_language_with_a_locale_has_a_voice_of_that_locale() -> None:
    assert set(SAY_VOICES) == set(SAY_LANGUAGES)
    for language, voice in SAY_VOICES.items():
        if voice.startswith("Google."):  # Google voices carry their locale in the name
            assert voice.removeprefix("Google.").startswith(SAY_LANGUAGES[language])


def test_an_unknown_language_is_said_plainly() -> None:
    response = VoiceResponse()
    say(response, Speech("Hallo", "de"))
    element = ElementTree.fromstring(str(response))[0]
    assert element.get("language") is None and element.get("voice") is None
