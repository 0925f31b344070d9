"""A stand-in for Twilio's side of a phone call, following twilio.md.

Usage::

    emulator = TwilioEmulator(
        server_url="http://127.0.0.1:8123",        # where the server really listens
        public_url="https://ivr.example.test",     # what Twilio would call and sign
        auth_token=token,
    )
    result = emulator.call(parse_script(text, path), agent=AgentBehaviour("busy"))
    assert result.ok, result.errors

This is the front: the account, the options and the caller's script. The call itself (TwiML,
webhooks, status callbacks) runs in :class:`~twilio_emulator.call_session.Call`; the same
machinery runs outbound calls placed over the REST API (``twilio_emulator.outbound``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from twilio_emulator.agent import AgentBehaviour
from twilio_emulator.call_session import Call, StatusCallback
from twilio_emulator.caller import ScriptPlayer, Speak, Step, render_script
from twilio_emulator.result import CallResult
from twilio_emulator.sids import new_sid
from twilio_emulator.webhooks import Webhooks

if TYPE_CHECKING:
    from voice.tts import Synthesizer


class TwilioEmulator:
    """Places emulated inbound calls to a server, as Twilio would.

    Args:
        server_url: Where the server listens (``http://127.0.0.1:8123``).
        public_url: The public base URL Twilio signs (``https://ivr.example.test``).
        auth_token: The account's auth token.
        account_sid: ``AC`` + 32 hex digits; a random one by default.
        say_words_per_second: Pace of ``<Say>`` (words / this = seconds); 0 takes no time.
        wait_settle: Seconds the bot must be quiet before a script ``wait`` ends.
        http_timeout: Twilio's 15 s limit for a webhook response.
        synthesizer: Speaks the script's ``say`` lines; espeak-ng by default.
    """

    def __init__(
        self,
        server_url: str,
        public_url: str,
        auth_token: str,
        account_sid: str | None = None,
        *,
        say_words_per_second: float = 2.5,
        wait_settle: float = 0.3,
        http_timeout: float = 15.0,
        synthesizer: Synthesizer | None = None,
    ) -> None:
        if say_words_per_second < 0:
            raise ValueError("say_words_per_second cannot be negative")
        self.server_url = server_url
        self.public_url = public_url
        self.auth_token = auth_token
        self.account_sid = account_sid or new_sid("AC")
        self.say_words_per_second = say_words_per_second
        self.wait_settle = wait_settle
        self.http_timeout = http_timeout
        self._synthesizer = synthesizer

    def call(
        self,
        script: Sequence[Step] = (),
        *,
        caller: str = "+447700900123",
        called: str = "+442079460000",
        voice_path: str = "/twilio/voice",
        voice_method: str = "POST",
        status_callback_path: str | None = "/twilio/status",
        agent: AgentBehaviour | None = None,
        max_seconds: float = 120.0,
    ) -> CallResult:
        """Place one call and run it to the end.

        Args:
            script: What the caller does while a stream is open (see ``caller.parse_script``);
                ``say`` lines are synthesized before the call is placed.
            caller: ``From``.
            called: ``To``.
            voice_path: The number's voice URL, under ``public_url``.
            voice_method: Its method.
            status_callback_path: The number's status callback, or ``None`` for none.
            agent: What dialled agents do (answer by default).
            max_seconds: The caller hangs up after this long, whatever is happening.

        Returns:
            The call's record.

        Raises:
            voice.tts.SynthesisFailed: A ``say`` line could not be synthesized.
        """
        steps = self.render(script)
        hooks = Webhooks(
            self.server_url, self.public_url, self.auth_token, timeout=self.http_timeout
        )
        try:
            status = None
            if status_callback_path:
                status = StatusCallback.of(hooks.public(status_callback_path))
            run = Call(
                self,
                hooks,
                self.player(steps),
                caller=caller,
                called=called,
                agent=agent or AgentBehaviour(),
                max_seconds=max_seconds,
                status_callback=status,
            )
            return run.run(hooks.public(voice_path), voice_method.upper())
        finally:
            hooks.close()

    def render(self, script: Sequence[Step]) -> list[Step]:
        """The script with its ``say`` lines synthesized."""
        steps = list(script)
        if any(isinstance(step, Speak) for step in steps):
            steps = render_script(steps, self._speech())
        return steps

    def player(self, steps: Sequence[Step]) -> ScriptPlayer:
        """A player for a rendered script."""
        return ScriptPlayer(list(steps), wait_settle=self.wait_settle)

    def _speech(self) -> Synthesizer:
        if self._synthesizer is None:
            from voice.tts import EspeakNgSynthesizer  # lazy: only scripts with `say` need it

            self._synthesizer = EspeakNgSynthesizer()
        return self._synthesizer
