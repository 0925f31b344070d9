"""Where Twilio's public URLs are really delivered, and the result's JSON form."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from twilio_emulator.result import CallResult, MarkRecord, SentMessage
from twilio_emulator.webhooks import Webhooks


@pytest.fixture
def hooks() -> Iterator[Webhooks]:
    with_prefix = Webhooks("http://127.0.0.1:8123", "https://ivr.example.test/phone/", "token")
    yield with_prefix
    with_prefix.close()


def test_public_urls_map_to_the_server(hooks: Webhooks) -> None:
    assert hooks.public("/twilio/voice") == "https://ivr.example.test/phone/twilio/voice"
    assert hooks.to_server("https://ivr.example.test/phone/twilio/voice?x=1") == (
        "http://127.0.0.1:8123/twilio/voice?x=1"
    )
    assert hooks.to_server("wss://ivr.example.test/phone/twilio/media") == (
        "ws://127.0.0.1:8123/twilio/media"
    )


@pytest.mark.parametrize(
    "url",
    [
        "https://elsewhere.example/phone/twilio/voice",  # another host
        "https://ivr.example.test/other/voice",  # outside the public prefix
        "http://ivr.example.test/phone/twilio/voice",  # plain http is not what the proxy serves
    ],
)
def test_other_urls_are_requested_as_they_are(hooks: Webhooks, url: str) -> None:
    assert hooks.to_server(url) == url


def test_to_dict_is_relative_to_the_call_start_and_summarises_media() -> None:
    result = CallResult("CA1", "AC1", started_at=100.0, ended_at=103.5, status="completed")
    result.sent = [
        SentMessage(100.5, "start", 1),
        SentMessage(100.52, "media", 2, "1"),
        SentMessage(100.54, "media", 3, "2"),
    ]
    result.marks = [MarkRecord("greeting", 101.0, echoed_at=101.25)]
    result.audio = b"\xff" * 800
    data = result.to_dict()
    assert data["started_at"] == 0.0 and data["ended_at"] == 3.5 and data["duration"] == 3.5
    assert data["sent"] == [{"at": 0.5, "event": "start", "sequence_number": 1, "detail": ""}]
    assert data["media_sent"] == 2
    assert data["marks"] == [
        {"name": "greeting", "received_at": 1.0, "echoed_at": 1.25, "cleared": False}
    ]
    assert data["audio_seconds"] == 0.1 and "audio" not in data
    assert data["ok"] is True
