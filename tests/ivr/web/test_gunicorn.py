"""The Procfile's ``web`` entry as production runs it: gunicorn with threads, on a port."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import httpx
from twilio.request_validator import RequestValidator

from ivr.config import ROOT
from ivr.nlu.service import free_port
from tests.fixtures.live_server import web_command
from voice import asr


def test_the_procfile_web_entry_serves_signed_calls(tmp_path: Path) -> None:
    port = free_port()
    command = web_command(port)
    assert command[0] == "gunicorn"
    env = {
        **os.environ,
        "IVR_MODE": "production",
        "IVR_PUBLIC_URL": "https://ivr.example.test",
        "TWILIO_AUTH_TOKEN": "gunicorn-test-token",
        "IVR_NLU_URL": f"http://127.0.0.1:{free_port()}",
        "DATABASE_URL": f"sqlite:///{tmp_path}/calls.db",
        # The Korean model declared as the English line's, knowingly: this test is about signed
        # calls reaching the bot, not about what is heard (no English model can be had here).
        "IVR_VOSK_MODEL": str(asr.resolve_model_path(None, lang="ko")),
        "PATH": f"{ROOT / '.venv' / 'bin'}{os.pathsep}{os.environ['PATH']}",
    }
    server = subprocess.Popen(
        command, env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                health = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2)
                break
            except httpx.TransportError:
                assert server.poll() is None, server.stdout.read().decode()  # type: ignore[union-attr]
                time.sleep(0.3)
        else:
            raise AssertionError("gunicorn did not answer within 60 s")
        assert health.status_code == 503 and health.json()["nlu"] == "not ready"
        params = {"CallSid": "CA" + "1" * 32, "From": "+447700900123", "To": "+442079460000"}
        url = "https://ivr.example.test/twilio/voice"
        signature = RequestValidator("gunicorn-test-token").compute_signature(url, params)
        answer = httpx.post(
            f"http://127.0.0.1:{port}/twilio/voice",
            data=params,
            headers={"X-Twilio-Signature": signature},
        )
        assert answer.status_code == 200 and "<Stream" in answer.text
        unsigned = httpx.post(f"http://127.0.0.1:{port}/twilio/voice", data=params)
        assert unsigned.status_code == 403
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(30)
        assert server.stdout is not None
        server.stdout.close()
