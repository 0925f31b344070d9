"""A turn's words so far are worked out only for a call someone watches.

Vosk's partial result costs about a tenth of the decoding; only the browser phone's page shows
it ("Hearing: ..."; ``tests/browser_phone/test_browser_phone.py`` checks a watched call gets
them). A call nobody watches, which is nearly every call on a line, never asks for them.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from twilio_emulator import Hangup, SpeakAudio, WaitForBot

from ivr.nlu.service import free_port
from tests.e2e.test_phone_failures import call
from tests.fixtures.live_server import LiveServer
from tests.fixtures.scripted_asr import ScriptedRecognizerPool

pytestmark = pytest.mark.slow
WORDS = "hello i'm calling about my account"


def test_a_call_nobody_watches_never_asks_for_the_words_so_far_and_hears_the_turn(
    live_server: Callable[..., LiveServer], speech_ulaw: dict[str, bytes]
) -> None:
    words = ScriptedRecognizerPool([WORDS])
    server = live_server(NLU_URL=f"http://127.0.0.1:{free_port()}", recognizers=words)
    words_said = SpeakAudio(speech_ulaw["greeting"], "words")
    result = call(server, WaitForBot(15), words_said, WaitForBot(15), Hangup())
    assert result.ok, result.errors
    assert words.heard == [WORDS]  # the turn's words reached the bot all the same
    assert words.partials_asked, "the recogniser was fed the caller's speech"
    assert not any(words.partials_asked)
