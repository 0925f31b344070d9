"""The TwiML documents we answer Twilio with, rendered from our own routes and plans.

Every document ends the call deliberately (``<Hangup/>``) or hands control to one of our
routes (``<Connect action>``, ``<Dial action>``), so a caller never falls off the end of a
document into silence. URLs come in already built (:mod:`ivr.twilio.urls`).
"""

from __future__ import annotations

from collections.abc import Mapping

from twilio.twiml.messaging_response import MessagingResponse
from twilio.twiml.voice_response import (
    Connect,
    Dial,
    VoiceResponse,
)

from ivr.call.switchboard import Goodbye, ToPerson
from ivr.callbacks.placed import LegPlan
from ivr.speech import Speech

#: Twilio ``<Say language>`` per flow language (Twilio wants a region).
SAY_LANGUAGES: Mapping[str, str] = {
    "en": "en-GB",
    "cs": "cs-CZ",
    "pl": "pl-PL",
    "lv": "lv-LV",
    "ko": "ko-KR",
}


#: A voice that speaks each language: Twilio's default voice speaks neither Czech nor Latvian,
#: and a voice that does not speak the language makes ``<Say>`` fail.
SAY_VOICES: Mapping[str, str] = {
    "en": "Polly.Amy",
    "cs": "Google.cs-CZ-Standard-A",
    "pl": "Polly.Ewa",
    "lv": "Google.lv-LV-Standard-A",
    "ko": "Polly.Seoyeon",
}


def say(response: VoiceResponse, speech: Speech) -> None:
    """Add ``<Say>`` in the speech's language: Twilio's regional code and a voice speaking it."""
    code = SAY_LANGUAGES.get(speech.language)
    if code:
        response.say(speech.text, language=code, voice=SAY_VOICES[speech.language])
    else:
        response.say(speech.text)


def stream(stream_url: str, action_url: str, parameters: Mapping[str, str]) -> str:
    """Answer a call: open a bidirectional stream, then ask ``action_url`` when it closes."""
    response = VoiceResponse()
    connect = Connect(action=action_url, method="POST")
    media = connect.stream(url=stream_url)
    for name, value in parameters.items():
        media.parameter(name=name, value=value[:200])
    response.append(connect)
    return str(response)


def to_person(route: ToPerson, dial_action_url: str, whisper_url: str) -> str:
    """Say the apology if any, then ring the person, who hears ``whisper_url`` first."""
    response = VoiceResponse()
    if route.apology:
        say(response, route.apology)
    dial = Dial(action=dial_action_url, method="POST", timeout=route.timeout)
    ring(dial, route.address, whisper_url)
    response.append(dial)
    return str(response)


def goodbye(route: Goodbye) -> str:
    """Say each sentence, then end the call."""
    response = VoiceResponse()
    for speech in route.say:
        say(response, speech)
    response.hangup()
    return str(response)


def leg(plan: LegPlan, dial_action_url: str, answered_url: str) -> str:
    """A placed callback's leg: what it hears, then whom it rings (``answered_url`` on answer)."""
    response = VoiceResponse()
    for speech in plan.say:
        say(response, speech)
    if plan.ring_to is not None:
        dial = Dial(
            action=dial_action_url,
            method="POST",
            timeout=plan.timeout,
            caller_id=plan.caller_id or None,
        )
        ring(dial, plan.ring_to, answered_url)
        response.append(dial)
    if plan.hang_up:
        response.hangup()
    return str(response)


def ring(dial: Dial, address: str, answered_url: str) -> None:
    """Add ``address`` to ``dial`` as the noun it is (number, SIP or Client).

    ``answered_url`` is requested when they answer, before the bridge (the whisper).
    """
    if address.startswith("sip:"):
        dial.sip(address, url=answered_url, method="POST")
    elif address.startswith("client:"):
        dial.client(address.removeprefix("client:"), url=answered_url, method="POST")
    else:
        dial.number(address, url=answered_url, method="POST")


def speak(speech: Speech) -> str:
    """Just say ``speech`` (a whisper: then Twilio bridges the call)."""
    response = VoiceResponse()
    say(response, speech)
    return str(response)


def message(text: str) -> str:
    """Answer a text message with ``text``."""
    response = MessagingResponse()
    response.message(text)
    return str(response)
