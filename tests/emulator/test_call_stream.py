"""Calls with a Media Stream against a real Flask + flask-sock server, in real time."""

from __future__ import annotations

import base64
import json
import time
import wave
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from twilio_emulator import (
    AgentBehaviour,
    CallResult,
    Hangup,
    Press,
    Silence,
    SpeakAudio,
    TwilioEmulator,
    WaitForBot,
)
from twilio_emulator.audio import is_voiced
from twilio_emulator.caller import Step

from tests.emulator.conftest import PUBLIC, TOKEN, StreamLog, TestServer, twiml
from voice.codec import encode_ulaw

# 1 s of a loud square wave: no sample encodes to 0xFF, so silence in the heard audio is exact.
TONE = encode_ulaw(np.where(np.sin(np.arange(8000) * 0.2) >= 0, 12000, -12000).astype(np.int16))
CONNECT = (
    '<Connect action="/twilio/after-stream">'
    '<Stream url="wss://ivr.example.test/twilio/media" statusCallback="/twilio/stream-status">'
    '<Parameter name="token" value="t-123"/><Parameter name="lang" value="ko"/>'
    "</Stream></Connect>"
)


def emulator(server: TestServer, token: str = TOKEN) -> TwilioEmulator:
    return TwilioEmulator(server.url, PUBLIC, token, say_words_per_second=0, wait_settle=0.1)


def send(ws: Any, sid: str, event: str, **body: Any) -> None:
    ws.send(json.dumps({"event": event, "streamSid": sid, **body}))


def send_audio(ws: Any, sid: str, audio: bytes) -> None:
    send(ws, sid, "media", media={"payload": base64.b64encode(audio).decode()})


def payload(message: dict[str, Any]) -> bytes:
    return base64.b64decode(message["media"]["payload"])


def echo_frame(result: CallResult, mark: str) -> int:
    """When the emulator echoed ``mark``, on the stream's clock: media frames sent before it."""
    frames = 0
    for message in result.sent:
        if message.event == "mark" and message.detail == mark:
            return frames
        frames += message.event == "media"
    raise AssertionError(f"mark {mark!r} was never echoed")


def media_before(messages: list[dict[str, Any]], mark: str) -> int:
    """How many ``media`` messages the server read before the ``mark`` named ``mark``."""
    count = 0
    for message in messages:
        if message["event"] == "mark" and message["mark"]["name"] == mark:
            return count
        count += message["event"] == "media"
    raise AssertionError(f"no mark {mark!r}")


def opening(ws: Any, log: StreamLog) -> str:
    assert log.receive(ws)["event"] == "connected"  # type: ignore[index]
    start = log.receive(ws)
    assert start is not None and start["event"] == "start"
    return str(start["streamSid"])


def conversation(ws: Any, log: StreamLog) -> None:
    """Greets (0.4 s + mark), answers a key press (0.2 s + mark), then hangs up the stream."""
    sid = opening(ws, log)
    send_audio(ws, sid, TONE[:3200])
    send(ws, sid, "mark", mark={"name": "greeting"})
    log.wait_for(ws, lambda m: m["event"] == "mark")
    digit = log.wait_for(ws, lambda m: m["event"] == "dtmf")["dtmf"]["digit"]
    send_audio(ws, sid, TONE[:1600])
    send(ws, sid, "mark", mark={"name": f"dtmf-{digit}"})
    log.wait_for(ws, lambda m: m["event"] == "mark")


