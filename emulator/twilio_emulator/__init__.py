"""A stand-in for Twilio's side of a phone call, built from the protocol (docs/emulator.md).

from twilio_emulator import AgentBehaviour, TwilioEmulator, parse_script

emulator = TwilioEmulator("http://127.0.0.1:8000", "https://ivr.example.test", token)
result = emulator.call(parse_script(open("call.txt").read(), "call.txt"))
result.write_wav("heard.wav")

with TwilioRestEmulator(server_url="http://127.0.0.1:8000", public_url=...) as rest:
    ...  # the official twilio client, pointed at rest.url, places calls and sends texts
"""

from __future__ import annotations

from twilio_emulator.agent import AgentBehaviour
from twilio_emulator.call import TwilioEmulator
from twilio_emulator.caller import (
    Hangup,
    Press,
    ScriptError,
    Silence,
    Speak,
    SpeakAudio,
    WaitForBot,
    parse_script,
)
from twilio_emulator.rest import RestRequest, TwilioRestEmulator
from twilio_emulator.rest_resources import CallRecord, MessageRecord
from twilio_emulator.result import CallResult

__all__ = [
    "AgentBehaviour",
    "CallRecord",
    "CallResult",
    "Hangup",
    "MessageRecord",
    "Press",
    "RestRequest",
    "ScriptError",
    "Silence",
    "Speak",
    "SpeakAudio",
    "TwilioEmulator",
    "TwilioRestEmulator",
    "WaitForBot",
    "parse_script",
]
