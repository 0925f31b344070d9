"""Natural-language understanding: the result types, the Rasa HTTP client, the flow compiler.

``RasaNLU`` talks to a Rasa server over HTTP (TensorFlow stays in that process);
``compile_nlu_project`` turns a flow's intents into Rasa training files with a fingerprint.
"""

from __future__ import annotations

from bot.nlu.compile import NLUProject, compile_nlu_project
from bot.nlu.rasa import RasaNLU
from bot.nlu.result import NLU, Entity, IntentScore, NLUResult, NLUUnavailable

__all__ = [
    "NLU",
    "Entity",
    "IntentScore",
    "NLUProject",
    "NLUResult",
    "NLUUnavailable",
    "RasaNLU",
    "compile_nlu_project",
]