def test_a_whole_call_stream_then_dial_with_whisper(server: TestServer, tmp_path: Path) -> None:
    server.routes["/twilio/voice"] = twiml(CONNECT)
    server.routes["/twilio/after-stream"] = twiml(
        '<Dial action="/twilio/dial-done"><Number url="/twilio/whisper">+447700900999</Number>'
        "</Dial>"
    )
    server.routes["/twilio/whisper"] = twiml("<Say>Caller pressed five</Say>")
    server.routes["/twilio/dial-done"] = twiml("<Say>Goodbye</Say><Hangup/>")
    server.routes["/twilio/stream-status"] = twiml("")
    server.routes["/twilio/status"] = twiml("")
    server.stream_handler = conversation
    script: list[Step] = [WaitForBot(5), Press("5"), WaitForBot(5), Silence(10)]
    result = emulator(server).call(script, agent=AgentBehaviour("answered", talk_seconds=0.1))

    assert result.ok, result.errors
    assert result.warnings == []
    # Every request and the handshake validated with twilio-python's RequestValidator.
    assert [h.path for h in server.hits if h.path != "/twilio/stream-status"] == [
        "/twilio/voice",
        "/twilio/media",
        "/twilio/after-stream",
        "/twilio/whisper",
        "/twilio/dial-done",
        "/twilio/status",
    ]
    assert all(hit.valid for hit in server.hits)

    # Messages in the documented order and shapes.
    (log,) = server.streams
    messages = [m for _, m in log.messages]
    assert messages[0] == {"event": "connected", "protocol": "Call", "version": "1.0.0"}
    start = messages[1]
    assert start["start"]["callSid"] == result.call_sid
    assert start["start"]["accountSid"] == result.account_sid
    assert start["start"]["customParameters"] == {"token": "t-123", "lang": "ko"}
    assert start["start"]["tracks"] == ["inbound"]
    assert start["start"]["mediaFormat"] == {
        "encoding": "audio/x-mulaw",
        "sampleRate": 8000,
        "channels": 1,
    }
    assert start["streamSid"] == start["start"]["streamSid"] == result.stream_sid
    assert result.stream_sid is not None and len(result.stream_sid) == 34
    assert [int(m["sequenceNumber"]) for m in messages[1:]] == list(range(1, len(messages)))
    assert all(isinstance(m["sequenceNumber"], str) for m in messages[1:])
    assert {m["event"] for m in messages[2:]} == {"media", "mark", "dtmf"}
    media = [m for m in messages if m["event"] == "media"]
    assert [int(m["media"]["chunk"]) for m in media] == list(range(1, len(media) + 1))
    assert [m["media"]["timestamp"] for m in media] == [str(20 * i) for i in range(len(media))]
    assert all(m["media"]["track"] == "inbound" and len(payload(m)) == 160 for m in media)
    assert all(m["streamSid"] == result.stream_sid for m in messages[1:])
    (dtmf,) = [m for m in messages if m["event"] == "dtmf"]
    assert dtmf["dtmf"] == {"track": "inbound_track", "digit": "5"}
    assert [m["mark"]["name"] for m in messages if m["event"] == "mark"] == ["greeting", "dtmf-5"]

    # Real time: one frame per 20 ms of wall clock, without drift.
    arrivals = [at for at, m in log.messages if m["event"] == "media"]
    assert arrivals[-1] - arrivals[0] == pytest.approx(0.02 * (len(arrivals) - 1), abs=0.15)

    # The mark came back once its 0.4 s of audio had played, not before: counted on the stream's
    # own clock, 20 frames of 20 ms after the frame the audio arrived in (21 if it came late in
    # it), however late a busy machine ran the threads; and the server read it in that place.
    greeting_audio = next(m for m in result.received if m.event == "media")
    assert echo_frame(result, "greeting") - greeting_audio.frame in (20, 21)
    assert media_before(messages, "greeting") == echo_frame(result, "greeting")
    greeting = result.marks[0]
    assert greeting.echoed_at is not None and not greeting.cleared

    # The DTMF reply and its latency.
    (press,) = result.dtmf
    assert press.digit == "5" and press.reply_latency_ms is not None
    assert 0 < press.reply_latency_ms < 500

    # After the server closed: the Connect action, the Dial, the whisper, the Dial action.
    assert result.streams[0].ended_by == "server"
    (attempt,) = result.dials
    assert attempt.outcome == "completed" and attempt.whisper == ["Caller pressed five"]
    (done,) = server.hits_to("/twilio/dial-done")
    assert done.form["DialCallStatus"] == "completed" and done.form["DialBridged"] == "true"
    assert result.heard_says == ["Goodbye"]
    stream_events = sorted(h.form["StreamEvent"] for h in server.hits_to("/twilio/stream-status"))
    assert stream_events == ["stream-started", "stream-stopped"]
    (status,) = server.hits_to("/twilio/status")
    assert status.form["CallStatus"] == "completed"

    # The caller's ears: 0.4 s + 0.2 s of tone, at their wall-clock places.
    heard = np.frombuffer(result.audio, np.uint8)
    assert len(heard) == pytest.approx(result.duration * 8000, abs=2)
    assert np.count_nonzero(heard != 0xFF) == 4800
    result.write_wav(tmp_path / "heard.wav")
    with wave.open(str(tmp_path / "heard.wav"), "rb") as wav:
        assert wav.getnframes() == len(heard)


