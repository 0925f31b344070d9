"""The Korean test line's replies as WAV files, for the Pipecat peer (``--prompts DIR``).

    .venv/bin/python bench/peer_prompts.py DIR

The audio is what our line plays, from the same prompt cache the web process uses
(``PromptCache`` on ``$IVR_CACHE_DIR/tts``, filled by its warm-up): the conversation engine is
run on the flow and the audio of each reply's ``Say`` actions is joined, as the call's
performer sends them back to back. ``greeting.wav`` is the call's opening, ``<intent>.wav`` the
first reply the line gives to an intent it routes (``opening_hours.wav`` is what a caller hears
after "주말에도 영업해요"), ``fallback.wav`` the reply to words the line did not understand.
All are 8 kHz mono 16-bit.
"""

from __future__ import annotations

import argparse
import sys
import wave
from datetime import UTC, datetime
from pathlib import Path

from twilio_emulator.audio import write_wav_ulaw

from bot.engine.actions import Action, Say
from bot.engine.engine import Engine
from bot.engine.events import CallStarted, SpeechRecognized
from bot.engine.session import Session
from bot.flow import load_flow
from bot.flow.model import AskStep, Flow
from bot.nlu.result import IntentScore, NLUResult
from ivr.config import ROOT, load_config
from voice.prompt_cache import PromptCache
from voice.tts import Pyttsx3Synthesizer

sys.path.insert(0, str(ROOT))  # the Korean line's fixtures live with the tests
from tests.fixtures.ko_line import KO_EXPECTED, KO_LINE, KO_PHRASES

#: A phrase per intent, where the tests have one (the engine only checks it is not fillers).
PHRASES = {intent: KO_PHRASES[key] for key, intent in KO_EXPECTED.items()}
#: What Vosk might hear that the line cannot route.
UNDERSTOOD_NOTHING = "음 그러니까"


def write_prompts(folder: Path, flows: Path = KO_LINE) -> dict[str, Path]:
    """Write ``greeting.wav``, ``<intent>.wav`` and ``fallback.wav`` into ``folder``."""
    flow = load_flow(flows)
    config = load_config({"NLU_URL": "", "NLU_TOKEN": ""})
    cache = PromptCache(Pyttsx3Synthesizer(), Path(config["CACHE_DIR"]) / "tts")
    folder.mkdir(parents=True, exist_ok=True)
    written = {}
    for name, actions in replies(flow).items():
        audio = b"".join(cache.get(action) for action in actions if isinstance(action, Say))
        if audio:
            written[name] = folder / f"{name}.wav"
            write_wav_ulaw(written[name], audio)
    return written


def replies(flow: Flow) -> dict[str, list[Action]]:
    """The actions of the opening, of the first reply to each routed intent, and of a miss."""
    engine = Engine(flow)
    now = datetime.now(UTC)
    opening, actions = engine.start("peer-prompts", CallStarted(), now)
    found: dict[str, list[Action]] = {"greeting": actions}
    found["fallback"] = engine.step(opening, heard(UNDERSTOOD_NOTHING, None), now)[1]
    # Breadth first from the opening, so each intent's reply is the earliest the line gives.
    frontier = [opening]
    while frontier:
        session = frontier.pop(0)
        for intent in routed(flow, session):
            if intent not in found:
                after, found[intent] = engine.step(session, heard(PHRASES.get(intent), intent), now)
                if after.active:
                    frontier.append(after)
    return found


def routed(flow: Flow, session: Session) -> list[str]:
    """The intents the session's current step routes, and the global ones."""
    step = flow.steps.get(session.step_id)
    routes = list(step.routes) if isinstance(step, AskStep) else []
    return [*routes, *flow.global_intents]


def heard(text: str | None, intent: str | None) -> SpeechRecognized:
    """The caller said ``text``, understood with certainty as ``intent`` (None: nothing)."""
    text = text or intent or ""
    ranking = (IntentScore(intent, 1.0),) if intent else ()
    return SpeechRecognized(text, NLUResult(text, intent, 1.0 if intent else 0.0, ranking))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path)
    args = parser.parse_args()
    for name, path in write_prompts(args.folder).items():
        with wave.open(str(path)) as wav:
            print(f"{name}: {path} ({wav.getnframes() / wav.getframerate():.2f} s)")


if __name__ == "__main__":
    main()
