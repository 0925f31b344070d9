"""The caller: a script of what they say and press, and its playout frame by frame.

A script file has one action per line::

    # greet, then ask
    wait                  # until the bot's greeting has played out (at most 30 s)
    say: my internet is down
    say ko: 인터넷이 안 돼요
    audio: recordings/account.wav
    silence 1.5
    press 0
    wait 10
    hangup

``parse_script`` turns it into steps, ``render_script`` synthesizes the ``say`` lines, and a
:class:`ScriptPlayer` hands out one 20 ms frame at a time for the Media Stream (pure: the
caller passes ``now`` and what the bot is doing).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeAlias

from twilio_emulator.audio import FRAME_BYTES, AudioFileError, is_voiced, read_wav_ulaw
from voice.tts import Synthesizer

SILENT_FRAME = b"\xff" * FRAME_BYTES
FRAME_SECONDS = 0.02
DEFAULT_WAIT_SECONDS = 30.0


@dataclass(frozen=True)
class Speak:
    """Say ``text`` in ``language`` (synthesized before the call)."""

    text: str
    language: str = "en"


@dataclass(frozen=True)
class SpeakAudio:
    """Send this 8 kHz μ-law audio; ``label`` names it in the timeline (text or file)."""

    audio: bytes
    label: str = ""

    def __repr__(self) -> str:  # the audio would flood logs and test output
        return f"SpeakAudio(label={self.label!r}, {len(self.audio)} bytes)"


@dataclass(frozen=True)
class Silence:
    """Say nothing for ``seconds``."""

    seconds: float


@dataclass(frozen=True)
class Press:
    """Press keys, one after another."""

    digits: str


@dataclass(frozen=True)
class WaitForBot:
    """Wait until the bot has spoken and its audio has played out, at most ``max_seconds``."""

    max_seconds: float = DEFAULT_WAIT_SECONDS


@dataclass(frozen=True)
class Hangup:
    """Hang up."""


Step: TypeAlias = Speak | SpeakAudio | Silence | Press | WaitForBot | Hangup


class ScriptError(ValueError):
    """A script line that cannot be understood; the message starts with ``file:line``."""


_SAY = re.compile(r"^say(?:\s+(?P<lang>[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]+)*))?\s*:\s*(?P<text>.*)$")
_DIGITS = re.compile(r"^[0-9*#]+$")


def parse_script(text: str, path: str = "<script>") -> list[Step]:
    """Parse a caller script (format in the module docstring).

    Args:
        text: The script.
        path: Where it came from: named in errors, and ``audio:`` files are relative to it.

    Returns:
        The steps, with ``audio:`` files already read as μ-law.

    Raises:
        ScriptError: On the first bad line, as ``path:line: what is wrong``.
    """
    steps: list[Step] = []
    folder = Path(path).parent
    for number, raw in enumerate(text.splitlines(), start=1):
        line = _TRAILING_COMMENT.sub("", raw).strip()
        if not line or line.startswith("#"):
            continue
        try:
            steps.append(_parse_line(line, folder))
        except ValueError as exc:
            raise ScriptError(f"{path}:{number}: {exc}") from None
    return steps


#: ``  # ...`` after an action is a comment; a ``#`` not between spaces is text ("flat #4").
_TRAILING_COMMENT = re.compile(r"\s+#(\s.*)?$")


def _parse_line(line: str, folder: Path) -> Step:
    say = _SAY.match(line)
    if say:
        words = say["text"].strip()
        if not words:
            raise ValueError("'say' needs something to say")
        return Speak(words, (say["lang"] or "en").replace("_", "-"))
    keyword, _, rest = line.partition(" ")
    rest = rest.strip()
    if keyword == "audio:" or line.startswith("audio:"):
        name = line[len("audio:") :].strip()
        if not name:
            raise ValueError("'audio:' needs a WAV file")
        file = folder / name
        try:
            return SpeakAudio(read_wav_ulaw(file), label=name)
        except AudioFileError as exc:
            raise ValueError(str(exc)) from None
    if keyword == "silence":
        return Silence(_seconds(rest, "silence"))
    if keyword == "press":
        if not _DIGITS.match(rest):
            raise ValueError(f"'press' needs keys 0-9, * or #, got {rest!r}")
        return Press(rest)
    if keyword == "wait":
        return WaitForBot(_seconds(rest, "wait") if rest else DEFAULT_WAIT_SECONDS)
    if keyword == "hangup" and not rest:
        return Hangup()
    raise ValueError(
        f"{line!r} is not one of 'say [lang]: text', 'audio: file.wav', 'silence SECONDS', "
        "'press DIGITS', 'wait [SECONDS]', 'hangup'"
    )


def _seconds(value: str, keyword: str) -> float:
    try:
        seconds = float(value)
    except ValueError:
        raise ValueError(f"'{keyword}' needs a number of seconds, got {value!r}") from None
    if not 0 <= seconds <= 3600:
        raise ValueError(f"'{keyword}' seconds must be between 0 and 3600, got {value}")
    return seconds


def render_script(steps: Sequence[Step], synthesizer: Synthesizer) -> list[Step]:
    """Synthesize every :class:`Speak` into :class:`SpeakAudio` (before the call, not during).

    Raises:
        voice.tts.SynthesisFailed: A text could not be spoken (e.g. no voice for its language).
    """
    return [
        SpeakAudio(synthesizer.synthesize(step.text, step.language), label=step.text)
        if isinstance(step, Speak)
        else step
        for step in steps
    ]


@dataclass(frozen=True)
class BotState:
    """What the caller can tell about the bot: when its audio last arrived and went quiet."""

    last_media_at: float | None
    idle_since: float | None


@dataclass(frozen=True)
class Frame:
    """One 20 ms slot: audio to send, keys pressed at its start, or the hang-up."""

    audio: bytes = SILENT_FRAME
    digits: tuple[str, ...] = ()
    hangup: bool = False
    utterance: int | None = None  # index into ScriptPlayer.utterances
    voiced: bool = False


class ScriptPlayer:
    """Plays a rendered script out one frame at a time; after the last step, silence.

    Args:
        steps: Rendered steps (no :class:`Speak`; see :func:`render_script`).
        wait_settle: Seconds the bot must have been quiet before a ``wait`` ends (a bot may
            pause between sentences).
        digit_seconds: Time each key press takes.

    Raises:
        ValueError: ``steps`` still contains a :class:`Speak`.
    """

    def __init__(
        self, steps: Sequence[Step], *, wait_settle: float = 0.3, digit_seconds: float = 0.2
    ) -> None:
        if any(isinstance(step, Speak) for step in steps):
            raise ValueError("render_script() the steps first: Speak needs synthesis")
        self._steps = list(steps)
        self._settle = wait_settle
        self._digit_frames = max(1, round(digit_seconds / FRAME_SECONDS))
        self._index = 0
        self._position = 0  # frames (or bytes for audio) into the current step
        self._wait_started: float | None = None
        self.last_action_at: float | None = None  # last voiced frame or key press
        self.utterances: list[str] = []  # label per utterance started so far

    @property
    def finished(self) -> bool:
        """Whether every step has been played (the caller stays on the line, silent)."""
        return self._index >= len(self._steps)

    def start(self, now: float) -> None:
        """A stream opened: a ``wait`` waits for bot audio arriving from now on at the earliest."""
        if self.last_action_at is None:
            self.last_action_at = now

    def next_frame(self, now: float, bot: BotState) -> Frame:
        """The frame for the slot starting at ``now``."""
        while self._index < len(self._steps):
            frame = self._play(self._steps[self._index], now, bot)
            if frame is not None:
                return frame
            self._index += 1
            self._position = 0
            self._wait_started = None
        return Frame()

    def _play(self, step: Step, now: float, bot: BotState) -> Frame | None:
        """The step's next frame, or ``None`` when the step is over."""
        if isinstance(step, SpeakAudio):
            if self._position >= len(step.audio):
                return None
            if self._position == 0:
                self.utterances.append(step.label)
            chunk = step.audio[self._position : self._position + FRAME_BYTES]
            self._position += FRAME_BYTES
            audio = chunk.ljust(FRAME_BYTES, b"\xff")
            voiced = is_voiced(audio)
            if voiced:
                self.last_action_at = now
            return Frame(audio=audio, utterance=len(self.utterances) - 1, voiced=voiced)
        if isinstance(step, Silence):
            if self._position >= round(step.seconds / FRAME_SECONDS):
                return None
            self._position += 1
            return Frame()
        if isinstance(step, Press):
            if self._position >= len(step.digits) * self._digit_frames:
                return None
            slot, offset = divmod(self._position, self._digit_frames)
            self._position += 1
            if offset:
                return Frame()
            self.last_action_at = now
            return Frame(digits=(step.digits[slot],))
        if isinstance(step, WaitForBot):
            return None if self._wait_over(step, now, bot) else Frame()
        if isinstance(step, Hangup):
            return Frame(hangup=True)
        raise ValueError(f"cannot play {step!r}")  # Speak: refused in __init__

    def _wait_over(self, step: WaitForBot, now: float, bot: BotState) -> bool:
        if self._wait_started is None:
            self._wait_started = now
        if now - self._wait_started >= step.max_seconds:
            return True
        spoke = bot.last_media_at is not None and (
            self.last_action_at is None or bot.last_media_at >= self.last_action_at
        )
        quiet = bot.idle_since is not None and now - bot.idle_since >= self._settle
        return spoke and quiet