def barge_in(ws: Any, log: StreamLog) -> None:
    """A 2 s prompt; on the caller's first voiced frame: clear; then a reply after silence."""
    sid = opening(ws, log)
    send_audio(ws, sid, TONE + TONE)
    send(ws, sid, "mark", mark={"name": "prompt"})
    log.wait_for(ws, lambda m: m["event"] == "media" and is_voiced(payload(m)))
    send(ws, sid, "clear")
    log.wait_for(ws, lambda m: m["event"] == "mark")
    quiet = 0
    while quiet < 10:  # 200 ms of silence ends the caller's turn
        message = log.wait_for(ws, lambda m: m["event"] == "media")
        quiet = 0 if is_voiced(payload(message)) else quiet + 1
    send_audio(ws, sid, TONE[:1600])
    send(ws, sid, "mark", mark={"name": "reply"})
    log.wait_for(ws, lambda m: m["event"] == "mark")
    log.notes["stop"] = log.wait_for(ws, lambda m: m["event"] == "stop")


def test_barge_in_clear_echoes_outstanding_marks_and_timings_are_measured(
    server: TestServer,
) -> None:
    server.routes["/twilio/voice"] = twiml(CONNECT)
    server.routes["/twilio/stream-status"] = twiml("")
    server.routes["/twilio/status"] = twiml("")
    server.stream_handler = barge_in
    speech = TONE[:3200] + b"\xff" * 800  # 0.4 s of voice, 0.1 s of trailing silence
    script: list[Step] = [Silence(0.3), SpeakAudio(speech, "stop talking"), WaitForBot(5), Hangup()]
    result = emulator(server).call(script)

    assert result.ok, result.errors
    (log,) = server.streams
    (clear,) = result.clears
    # The clear was answered at once: the prompt's mark went back before any caller frame due
    # after the frame the clear came in (chunk n is due in frame n - 1), and the server read it
    # after exactly the frames sent before it.
    assert 16 <= echo_frame(result, "prompt") <= clear.frame + 1
    assert media_before([m for _, m in log.messages], "prompt") == echo_frame(result, "prompt")
    stop = log.notes["stop"]
    assert stop == {
        "event": "stop",
        "sequenceNumber": stop["sequenceNumber"],
        "stop": {"accountSid": result.account_sid, "callSid": result.call_sid},
        "streamSid": result.stream_sid,
    }
    assert int(stop["sequenceNumber"]) == len(log.messages) - 1  # the last one
    assert result.streams[0].ended_by == "hangup"
    assert server.hits_to("/twilio/after-stream") == []  # the caller hung up: no action

    assert clear.marks_echoed == ["prompt"]
    # The 2 s prompt (100 frames) was cut by the clear, on the stream's clock: the clear came
    # after the caller's first voiced frame (chunk 16, due in frame 15), and it discarded what
    # was left of the 100 frames after those gone by since the prompt arrived (within a frame:
    # the audio plays by the byte, the clock counts whole frames).
    prompt_audio, reply_audio = [m for m in result.received if m.event == "media"]
    assert clear.frame >= 15
    played_frames = clear.frame - prompt_audio.frame
    assert clear.discarded_ms / 20 == pytest.approx(100 - played_frames, abs=1.01)
    prompt, reply = result.marks
    assert prompt.cleared and prompt.echoed_at == clear.at
    assert not reply.cleared and reply.echoed_at is not None
    assert echo_frame(result, "reply") - reply_audio.frame in (10, 11)  # 0.2 s: 10 frames

    (utterance,) = result.utterances
    assert utterance.label == "stop talking" and utterance.during_bot_audio
    assert utterance.voiced_started_at is not None and utterance.last_voiced_at is not None
    assert utterance.voiced_started_at == utterance.speech_started_at
    assert utterance.ended_at is not None
    # Its timings name the frames that carried it: 15 silent frames, 20 voiced, 5 silent.
    chunk = {m.at: int(m.detail) for m in result.sent if m.event == "media"}
    assert chunk[utterance.speech_started_at] == 16
    assert chunk[utterance.last_voiced_at] - chunk[utterance.voiced_started_at] == 19
    assert chunk[utterance.ended_at] - chunk[utterance.last_voiced_at] == 5
    assert utterance.clear_at == clear.at
    assert utterance.barge_in_ms is not None and utterance.barge_in_ms > 0
    assert utterance.barge_in_ms == pytest.approx((clear.at - utterance.voiced_started_at) * 1000)
    assert utterance.first_reply_media_at == reply_audio.at  # the reply, not the cut prompt
    assert utterance.reply_latency_ms == pytest.approx(
        (reply_audio.at - utterance.last_voiced_at) * 1000
    )
    # The server waited for 200 ms of silence: 10 quiet frames after the last voiced one, so
    # the reply came no sooner than the frame in which the 10th was due.
    assert reply_audio.frame >= chunk[utterance.last_voiced_at] + 9

    heard = np.frombuffer(result.audio, np.uint8)
    played_prompt = 16000 - round(clear.discarded_ms * 8)
    assert np.count_nonzero(heard != 0xFF) == pytest.approx(played_prompt + 1600, abs=2)


