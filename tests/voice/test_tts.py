"""Real speech: pyttsx3 and espeak-ng, and the prompt cache in front of them."""

from __future__ import annotations

import shutil
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from bot.engine.actions import Say
from bot.flow.model import (
    BusinessHours,
    CallbackPolicy,
    EscalationPolicy,
    Flow,
    Prompt,
)
from voice import tts
from voice.prompt_cache import PromptCache, frames, has_placeholders
from voice.tts import EspeakNgSynthesizer, Pyttsx3Synthesizer, SynthesisFailed

pytestmark = pytest.mark.skipif(
    shutil.which("espeak-ng") is None,
    reason="espeak-ng not found: apt-get install espeak-ng to run the real TTS tests",
)

SENTENCE = "Thank you for calling. How can I help you today?"


@pytest.fixture(scope="module")
def synthesizer() -> Pyttsx3Synthesizer:
    return Pyttsx3Synthesizer()


class CountingSynthesizer:
    """The real synthesizer, counting the calls that reach it."""

    def __init__(self, inner: Pyttsx3Synthesizer) -> None:
        self.inner = inner
        self.calls: list[tuple[str, str]] = []

    @property
    def engine_version(self) -> str:
        return self.inner.engine_version

    def voice_for(self, language: str) -> str:
        return self.inner.voice_for(language)

    def synthesize(self, text: str, language: str) -> bytes:
        self.calls.append((text, language))
        return self.inner.synthesize(text, language)


@pytest.fixture
def counting(synthesizer: Pyttsx3Synthesizer) -> CountingSynthesizer:
    return CountingSynthesizer(synthesizer)


def voiced_share(audio: bytes) -> float:
    """Share of μ-law bytes louder than near-silence (|sample| above about 1 %)."""
    codes = np.frombuffer(audio, dtype=np.uint8)
    return float(np.mean((codes & 0x7F) < 0x60))


# --- synthesis -------------------------------------------------------------------------------


@pytest.mark.parametrize("language", ["en", "cs", "pl", "lv"])
def test_speaks_every_flow_language(synthesizer: Pyttsx3Synthesizer, language: str) -> None:
    audio = synthesizer.synthesize(SENTENCE, language)
    seconds = len(audio) / tts.SAMPLE_RATE
    assert 0.5 <= seconds <= 5.0
    assert voiced_share(audio) > 0.3  # speech, not a file of silence


def test_longer_text_gives_longer_audio(synthesizer: Pyttsx3Synthesizer) -> None:
    short = synthesizer.synthesize("Hello.", "en")
    long = synthesizer.synthesize(SENTENCE + " " + SENTENCE, "en")
    assert 0.2 < len(short) / tts.SAMPLE_RATE < 1.5
    assert len(long) > 3 * len(short)


def test_voice_follows_the_language(synthesizer: Pyttsx3Synthesizer) -> None:
    assert synthesizer.synthesize("ahoj", "cs") != synthesizer.synthesize("ahoj", "en")


def test_unknown_language_fails_instead_of_reading_in_english(
    synthesizer: Pyttsx3Synthesizer,
) -> None:
    with pytest.raises(SynthesisFailed) as failure:
        synthesizer.synthesize(SENTENCE, "xx-nowhere")
    assert failure.value.language == "xx-nowhere"


def test_empty_text_fails(synthesizer: Pyttsx3Synthesizer) -> None:
    with pytest.raises(SynthesisFailed, match="nothing to say"):
        synthesizer.synthesize("   ", "en")


def test_command_line_engine_matches_pyttsx3(synthesizer: Pyttsx3Synthesizer) -> None:
    in_process = synthesizer.synthesize(SENTENCE, "en")
    command = EspeakNgSynthesizer().synthesize(SENTENCE, "en")
    assert abs(len(command) - len(in_process)) < 0.1 * len(in_process)
    assert voiced_share(command) > 0.3


class StuckEngine:
    """Stands in for a pyttsx3 engine whose runAndWait never returns (until released)."""

    def __init__(self) -> None:
        self.release = threading.Event()

    def setProperty(self, name: str, value: object) -> None:
        pass

    def save_to_file(self, text: str, path: str) -> None:
        pass

    def runAndWait(self) -> None:
        self.release.wait(10)


def test_a_wedged_engine_falls_back_to_the_command_line(
    synthesizer: Pyttsx3Synthesizer, monkeypatch: pytest.MonkeyPatch
) -> None:
    stuck = StuckEngine()
    monkeypatch.setattr(tts._Engine, "engine", stuck)
    monkeypatch.setattr(tts._Engine, "wedged", False)
    impatient = Pyttsx3Synthesizer(timeout=0.5)
    started = time.perf_counter()
    try:
        audio = impatient.synthesize(SENTENCE, "en")
        assert tts._Engine.wedged
        assert time.perf_counter() - started < 2.0
        assert voiced_share(audio) > 0.3
        assert impatient.synthesize("Still here.", "en")  # straight to espeak-ng now
    finally:
        stuck.release.set()
        for thread in threading.enumerate():
            if thread.name == "pyttsx3":
                thread.join(5)


class EmptyFileEngine:
    """pyttsx3 as it sometimes behaves: ``runAndWait`` returns, the file has no WAV in it."""

    def __init__(self, content: bytes) -> None:
        self.content = content
        self.path = ""

    def setProperty(self, name: str, value: object) -> None:  # pyttsx3's name
        pass

    def save_to_file(self, text: str, path: str) -> None:
        self.path = path

    def runAndWait(self) -> None:  # pyttsx3's name
        Path(self.path).write_bytes(self.content)


