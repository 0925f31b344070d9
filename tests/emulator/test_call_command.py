"""``ivr call`` as a user runs it: a real subprocess against a real server."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import time
import wave
from pathlib import Path
from typing import Any

import numpy as np
from twilio_emulator.agent import ANSWERS as EMULATOR_ANSWERS
from twilio_emulator.audio import is_voiced

from ivr.commands.call import ANSWERS, EMULATOR_MISSING
from tests.emulator.conftest import PUBLIC, TOKEN, StreamLog, TestServer, twiml
from voice.codec import encode_ulaw

BEEP = encode_ulaw(np.where(np.sin(np.arange(2400) * 0.2) >= 0, 9000, -9000).astype(np.int16))


def greeter(ws: Any, log: StreamLog) -> None:
    """Greets, waits for the caller to speak and stop, replies, waits for the hang-up."""
    log.receive(ws)
    sid = str(log.receive(ws)["streamSid"])  # type: ignore[index]

    def say(name: str) -> None:
        audio = base64.b64encode(BEEP).decode()
        ws.send(json.dumps({"event": "media", "streamSid": sid, "media": {"payload": audio}}))
        ws.send(json.dumps({"event": "mark", "streamSid": sid, "mark": {"name": name}}))

    say("greeting")
    log.wait_for(ws, lambda m: m["event"] == "media" and is_voiced(_payload(m)))
    quiet = 0
    while quiet < 10:
        message = log.wait_for(ws, lambda m: m["event"] == "media")
        quiet = 0 if is_voiced(_payload(message)) else quiet + 1
    say("reply")
    log.wait_for(ws, lambda m: m["event"] == "stop")


def _payload(message: dict[str, Any]) -> bytes:
    return base64.b64decode(message["media"]["payload"])


def ivr_call(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if k not in ("TWILIO_AUTH_TOKEN",)}
    return subprocess.run(
        [sys.executable, "-m", "ivr", "call", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**environ, **(env or {})},
        check=False,
    )


def serve_conversation(server: TestServer) -> None:
    server.routes["/twilio/voice"] = twiml(
        '<Say>Welcome</Say><Connect><Stream url="wss://ivr.example.test/twilio/media"/></Connect>'
    )
    server.routes["/twilio/status"] = twiml("")
    server.stream_handler = greeter


def test_script_runs_end_to_end_and_prints_a_timeline(server: TestServer, tmp_path: Path) -> None:
    serve_conversation(server)
    script = tmp_path / "call.txt"
    script.write_text("# greeting first\nwait 5\nsay: I need help with my bill\nwait 5\nhangup\n")
    heard = tmp_path / "heard.wav"
    started = time.monotonic()
    done = ivr_call(
        "--script", str(script), "--url", server.url, "--public-url", PUBLIC,
        "--auth-token", TOKEN, "--save-audio", str(heard),
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert time.monotonic() - started < 20
    out = done.stdout
    for expected in (
        "voice: POST https://ivr.example.test/twilio/voice -> 200",
        'bot     said "Welcome"',
        "audio 0.30 s, mark greeting",
        "mark greeting echoed (played)",
        'caller  said "I need help with my bill"',
        "ms after the caller stopped",
        "mark reply echoed (played)",
        "stream ended (hangup)",
        "call completed after",
    ):
        assert expected in out, out
    assert all(hit.valid for hit in server.hits)
    with wave.open(str(heard), "rb") as wav:
        assert wav.getframerate() == 8000 and wav.getnframes() > 4800


def test_json_output(server: TestServer, tmp_path: Path) -> None:
    serve_conversation(server)
    tone = tmp_path / "caller.wav"
    with wave.open(str(tone), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(16000)
        wav.writeframes((np.sin(np.arange(8000) * 0.1) * 8000).astype("<i2").tobytes())
    done = ivr_call(
        "--audio", str(tone), "--url", server.url, "--public-url", PUBLIC, "--json",
        env={"TWILIO_AUTH_TOKEN": TOKEN},
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    result = json.loads(done.stdout)
    assert result["ok"] and result["status"] == "completed"
    assert result["call_sid"].startswith("CA") and result["stream_sid"].startswith("MZ")
    (utterance,) = result["utterances"]
    assert utterance["label"] == "caller.wav"
    assert 0 < utterance["speech_started_at"] < utterance["last_voiced_at"]
    assert [m["name"] for m in result["marks"]] == ["greeting", "reply"]
    assert result["streams"][0]["ended_by"] == "hangup"


def test_a_refused_call_exits_1(server: TestServer, tmp_path: Path) -> None:
    serve_conversation(server)
    script = tmp_path / "call.txt"
    script.write_text("hangup\n")
    done = ivr_call(
        "--script", str(script), "--url", server.url, "--public-url", PUBLIC,
        "--auth-token", "wrong-token", "--say-pace", "0",
    )  # fmt: skip
    assert done.returncode == 1
    assert "11200 POST https://ivr.example.test/twilio/voice answered HTTP 403" in done.stdout


def test_usage_errors(tmp_path: Path) -> None:
    script = tmp_path / "bad.txt"
    script.write_text("wait\nshout: hi\n")
    done = ivr_call("--script", str(script), "--auth-token", "x")
    assert done.returncode == 1
    assert f"{script}:2: 'shout: hi' is not one of" in done.stderr
    done = ivr_call("--script", str(script), env={"IVR_MODE": "production"})
    assert done.returncode == 1 and "TWILIO_AUTH_TOKEN" in done.stderr  # no development token
    done = ivr_call("--auth-token", "x")
    assert done.returncode == 2 and "exactly one of --script or --audio" in done.stderr


def test_agent_choices_are_the_emulators() -> None:
    assert ANSWERS == EMULATOR_ANSWERS  # ivr call lists them without importing the emulator


def test_without_the_emulator_ivr_call_says_how_to_install_it(tmp_path: Path) -> None:
    script = tmp_path / "call.txt"
    script.write_text("hangup\n")
    # As on an install of the product's wheel alone: the package cannot be imported.
    no_emulator = (
        "import sys; sys.modules['twilio_emulator'] = None; from ivr.cli import main; main()"
    )

    def ivr(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-c", no_emulator, *args],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    shown = ivr("call", "--help")  # the CLI itself does not need it
    assert shown.returncode == 0 and "--script" in shown.stdout, shown.stderr
    done = ivr("call", "--script", str(script), "--auth-token", "x")
    assert done.returncode == 1 and done.stdout == ""
    assert done.stderr.splitlines() == [EMULATOR_MISSING]
    assert "development tool" in done.stderr and "pip install -e emulator/" in done.stderr