def test_a_mark_with_nothing_buffered_is_echoed_at_once(server: TestServer) -> None:
    def idle_mark(ws: Any, log: StreamLog) -> None:
        sid = opening(ws, log)
        sent = time.monotonic()
        send(ws, sid, "mark", mark={"name": "idle"})
        log.wait_for(ws, lambda m: m["event"] == "mark")
        log.notes["echo_after"] = time.monotonic() - sent

    server.routes["/twilio/voice"] = twiml(
        '<Connect><Stream url="wss://ivr.example.test/twilio/media"/></Connect><Say>next verb</Say>'
    )
    server.stream_handler = idle_mark
    result = emulator(server).call(status_callback_path=None)
    assert result.ok, result.errors
    assert server.streams[0].notes["echo_after"] < 0.1
    assert result.heard_says == ["next verb"]  # no action: Twilio runs the next verb


def test_handshake_with_a_wrong_token_is_31920_and_the_call_goes_on() -> None:
    with TestServer(verify_webhooks=False) as server:
        server.routes["/twilio/voice"] = twiml(CONNECT)
        server.routes["/twilio/after-stream"] = twiml("<Say>fallback</Say>")
        server.routes["/twilio/stream-status"] = twiml("")
        result = emulator(server, token="not-the-token").call(status_callback_path=None)
        (handshake,) = server.hits_to("/twilio/media")
        stream_status = server.hits_to("/twilio/stream-status")
    assert not handshake.valid and server.streams == []
    assert [(e.kind, e.code) for e in result.errors] == [("stream", 31920)]
    assert "HTTP 403" in result.errors[0].message
    assert result.streams[0].ended_by == "handshake-failed"
    assert result.heard_says == ["fallback"]
    (status,) = stream_status
    assert status.form["StreamEvent"] == "stream-error" and "403" in status.form["StreamError"]


def test_malformed_server_messages_are_recorded_and_ignored(server: TestServer) -> None:
    def sloppy(ws: Any, log: StreamLog) -> None:
        sid = opening(ws, log)
        ws.send("not json")
        ws.send(json.dumps({"event": "mark", "mark": {"name": "no sid"}}))
        ws.send(b"\x00binary")
        send(
            ws,
            sid,
            "media",
            media={"payload": base64.b64encode(b"\x00" * 160).decode(), "track": "outbound"},
        )
        send(ws, sid, "mark", mark={"name": "ok"})
        log.wait_for(ws, lambda m: m["event"] == "mark")

    server.routes["/twilio/voice"] = twiml(CONNECT.replace(' action="/twilio/after-stream"', ""))
    server.routes["/twilio/stream-status"] = twiml("")
    server.stream_handler = sloppy
    result = emulator(server).call(status_callback_path=None)
    assert [(e.kind, e.code) for e in result.errors] == [("stream", None)] * 3
    assert "not JSON" in result.errors[0].message
    assert "streamSid None" in result.errors[1].message
    assert "binary" in result.errors[2].message
    assert [m.name for m in result.marks] == ["ok"]
    assert result.warnings == ["media carries a 'track' field; Twilio's docs say not to send one"]


def test_max_seconds_stops_the_stream(server: TestServer) -> None:
    def listen(ws: Any, log: StreamLog) -> None:
        opening(ws, log)
        log.notes["stop"] = log.wait_for(ws, lambda m: m["event"] == "stop", timeout=5)

    server.routes["/twilio/voice"] = twiml(CONNECT)
    server.routes["/twilio/stream-status"] = twiml("")
    server.stream_handler = listen
    result = emulator(server).call(status_callback_path=None, max_seconds=0.6)
    assert result.ok and result.streams[0].ended_by == "max-seconds"
    assert server.streams[0].notes["stop"]["event"] == "stop"
    assert server.hits_to("/twilio/after-stream") == []
    assert 0.55 < result.duration < 1.5