@pytest.mark.parametrize("content", [b"", b"RIFF", b"RIFF\x24\x00\x00\x00WAVEfmt "])
def test_an_engine_that_writes_no_wav_is_retried_on_the_command_line(
    synthesizer: Pyttsx3Synthesizer, monkeypatch: pytest.MonkeyPatch, content: bytes
) -> None:
    monkeypatch.setattr(tts._Engine, "engine", EmptyFileEngine(content))
    monkeypatch.setattr(tts._Engine, "wedged", False)
    audio = synthesizer.synthesize(SENTENCE, "en")
    assert voiced_share(audio) > 0.3


# --- the prompt cache ------------------------------------------------------------------------


def test_second_get_is_served_from_memory(counting: CountingSynthesizer, tmp_path: Path) -> None:
    cache = PromptCache(counting, tmp_path)
    say = Say(SENTENCE, "en", "greeting")
    started = time.perf_counter()
    first = cache.get(say)
    synthesis = time.perf_counter() - started
    started = time.perf_counter()
    second = cache.get(say)
    hit = time.perf_counter() - started
    assert first == second
    assert counting.calls == [(SENTENCE, "en")]
    assert hit < synthesis


def test_a_fresh_cache_reads_the_disk(counting: CountingSynthesizer, tmp_path: Path) -> None:
    say = Say(SENTENCE, "en", "greeting")
    audio = PromptCache(counting, tmp_path).get(say)
    counting.calls.clear()
    again = PromptCache(counting, tmp_path)
    assert say in again
    assert again.get(say) == audio
    assert counting.calls == []
    assert [p.suffix for p in tmp_path.iterdir()] == [".ulaw"]  # no temporary file left over


def test_an_uncacheable_say_is_never_stored(counting: CountingSynthesizer, tmp_path: Path) -> None:
    cache = PromptCache(counting, tmp_path)
    say = Say("Your account number is 1 2 3 4.", "en", "confirm_account", cacheable=False)
    assert cache.get(say)
    assert cache.get(say)
    assert len(counting.calls) == 2
    assert say not in cache
    assert list(tmp_path.iterdir()) == []


def test_the_key_changes_with_text_language_and_engine(
    counting: CountingSynthesizer, tmp_path: Path
) -> None:
    cache = PromptCache(counting, tmp_path)
    key = cache.key("Hello.", "en")
    assert key == PromptCache(counting, tmp_path / "other").key("Hello.", "en")
    assert cache.key("Hello!", "en") != key
    assert cache.key("Hello.", "cs") != key
    slower = PromptCache(Pyttsx3Synthesizer(rate=120), tmp_path)
    assert slower.key("Hello.", "en") != key


def tiny_flow() -> Flow:
    def prompt(pid: str, en: str, cs: str) -> Prompt:
        return Prompt(pid, {"en": en, "cs": cs})

    return Flow(
        version=1,
        name="tiny",
        languages=("en", "cs"),
        default_language="en",
        start="welcome",
        steps={},
        intents={},
        slots={},
        prompts={
            "welcome": prompt("welcome", "Welcome.", "Vítejte."),
            "confirm": prompt(
                "confirm", "Is {account_number} right?", "Je {account_number} správně?"
            ),
        },
        system_prompts={
            "goodbye": prompt("goodbye", "Goodbye.", "Na shledanou."),
            "braces": prompt("braces", "Press {{hash}}.", "Stiskněte {{mřížku}}."),
        },
        global_intents={},
        escalation=EscalationPolicy(),
        business_hours=BusinessHours(),
        callbacks=CallbackPolicy(),
    )


def test_warm_synthesises_every_static_prompt_once(
    counting: CountingSynthesizer, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("INFO", logger="voice.prompt_cache")
    cache = PromptCache(counting, tmp_path)
    assert cache.warm(tiny_flow()) == 6  # 3 static prompts x 2 languages; {slot} skipped
    assert len(counting.calls) == 6
    assert ("Is {account_number} right?", "en") not in counting.calls
    assert "warmed 6/6 prompt audios" in caplog.text
    assert cache.warm(tiny_flow()) == 6  # already there: nothing synthesised again
    assert len(counting.calls) == 6
    counting.calls.clear()
    assert cache.get(Say("Vítejte.", "cs", "welcome"))
    assert counting.calls == []


def test_warm_skips_a_prompt_that_fails_and_goes_on(
    counting: CountingSynthesizer, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    flow = tiny_flow()
    broken = Prompt("broken", {"en": "   ", "cs": "Nic."})
    flow = Flow(**{**flow.__dict__, "prompts": {**flow.prompts, "broken": broken}})
    assert PromptCache(counting, tmp_path).warm(flow) == 7
    assert "cannot synthesise prompt broken [en]" in caplog.text


def test_placeholders() -> None:
    assert has_placeholders("Is {account_number} right?")
    assert not has_placeholders("Press {{hash}}.")
    assert not has_placeholders("Plain.")


def test_frames_are_20_ms_and_the_last_is_padded_with_silence() -> None:
    audio = bytes(range(256)) * 2  # 512 bytes: three full frames and 32 bytes
    chunks = frames(audio)
    assert [len(chunk) for chunk in chunks] == [160, 160, 160, 160]
    assert b"".join(chunks)[:512] == audio
    assert chunks[-1][32:] == b"\xff" * 128
    assert [len(chunk) for chunk in frames(audio, ms=10)] == [80] * 7
    assert frames(b"") == []
