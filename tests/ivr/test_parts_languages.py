"""What the parts hear and speak per language: models never borrowed, voices checked at start."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from bot.flow import load_flow
from ivr.config import ROOT, ConfigurationError, load_config, model_settings
from ivr.parts import call_settings, check_voices, hearing
from voice.tts import Pyttsx3Synthesizer

DEMO = load_flow(ROOT / "flows")


def config(**overrides: str) -> dict[str, object]:
    return load_config({"VOSK_MODEL": "", "VOSK_MODELS": "", **overrides})


def test_the_installed_korean_model_hears_none_of_the_demo_languages(tmp_path: Path) -> None:
    heard = hearing(config(CACHE_DIR=str(tmp_path)), DEMO)
    assert heard.heard == () and heard.deaf == ("cs", "en", "lv", "pl")


def test_a_model_named_for_a_language_hears_that_language_only(
    tmp_path: Path, model_path: Path
) -> None:
    heard = hearing(config(CACHE_DIR=str(tmp_path), VOSK_MODELS=f"cs={model_path}"), DEMO)
    assert heard.heard == ("cs",) and heard.deaf == ("en", "lv", "pl")
    default = hearing(config(CACHE_DIR=str(tmp_path), VOSK_MODEL=str(model_path)), DEMO)
    assert default.heard == ("en",)  # IVR_VOSK_MODEL is the default language's


def test_model_settings_read_both_variables_and_refuse_a_bad_entry() -> None:
    settings = config(VOSK_MODELS="cs=/m/cs, pl=/m/pl", VOSK_MODEL="/m/en")
    assert model_settings(settings, "en") == {"cs": "/m/cs", "pl": "/m/pl", "en": "/m/en"}
    with pytest.raises(ConfigurationError, match="IVR_VOSK_MODELS: 'cs' should be language=path"):
        model_settings(config(VOSK_MODELS="cs"), "en")


def test_a_language_without_a_voice_stops_the_start_naming_it() -> None:
    synthesizer = Pyttsx3Synthesizer()
    check_voices(synthesizer, DEMO)  # en, cs, pl and lv all have an espeak-ng voice
    klingon = dataclasses.replace(DEMO, languages=(*DEMO.languages, "tlh"))
    with pytest.raises(
        ConfigurationError, match="no text-to-speech voice for the flow's language 'tlh'"
    ):
        check_voices(synthesizer, klingon)


def test_each_call_holds_a_turns_audio_back_as_configured() -> None:
    assert call_settings(config()).hold_ms == 4000  # decoded in a burst at the pause
    streamed = call_settings(config(ASR_HOLD_MS="0", TURN_CONFIDENT_SILENCE_MS="240"))
    assert (streamed.hold_ms, streamed.confident_silence_ms) == (0, 240)
    assert call_settings(config()).handover_ms == 40  # the burst starts 40 ms into the pause
    assert call_settings(config(ASR_HANDOVER_MS="0")).handover_ms == 0  # only at the settle
    assert call_settings(config()).hold_from_calls == 3  # fewer calls up: as it comes
    assert call_settings(config(ASR_HOLD_FROM_CALLS="1")).hold_from_calls == 1  # always held
