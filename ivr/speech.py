"""Sentences the phone network says for us (when our own voice is not on the line).

After the bot's stream has closed (a transfer, a goodbye, a placed callback) the network's own
text-to-speech speaks: each :class:`Speech` is a text and the language to say it in.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.flow.model import SYSTEM_PROMPT_FALLBACKS, Flow


@dataclass(frozen=True)
class Speech:
    """``text`` to be said in ``language`` (a flow language code: ``en``, ``cs``, ...)."""

    text: str
    language: str


def system_prompt(flow: Flow, prompt_id: str, language: str | None, **values: str) -> Speech:
    """A system prompt in ``language`` (else the flow's default); ``values`` fill it in."""
    prompt = flow.system_prompts.get(prompt_id)
    if prompt is None:
        return Speech(SYSTEM_PROMPT_FALLBACKS[prompt_id].format(**values), "en")
    chosen = language if language is not None and language in prompt.text else None
    chosen = chosen or flow.default_language
    return Speech(prompt.text[chosen].format(**values), chosen)
