"""``ivr call``: phone the server through the Twilio emulator and show what happened.

The emulator (``twilio_emulator``, in ``emulator/``) is a development tool, not part of the
product: it is imported when the command runs, and a production install says how to get it.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from ivr.config import DEVELOPMENT_AUTH_TOKEN, DEVELOPMENT_PUBLIC_URL, load_config
from voice.tts import SynthesisFailed

if TYPE_CHECKING:
    from twilio_emulator.caller import Step

#: What a dialled agent can do: ``twilio_emulator.call.ANSWERS`` (a test keeps them equal).
ANSWERS = ("answered", "no-answer", "busy", "failed")
EMULATOR_MISSING = (
    "call: `ivr call` needs the Twilio emulator, a development tool that is not installed with "
    "the product; from a checkout, install it with `pip install -e emulator/` (`make env` does)"
)


@click.command("call")
@click.option(
    "--script",
    "script_path",
    type=click.Path(exists=True, dir_okay=False),
    help="What the caller does, one action per line (docs/emulator.md).",
)
@click.option(
    "--audio",
    "audio_path",
    type=click.Path(exists=True, dir_okay=False),
    help="Say this WAV, wait for the bot to answer, hang up.",
)
@click.option(
    "--url", default="http://127.0.0.1:8000", show_default=True, help="Where the server listens."
)
@click.option(
    "--public-url",
    default=None,
    help="The address Twilio signs (default: IVR_PUBLIC_URL, else the development address).",
)
@click.option("--auth-token", default=None, help="Signing key (default: TWILIO_AUTH_TOKEN).")
@click.option("--from", "caller", default="+447700900123", show_default=True)
@click.option("--to", "called", default="+442079460000", show_default=True)
@click.option(
    "--agent",
    type=click.Choice(ANSWERS),
    default="answered",
    show_default=True,
    help="What a dialled agent does.",
)
@click.option(
    "--talk-seconds",
    type=float,
    default=1.0,
    show_default=True,
    help="How long an answering agent stays on the line.",
)
@click.option(
    "--say-pace",
    type=click.FloatRange(min=0),
    default=2.5,
    show_default=True,
    help="Words per second of <Say> (0: no time).",
)
@click.option("--voice-path", default="/twilio/voice", show_default=True)
@click.option("--status-path", default="/twilio/status", show_default=True)
@click.option(
    "--max-seconds",
    type=float,
    default=120.0,
    show_default=True,
    help="The caller hangs up after this long regardless.",
)
@click.option(
    "--save-audio",
    type=click.Path(dir_okay=False),
    help="Write what the caller heard to this WAV file.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the whole result as JSON.")
def call_command(
    script_path: str | None,
    audio_path: str | None,
    url: str,
    public_url: str | None,
    auth_token: str | None,
    caller: str,
    called: str,
    agent: str,
    talk_seconds: float,
    say_pace: float,
    voice_path: str,
    status_path: str,
    max_seconds: float,
    save_audio: str | None,
    as_json: bool,
) -> None:
    """Call the server as Twilio would: signed webhooks, TwiML, a real Media Stream.

    Exits 1 if Twilio would have logged an error (a 403, bad TwiML, a refused stream...).
    """
    if (script_path is None) == (audio_path is None):
        raise click.UsageError("give exactly one of --script or --audio")
    try:
        from twilio_emulator import AgentBehaviour, TwilioEmulator
        from twilio_emulator.timeline import format_entry, timeline
    except ModuleNotFoundError as exc:
        if exc.name != "twilio_emulator":
            raise
        raise SystemExit(EMULATOR_MISSING) from None
    config = load_config()
    token = _auth_token(auth_token, config)
    steps = _steps(script_path, audio_path)
    if logging.getLogger().getEffectiveLevel() == logging.INFO:
        # The timeline says it all; per-request INFO lines would repeat it on stderr.
        logging.getLogger("twilio_emulator").setLevel(logging.WARNING)
    emulator = TwilioEmulator(
        url,
        public_url or config["PUBLIC_URL"] or DEVELOPMENT_PUBLIC_URL,
        token,
        say_words_per_second=say_pace,
    )
    try:
        result = emulator.call(
            steps,
            caller=caller,
            called=called,
            voice_path=voice_path,
            status_callback_path=status_path or None,
            agent=AgentBehaviour(agent, talk_seconds=talk_seconds),
            max_seconds=max_seconds,
        )
    except SynthesisFailed as exc:
        raise SystemExit(f"call: cannot speak the script: {exc}") from None
    if save_audio:
        result.write_wav(save_audio)
    if as_json:
        click.echo(json.dumps(result.to_dict(), indent=2, ensure_ascii=False))
    else:
        for entry in timeline(result):
            click.echo(format_entry(entry))
    if not result.ok:
        raise SystemExit(1)


def _auth_token(given: str | None, config: Mapping[str, Any]) -> str:
    """The key to sign with: given, configured, or the development one ``ivr serve`` uses."""
    token = given or str(config["TWILIO_AUTH_TOKEN"])
    if not token and config["MODE"] == "development":
        token = DEVELOPMENT_AUTH_TOKEN  # what `ivr serve` uses when no token is set
    if not token:
        raise SystemExit("call: no auth token: pass --auth-token or set TWILIO_AUTH_TOKEN")
    return token


def _steps(script_path: str | None, audio_path: str | None) -> list[Step]:
    from twilio_emulator.audio import AudioFileError, read_wav_ulaw
    from twilio_emulator.caller import Hangup, ScriptError, SpeakAudio, WaitForBot, parse_script

    if script_path is not None:
        try:
            return parse_script(Path(script_path).read_text(encoding="utf-8"), script_path)
        except ScriptError as exc:
            raise SystemExit(f"call: {exc}") from None
    assert audio_path is not None  # checked by the caller
    try:
        audio = read_wav_ulaw(audio_path)
    except AudioFileError as exc:
        raise SystemExit(f"call: {exc}") from None
    return [SpeakAudio(audio, label=Path(audio_path).name), WaitForBot(), Hangup()]
