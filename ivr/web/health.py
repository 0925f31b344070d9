"""``GET /healthz``: ready when the first call will be as fast as a later one; what is warming.

Ready means warm: the flows are loaded, the NLU answers (its server has already traced its
model with a parse), every static prompt is synthesised, the recognisers the first calls
will use have decoded speech and a first turn has been rehearsed through the NLU and the
engine, and what warm-up built is frozen out of the garbage collector's way
(:mod:`ivr.collector`). A process that reported ready earlier sent its first callers a
greeting seconds late (behind a load balancer, every deploy does). A line with no speech
model is ready without one: its callers get the keypad and a person. Load balancers and
``make run`` read ``ready``; people read the rest.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from flask import Blueprint, Flask, Response, jsonify

from ivr.parts import Parts
from ivr.store import StoreUnavailable
from ivr.wiring import use

blueprint = Blueprint("health", __name__)


def init_app(app: Flask) -> None:
    """Serve ``/healthz`` on ``app``."""
    app.register_blueprint(blueprint)


@blueprint.get("/healthz")
def health() -> tuple[Response, int]:
    """200 and ``ready: true`` when calls can be served; 503 otherwise, with what is missing."""
    checks = status(use(Parts))
    ready = is_ready(checks)
    return jsonify({"ready": ready, **checks}), 200 if ready else 503


def is_ready(checks: dict[str, Any]) -> bool:
    """Whether :func:`status` says a first call would be served as fast as a later one."""
    served = checks["flows"] == "ok" and checks["nlu"] == "ok" and checks["first_turn"] == "ready"
    warm = checks["prompts"] == "ready" and checks["memory"] == "ready"
    return served and warm and checks["speech"] in ("ready", "missing")


def status(parts: Parts) -> dict[str, Any]:
    """Each part's state, JSON-ready."""
    try:
        flow = parts.flow
        flows = "ok"
    except Exception as error:  # the flows never loaded
        flow, flows = None, f"error: {error}"
    return {
        "flows": flows,
        "flow": flow.name if flow else None,
        "nlu": "ok" if parts.nlu.is_ready() else "not ready",
        "nlu_url": parts.nlu.url,
        "speech_models": parts.recognizers.models,
        "speech_recognizers": {  # voice.asr.PoolUsage: sizing IVR_ASR_POOL_IDLE, reading CPU
            language: asdict(usage) for language, usage in parts.recognizers.usage().items()
        },
        "languages_heard": list(parts.recognizers.heard),
        "languages_not_heard": list(parts.recognizers.deaf),
        "database": _database(parts),
        "prompts": "ready" if parts.prompts_ready.is_set() else "warming",
        "speech": _speech(parts),
        "first_turn": "ready" if parts.turns_ready.is_set() else "warming",
        "memory": "ready" if parts.memory_settled.is_set() else "warming",  # ivr.collector
    }


def _speech(parts: Parts) -> str:
    if not parts.recognizers:
        return "missing"
    return "ready" if parts.speech_ready.is_set() else "warming"


def _database(parts: Parts) -> str:
    try:
        parts.call_store().ping()
    except StoreUnavailable as error:
        return f"down: {error}"
    return "ok"
