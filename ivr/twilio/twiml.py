"""The TwiML documents we answer Twilio with. Twilio specifics stay in this module.

Every document ends the call deliberately (``<Hangup/>``) or hands control to one of our
routes (``<Connect action>``, ``<Dial action>``), so a caller never falls off the end of a
document into silence.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlencode

from twilio.twiml.voice_response import Connect, Dial, VoiceResponse

from bot.flow.model import SYSTEM_PROMPT_FALLBACKS, Flow

#: Twilio ``<Say language>`` per flow language (Twilio wants a region).
SAY_LANGUAGES: Mapping[str, str] = {
    "en": "en-GB",
    "cs": "cs-CZ",
    "pl": "pl-PL",
    "lv": "lv-LV",
    "ko": "ko-KR",
}


@dataclass(frozen=True)
class Urls:
    """Absolute public URLs of our routes, as Twilio must request them."""

    base: str  # https://host[/prefix], no trailing slash

    @property
    def stream(self) -> str:
        """The Media Streams socket (``wss://`` for ``https://``)."""
        scheme, _, rest = self.base.partition("://")
        return f"{'wss' if scheme == 'https' else 'ws'}://{rest}/twilio/media"

    @property
    def connect_action(self) -> str:
        """Where Twilio asks what to do once the stream closes."""
        return f"{self.base}/twilio/connect-action"

    def whisper(self, call_id: str, agent: str | None = None) -> str:
        """What ``agent`` hears before the bridge; its request means they answered."""
        return self._url("/twilio/whisper", call=call_id, agent=agent)

    def dial_action(self, queue: str | None, tried: tuple[str, ...] = ()) -> str:
        """Where Twilio reports how a transfer to ``queue`` went; ``tried``: agents rung so far."""
        return self._url("/twilio/dial-action", queue=queue or "", tried=",".join(tried) or None)

    def callback(self, route: str, callback_id: str, **more: str | None) -> str:
        """A route of a placed callback (``answer``, ``greet``, ``dial-action``, ``status``)."""
        return self._url(f"/twilio/callback/{route}", callback=callback_id, **more)

    def _url(self, path: str, **query: str | None) -> str:
        pairs = {k: v for k, v in query.items() if v is not None}
        return f"{self.base}{path}" + (f"?{urlencode(pairs)}" if pairs else "")


def say(response: VoiceResponse, text: str, language: str) -> None:
    """Add ``<Say>`` in ``language`` (Twilio's regional code for it, when we know one)."""
    code = SAY_LANGUAGES.get(language)
    if code:
        response.say(text, language=code)
    else:
        response.say(text)


def prompt_text(flow: Flow, prompt_id: str, language: str | None, **values: str) -> tuple[str, str]:
    """A system prompt's text in ``language`` (else the flow's default) and that language.

    ``values`` fill its placeholders.
    """
    prompt = flow.system_prompts.get(prompt_id)
    if prompt is None:
        return SYSTEM_PROMPT_FALLBACKS[prompt_id].format(**values), "en"
    language = language if language in prompt.text else flow.default_language
    return prompt.text[language].format(**values), language


def stream(urls: Urls, parameters: Mapping[str, str]) -> str:
    """Answer a call: open a bidirectional stream, then ask us again when it closes."""
    response = VoiceResponse()
    connect = Connect(action=urls.connect_action, method="POST")
    media = connect.stream(url=urls.stream)
    for name, value in parameters.items():
        media.parameter(name=name, value=value[:200])
    response.append(connect)
    return str(response)


def apology_and_dial(
    flow: Flow,
    urls: Urls,
    *,
    call_id: str,
    number: str,
    queue: str | None,
    language: str | None,
    timeout: int,
    apology: str | None = "technical_problem",
    agent: str | None = None,
    tried: tuple[str, ...] = (),
) -> str:
    """Say ``apology`` (a system prompt) if any, then ring a person (``agent``, if known)."""
    response = VoiceResponse()
    if apology:
        say(response, *prompt_text(flow, apology, language))
    dial = Dial(action=urls.dial_action(queue, tried), method="POST", timeout=timeout)
    ring(dial, number, urls.whisper(call_id, agent))
    response.append(dial)
    return str(response)


def ring(dial: Dial, address: str, whisper_url: str) -> None:
    """Add ``address`` to ``dial`` as the noun it is (number, SIP or Client), with a whisper."""
    if address.startswith("sip:"):
        dial.sip(address, url=whisper_url, method="POST")
    elif address.startswith("client:"):
        dial.client(address.removeprefix("client:"), url=whisper_url, method="POST")
    else:
        dial.number(address, url=whisper_url, method="POST")


def say_and_hang_up(flow: Flow, prompt_ids: list[str], language: str | None) -> str:
    """Say each system prompt, then end the call."""
    response = VoiceResponse()
    for prompt_id in prompt_ids:
        say(response, *prompt_text(flow, prompt_id, language))
    response.hangup()
    return str(response)


def whisper(text: str) -> str:
    """What the agent hears before the caller is bridged (said in English to the agent)."""
    response = VoiceResponse()
    response.say(text, language=SAY_LANGUAGES["en"])
    return str(response)


def hang_up() -> str:
    """End the call now."""
    response = VoiceResponse()
    response.hangup()
    return str(response)
