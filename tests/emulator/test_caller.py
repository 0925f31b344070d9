"""Caller scripts: the line format, its errors, synthesis, and frame-by-frame playout."""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np
import pytest
from twilio_emulator.audio import is_voiced
from twilio_emulator.caller import (
    SILENT_FRAME,
    BotState,
    Hangup,
    Press,
    ScriptError,
    ScriptPlayer,
    Silence,
    Speak,
    SpeakAudio,
    WaitForBot,
    parse_script,
    render_script,
)

from voice.codec import encode_ulaw
from voice.tts import EspeakNgSynthesizer

LOUD = encode_ulaw(np.full(160, 8000, dtype=np.int16))
QUIET = BotState(last_media_at=None, idle_since=None)


def write_tone(path: Path, rate: int = 8000, seconds: float = 0.1) -> None:
    samples = (np.sin(np.arange(int(rate * seconds)) * 0.3) * 10000).astype("<i2")
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        wav.writeframes(samples.tobytes())


def test_every_line_kind(tmp_path: Path) -> None:
    write_tone(tmp_path / "hello.wav")
    script = tmp_path / "call.txt"
    text = """
    # a comment, then a blank line

    wait
    say: my internet is down
    say ko: 인터넷이 안 돼요
    say en-GB: cheers, flat #4   # a comment after an action
    audio: hello.wav
    silence 1.5
    press 0#
    wait 10  #
    hangup
    """
    steps = parse_script(text, str(script))
    assert steps[:4] == [
        WaitForBot(30.0),
        Speak("my internet is down", "en"),
        Speak("인터넷이 안 돼요", "ko"),
        Speak("cheers, flat #4", "en-GB"),
    ]
    audio = steps[4]
    assert isinstance(audio, SpeakAudio)
    assert audio.label == "hello.wav" and len(audio.audio) == 800  # 0.1 s at 8 kHz
    assert steps[5:] == [Silence(1.5), Press("0#"), WaitForBot(10.0), Hangup()]


@pytest.mark.parametrize(
    ("line", "fragment"),
    [
        ("shout: hello", "is not one of"),
        ("say:", "needs something to say"),
        ("say ko:   ", "needs something to say"),
        ("silence", "needs a number of seconds"),
        ("silence soon", "needs a number of seconds"),
        ("silence -1", "between 0 and 3600"),
        ("press", "needs keys"),
        ("press 12a", "needs keys"),
        ("wait forever", "needs a number of seconds"),
        ("hangup now", "is not one of"),
        ("audio:", "needs a WAV file"),
        ("audio: missing.wav", "missing.wav"),
    ],
)
def test_errors_name_file_and_line(tmp_path: Path, line: str, fragment: str) -> None:
    path = str(tmp_path / "bad.txt")
    with pytest.raises(ScriptError) as raised:
        parse_script(f"# first\nwait\n{line}\n", path)
    message = str(raised.value)
    assert message.startswith(f"{path}:3: ")
    assert fragment in message


def test_audio_that_is_not_a_wav_names_the_file(tmp_path: Path) -> None:
    (tmp_path / "notes.wav").write_text("not audio")
    with pytest.raises(ScriptError, match=r"s\.txt:1: .*notes\.wav: not a WAV file"):
        parse_script("audio: notes.wav", str(tmp_path / "s.txt"))


def test_render_script_synthesizes_speech_with_espeak() -> None:
    steps = render_script([Speak("안녕하세요", "ko"), Silence(0.5)], EspeakNgSynthesizer())
    speech, silence = steps
    assert isinstance(speech, SpeakAudio) and speech.label == "안녕하세요"
    assert len(speech.audio) > 4000  # more than half a second of 8 kHz μ-law
    assert any(is_voiced(speech.audio[i : i + 160]) for i in range(0, len(speech.audio), 160))
    assert silence == Silence(0.5)


def test_player_refuses_unrendered_speech() -> None:
    with pytest.raises(ValueError, match="render_script"):
        ScriptPlayer([Speak("hi")])


def test_player_frames_audio_silence_digits_and_hangup() -> None:
    audio = LOUD * 2 + b"\xff" * 100  # two voiced frames and a short silent tail
    player = ScriptPlayer(
        [SpeakAudio(audio, "hi"), Silence(0.04), Press("12"), Hangup()], digit_seconds=0.04
    )
    player.start(0.0)
    frames = [player.next_frame(i * 0.02, QUIET) for i in range(10)]
    assert [f.utterance for f in frames[:3]] == [0, 0, 0]
    assert [f.voiced for f in frames[:3]] == [True, True, False]
    assert frames[2].audio == b"\xff" * 160  # the tail padded with silence
    assert player.utterances == ["hi"]
    assert all(len(f.audio) == 160 for f in frames)
    assert frames[3].audio == frames[4].audio == SILENT_FRAME
    assert [f.digits for f in frames[5:9]] == [("1",), (), ("2",), ()]
    assert frames[9].hangup
    assert player.last_action_at == pytest.approx(7 * 0.02)


def test_player_keeps_the_line_open_with_silence_after_the_last_step() -> None:
    player = ScriptPlayer([Silence(0.02)])
    player.start(0.0)
    player.next_frame(0.0, QUIET)
    frame = player.next_frame(0.02, QUIET)
    assert player.finished and frame.audio == SILENT_FRAME and not frame.hangup


def test_wait_ends_once_the_bot_spoke_and_has_been_quiet_for_the_settle_time() -> None:
    player = ScriptPlayer([WaitForBot(10.0), Hangup()], wait_settle=0.3)
    player.start(0.0)
    assert not player.next_frame(0.0, QUIET).hangup  # nothing from the bot yet
    talking = BotState(last_media_at=1.0, idle_since=None)
    assert not player.next_frame(1.5, talking).hangup
    quiet = BotState(last_media_at=1.0, idle_since=2.0)
    assert not player.next_frame(2.2, quiet).hangup  # quiet, but not for 0.3 s yet
    assert player.next_frame(2.32, quiet).hangup


def test_wait_ignores_bot_audio_from_before_the_caller_last_spoke() -> None:
    player = ScriptPlayer([SpeakAudio(LOUD, "x"), WaitForBot(1.0), Hangup()], wait_settle=0.0)
    player.start(0.0)
    player.next_frame(0.0, QUIET)  # speaks at t=0 (after the bot's old audio at -1)
    old = BotState(last_media_at=-1.0, idle_since=-0.5)
    assert not player.next_frame(0.02, old).hangup
    assert not player.next_frame(0.5, old).hangup
    assert player.next_frame(1.02, old).hangup  # max_seconds reached


def test_wait_counts_a_reply_that_came_during_trailing_silence() -> None:
    player = ScriptPlayer(
        [SpeakAudio(LOUD, "x"), Silence(1.0), WaitForBot(5.0), Hangup()], wait_settle=0.1
    )
    player.start(0.0)
    for i in range(51):
        player.next_frame(i * 0.02, QUIET)
    replied = BotState(last_media_at=0.3, idle_since=0.8)
    assert player.next_frame(1.04, replied).hangup
