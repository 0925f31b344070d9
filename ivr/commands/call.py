"""``ivr call``: phone the server through the Twilio emulator and show what happened.

The emulator (``twilio_emulator``, in ``emulator/``) is a development tool, not part of the
product: it is imported when the command runs, and a production install says how to get it.
"""

from __future__ import annotations

import json
import logging
import struct
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from ivr.config import DEVELOPMENT_AUTH_TOKEN, DEVELOPMENT_PUBLIC_URL, load_config
from voice.tts import SynthesisFailed

if TYPE_CHECKING:
    from twilio_emulator.caller import Step
    from twilio_emulator.result import CallResult

#: What a dialled agent can do: ``twilio_emulator.call.ANSWERS`` (a test keeps them equal).
ANSWERS = ("answered", "no-answer", "busy", "failed")


def emulator_missing(command: str = "call", usage: str = "ivr call") -> str:
    """The one line a command that needs the emulator prints on an install without it."""
    return (
        f"{command}: `{usage}` needs the Twilio emulator, a development tool that is not "
        "installed with the product; from a checkout, install it with `pip install -e emulator/` "
        "(`make env` does)"
    )


EMULATOR_MISSING = emulator_missing()


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
    require_emulator()
    config = load_config()
    token = _auth_token(auth_token, config)
    if script_path is not None:
        steps = _script_steps(script_path)
    else:
        assert audio_path is not None  # checked above
        steps = audio_steps(audio_path, "call")
    line = Line(
        url,
        public_url or config["PUBLIC_URL"] or DEVELOPMENT_PUBLIC_URL,
        token,
        caller=caller,
        called=called,
        agent=agent,
        talk_seconds=talk_seconds,
        say_pace=say_pace,
        voice_path=voice_path,
        status_path=status_path,
        max_seconds=max_seconds,
    )
    show_result(place_call(line, steps, "call"), as_json=as_json, save_audio=save_audio)


def _auth_token(given: str | None, config: Mapping[str, Any]) -> str:
    """The key to sign with: given, configured, or the development one ``ivr serve`` uses."""
    token = given or str(config["TWILIO_AUTH_TOKEN"])
    if not token and config["MODE"] == "development":
        token = DEVELOPMENT_AUTH_TOKEN  # what `ivr serve` uses when no token is set
    if not token:
        raise SystemExit("call: no auth token: pass --auth-token or set TWILIO_AUTH_TOKEN")
    return token


def _script_steps(script_path: str) -> list[Step]:
    from twilio_emulator.caller import ScriptError, parse_script

    try:
        return parse_script(Path(script_path).read_text(encoding="utf-8"), script_path)
    except ScriptError as exc:
        raise SystemExit(f"call: {exc}") from None


# --- shared with `ivr simulate --audio`, which reaches the emulator only through here ---------


def wav_layout(data: bytes) -> tuple[int, int, int, int, bytes]:
    """The emulator's reading of a WAV file: format tag, channels, rate, bits, samples.

    Raises:
        ValueError: not a WAV file, or a broken one (the message says which).
    """
    from twilio_emulator.audio import wav_layout as layout

    try:
        return layout(data)
    except struct.error as error:
        raise ValueError(f"a broken WAV file ({error})") from None


def require_emulator(command: str = "call", usage: str = "ivr call") -> None:
    """Exit with :func:`emulator_missing`'s line unless ``twilio_emulator`` can be imported."""
    try:
        import twilio_emulator  # noqa: F401  # only whether it imports
    except ModuleNotFoundError as exc:
        if exc.name != "twilio_emulator":
            raise
        raise SystemExit(emulator_missing(command, usage)) from None


@dataclass(frozen=True)
class Line:
    """Where the emulator calls, how it signs, and how the caller's side behaves."""

    url: str
    public_url: str
    auth_token: str
    caller: str = "+447700900123"
    called: str = "+442079460000"
    agent: str = "answered"
    talk_seconds: float = 1.0
    say_pace: float = 2.5
    voice_path: str = "/twilio/voice"
    status_path: str = "/twilio/status"
    max_seconds: float = 120.0


def audio_steps(
    audio_path: str | Path, command: str, *, greeting_first: bool = False
) -> list[Step]:
    """Say the WAV (converted to 8 kHz μ-law by the emulator), wait for the answer, hang up.

    With ``greeting_first`` the caller listens to the bot's greeting before speaking.
    """
    from twilio_emulator.audio import AudioFileError, read_wav_ulaw
    from twilio_emulator.caller import Hangup, SpeakAudio, WaitForBot

    try:
        audio = read_wav_ulaw(audio_path)
    except AudioFileError as exc:
        raise SystemExit(f"{command}: {exc}") from None
    speak: list[Step] = [SpeakAudio(audio, label=Path(audio_path).name), WaitForBot(), Hangup()]
    return [WaitForBot(), *speak] if greeting_first else speak


def place_call(line: Line, steps: list[Step], command: str) -> CallResult:
    """Run one call through the emulator against the server at ``line.url``."""
    from twilio_emulator import AgentBehaviour, TwilioEmulator

    if logging.getLogger().getEffectiveLevel() == logging.INFO:
        # The timeline says it all; per-request INFO lines would repeat it on stderr.
        logging.getLogger("twilio_emulator").setLevel(logging.WARNING)
    emulator = TwilioEmulator(
        line.url, line.public_url, line.auth_token, say_words_per_second=line.say_pace
    )
    try:
        return emulator.call(
            steps,
            caller=line.caller,
            called=line.called,
            voice_path=line.voice_path,
            status_callback_path=line.status_path or None,
            agent=AgentBehaviour(line.agent, talk_seconds=line.talk_seconds),
            max_seconds=line.max_seconds,
        )
    except SynthesisFailed as exc:
        raise SystemExit(f"{command}: cannot speak the script: {exc}") from None


#: Something to add to the timeline: (``time.monotonic()`` time, who, what).
Note = tuple[float, str, str]


def show_result(
    result: CallResult,
    *,
    as_json: bool,
    save_audio: str | None = None,
    notes: Iterable[Note] = (),
    extra_json: Mapping[str, Any] | None = None,
) -> None:
    """Print the call as a timeline (with ``notes`` in time order) or JSON; exit 1 on errors."""
    from twilio_emulator.timeline import Entry, format_entry, timeline

    if save_audio:
        result.write_wav(save_audio)
    if as_json:
        whole = {**result.to_dict(), **(extra_json or {})}
        click.echo(json.dumps(whole, indent=2, ensure_ascii=False))
    else:
        added = [Entry(round(at - result.started_at, 3), who, what) for at, who, what in notes]
        for entry in sorted([*timeline(result), *added], key=lambda entry: entry.at):
            click.echo(format_entry(entry))
    if not result.ok:
        raise SystemExit(1)
