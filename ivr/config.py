"""Configuration in one place: defaults, overridden by ``IVR_*`` environment variables."""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from voice.models import MODEL_LIST_URL

log = logging.getLogger(__name__)

#: The checkout this code runs from (the project is installed editable).
ROOT = Path(__file__).resolve().parent.parent


def _cache_dir() -> str:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache")
    return os.path.join(base, "ivr")


#: Every setting, its default, and (by name) the environment variable that overrides it.
DEFAULTS: Mapping[str, Any] = {
    "FLOWS": str(ROOT / "flows"),  # IVR_FLOWS: the folder of flow YAML files
    "CACHE_DIR": _cache_dir(),  # IVR_CACHE_DIR: environments, trained models, TTS
    "NLU_URL": "",  # IVR_NLU_URL: a running Rasa server; empty = start one ourselves
    "NLU_TOKEN": "",  # IVR_NLU_TOKEN: Rasa --auth-token; empty = generate one per server
    "NLU_HOST": "127.0.0.1",  # IVR_NLU_HOST: where a server we start listens
    "NLU_PORT": 5005,  # IVR_NLU_PORT
    "NLU_TIMEOUT": 1.0,  # IVR_NLU_TIMEOUT: seconds a parse may take before we give up
    "NLU_VENV": str(ROOT / ".venv-nlu"),  # IVR_NLU_VENV: the Python 3.10 + Rasa environment
    "VOSK_MODEL": "",  # IVR_VOSK_MODEL: the default language's Vosk model directory
    "VOSK_MODELS": "",  # IVR_VOSK_MODELS: "cs=/models/cs pl=/models/pl", a model per language
    "VOSK_MODEL_LIST_URL": MODEL_LIST_URL,  # IVR_VOSK_MODEL_LIST_URL: the official model list
    "LOG_FORMAT": "text",  # IVR_LOG_FORMAT: text | json
    "LOG_LEVEL": "INFO",  # IVR_LOG_LEVEL
    "MODE": "development",  # IVR_MODE: development | production (refuses to start unconfigured)
    "PUBLIC_URL": "",  # IVR_PUBLIC_URL: the https address Twilio calls, e.g. https://ivr.example.com
    "TWILIO_AUTH_TOKEN": "",  # TWILIO_AUTH_TOKEN: signs every webhook and the stream handshake
    "DATABASE_URL": "",  # DATABASE_URL: empty = SQLite in the data folder; postgresql://... works
    "PORT": 8000,  # IVR_PORT: where `ivr serve` listens
    "AGENT_NUMBERS": "",  # IVR_AGENT_NUMBERS: "billing=+44...,faults=+44...,*=+44..." per queue
    "DIAL_TIMEOUT": 20,  # IVR_DIAL_TIMEOUT: seconds an agent's phone rings before a callback offer
    "TURN_SILENCE_MS": 600,  # IVR_TURN_SILENCE_MS: silence that always ends a caller's turn
    "TURN_CONFIDENT_SILENCE_MS": 300,  # IVR_TURN_CONFIDENT_SILENCE_MS: ends it if understood
    "ASR_WARM_RECOGNIZERS": 2,  # IVR_ASR_WARM_RECOGNIZERS: recognisers warmed up at start-up
    "ASR_POOL_IDLE": 32,  # IVR_ASR_POOL_IDLE: idle recognisers kept warm for the next turns
    # IVR_ASR_HOLD_MS: a turn's audio held back, then decoded in a burst when the caller pauses
    # (fewer recognisers busy at once: less CPU per call); 0 decodes it as it comes
    "ASR_HOLD_MS": 4000,
    # IVR_ASR_HOLD_FROM_CALLS: audio is held back only once this many calls are up in the process;
    # fewer: decoded as it comes (words new to a recogniser then cost nothing in the pause)
    "ASR_HOLD_FROM_CALLS": 3,
    # IVR_ASR_HANDOVER_MS: silence in a turn after which the audio held back starts decoding,
    # so the burst is under way before the words are needed; 0: only when they are asked for
    "ASR_HANDOVER_MS": 40,
    "BARGE_IN_MS": 120,  # IVR_BARGE_IN_MS: speech over a prompt that interrupts it (noise guard)
    # IVR_STREAM_READ_MS: a call's socket is read at most this often outside the caller's turns
    # (one wake-up for several 20 ms messages: less CPU at light load, frames up to this much
    # later; at 8+ calls it saved nothing measurable, docs/benchmarks.md); 0 reads each at once
    "STREAM_READ_MS": 0,
    # IVR_STREAM_HUB: on = one thread reads every call's socket once its stream has started
    # (a wake-up serves all calls with audio waiting; docs/benchmarks.md); off = a thread per call
    "STREAM_HUB": True,
    # IVR_STREAM_HUB_TICK_MS: the hub reads every this often, so one wake-up serves every call
    # whose 20 ms of audio came meanwhile (each frame waits up to a tick); 0 = as each comes
    "STREAM_HUB_TICK_MS": 20,
    # IVR_GC_FREEZE: on = once warm, the objects start-up built are frozen so that a full garbage
    # collection (which holds every call) skips them: 45-64 ms pauses, none over 20 ms since
    "GC_FREEZE": True,
    # TWILIO_ACCOUNT_SID: the account that places callbacks and texts (REST API)
    "TWILIO_ACCOUNT_SID": "",
    # IVR_TWILIO_API_URL: the REST API (a local emulator in tests)
    "TWILIO_API_URL": "https://api.twilio.com",
    "CALLER_ID": "",  # IVR_CALLER_ID: the number callbacks come from when the queue sets none
    # IVR_API_TOKEN: bearer token of the JSON API (/api/...); development has a fixed default
    "API_TOKEN": "",
    "WORKER_POLL_SECONDS": 1.0,  # IVR_WORKER_POLL_SECONDS: how often `ivr worker` looks
    # IVR_CALLBACK_LEASE_SECONDS: a claimed callback a worker never finished returns after this
    "CALLBACK_LEASE_SECONDS": 120,
    # IVR_SPOOL_DIR: bookings kept on disk while the database is down; empty = <data dir>/spool
    "SPOOL_DIR": "",
    # IVR_MAX_REQUEST_BYTES: a larger request body is refused with 413 before it is read
    "MAX_REQUEST_BYTES": 64 * 1024,
    # IVR_SECRET_KEY: signs the console's session cookies; development keeps one in the data
    # folder, production keeps the console off until it is set
    "SECRET_KEY": "",
    # IVR_CONSOLE_SESSION_HOURS: how long a console log-in lasts
    "CONSOLE_SESSION_HOURS": 12,
    # IVR_PROXY_HOPS: reverse proxies in front of the app; the caller's address for log-in
    # throttling is then taken from X-Forwarded-For (0: the connection's address)
    "PROXY_HOPS": 0,
    # IVR_SIMULATOR: the browser phone at /simulator: auto (on in development, off in
    # production) | on (production: behind a supervisor's console log-in) | off
    "SIMULATOR": "auto",
}

#: Signs requests in development when TWILIO_AUTH_TOKEN is unset (the server and `ivr call`
#: agree on it); production refuses to start without a real token.
DEVELOPMENT_AUTH_TOKEN = "ivr-development-token"

#: The public address in development when IVR_PUBLIC_URL is unset. Twilio streams only to
#: wss://, so the development server speaks as if behind TLS; `ivr call` connects to the real
#: port and signs for this address, as Twilio would behind a proxy.
DEVELOPMENT_PUBLIC_URL = "https://ivr.localhost"

#: The JSON API's bearer token in development when IVR_API_TOKEN is unset.
DEVELOPMENT_API_TOKEN = "ivr-development-api-token"

#: Settings read from a conventional variable name instead of ``IVR_<KEY>``.
ENV_NAMES: Mapping[str, str] = {
    "TWILIO_AUTH_TOKEN": "TWILIO_AUTH_TOKEN",
    "DATABASE_URL": "DATABASE_URL",
    "TWILIO_ACCOUNT_SID": "TWILIO_ACCOUNT_SID",
}


def env_name(key: str) -> str:
    """The environment variable that overrides ``key``."""
    return ENV_NAMES.get(key, f"IVR_{key}")


def _coerce(default: Any, raw: str) -> Any:
    if isinstance(default, bool):
        return raw.strip().lower() in ("1", "true", "yes", "on")
    if isinstance(default, int):
        return int(raw)
    if isinstance(default, float):
        return float(raw)
    return raw


def load_config(overrides: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Defaults, then the environment (``IVR_<KEY>``, see :func:`env_name`), then ``overrides``."""
    config = dict(DEFAULTS)
    for key, default in DEFAULTS.items():
        name = env_name(key)
        raw = os.environ.get(name)
        if raw is not None and raw != "":
            try:
                config[key] = _coerce(default, raw)
            except ValueError as error:
                raise SystemExit(f"{name}={raw!r} is not valid: {error}") from error
    config.update(overrides or {})
    return config


class ConfigurationError(SystemExit):
    """The app or the worker cannot start with this configuration; the message says what to set."""


def check_config(config: Mapping[str, Any]) -> tuple[str, str]:
    """The public URL and the Twilio auth token to use: the one production-credential check.

    Development falls back to :data:`DEVELOPMENT_PUBLIC_URL` and :data:`DEVELOPMENT_AUTH_TOKEN`
    (``ivr call`` signs with them); production refuses to guess.

    Raises:
        ConfigurationError: an unknown ``IVR_MODE``, or production without ``IVR_PUBLIC_URL``
            (https) or ``TWILIO_AUTH_TOKEN``.
    """
    mode = str(config["MODE"])
    if mode not in ("development", "production"):
        raise ConfigurationError(f"IVR_MODE must be development or production, not {mode!r}")
    url = str(config["PUBLIC_URL"]).rstrip("/")
    token = str(config["TWILIO_AUTH_TOKEN"])
    if mode == "production":
        _check_production(url, token)
    if not url:
        url = DEVELOPMENT_PUBLIC_URL
    if not token:
        token = DEVELOPMENT_AUTH_TOKEN
        log.warning("TWILIO_AUTH_TOKEN not set: development token in use (ivr call signs with it)")
    return url, token


def _check_production(url: str, token: str) -> None:
    missing = [
        name for name, value in (("IVR_PUBLIC_URL", url), ("TWILIO_AUTH_TOKEN", token)) if not value
    ]
    if missing:
        raise ConfigurationError(
            f"production mode needs {' and '.join(missing)}: IVR_PUBLIC_URL is the https "
            "address Twilio calls (e.g. https://ivr.example.com) and TWILIO_AUTH_TOKEN the "
            "account's primary auth token, which signs every request"
        )
    if not url.startswith("https://"):
        raise ConfigurationError(
            f"IVR_PUBLIC_URL must be https:// in production (Twilio streams only to wss), "
            f"not {url!r}"
        )


def api_token(config: Mapping[str, Any]) -> str | None:
    """The JSON API's bearer token; development has a fixed one, production none unless set."""
    token = str(config["API_TOKEN"])
    if token:
        return token
    if config["MODE"] == "production":
        log.warning("IVR_API_TOKEN not set: the JSON API (/api/...) is disabled")
        return None
    return DEVELOPMENT_API_TOKEN


def console_secret(config: Mapping[str, Any]) -> str | None:
    """The key that signs the console's sessions; ``None``: the console is off.

    Production takes ``IVR_SECRET_KEY`` (the console stays off without it, as the JSON API does
    without its token). Development keeps a random key in the data folder, so logging in
    survives a restart and every local process shares it.
    """
    key = str(config["SECRET_KEY"])
    if key:
        return key
    if config["MODE"] == "production":
        log.warning("IVR_SECRET_KEY not set: the console (/console) is off")
        return None
    return _development_secret()


def simulator_on(config: Mapping[str, Any]) -> bool:
    """Whether this process serves the browser phone (``IVR_SIMULATOR``).

    Raises:
        ConfigurationError: a value other than auto, on or off; on in production without
            the console's ``IVR_SECRET_KEY`` (its log-in guards the phone there).
    """
    setting, production = str(config["SIMULATOR"]).lower(), config["MODE"] == "production"
    if setting not in ("auto", "on", "off"):
        raise ConfigurationError(f"IVR_SIMULATOR must be auto, on or off, not {setting!r}")
    if setting == "on" and production and not config["SECRET_KEY"]:
        raise ConfigurationError(
            "IVR_SIMULATOR=on in production needs IVR_SECRET_KEY: the console's log-in guards it"
        )
    return setting == "on" or (setting == "auto" and not production)


def _development_secret() -> str:
    """The data folder's key, made once (by whichever process gets there first)."""
    import secrets

    from ivr.store import data_dir  # late: the store is not needed to read the configuration

    path = data_dir() / "console-secret"
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        handle = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    except FileExistsError:
        for _ in range(50):  # another process is writing it: wait for its line
            if secret := path.read_text().strip():
                return secret
            time.sleep(0.02)
        raise ConfigurationError(f"{path} is empty: delete it and start again") from None
    secret = secrets.token_urlsafe(32)
    with os.fdopen(handle, "w") as out:
        out.write(secret + "\n")
    return secret


def model_settings(config: Mapping[str, Any], default_language: str) -> dict[str, str]:
    """The configured model directory by flow language (``IVR_VOSK_MODELS``, ``IVR_VOSK_MODEL``).

    Raises:
        ConfigurationError: An ``IVR_VOSK_MODELS`` entry is not ``language=path``.
    """
    named: dict[str, str] = {}
    for entry in str(config.get("VOSK_MODELS") or "").replace(",", " ").split():
        language, equals, path = entry.partition("=")
        if not equals or not language or not path:
            raise ConfigurationError(
                f"IVR_VOSK_MODELS: '{entry}' should be language=path, like cs=/models/cs"
            )
        named[language] = path
    default = str(config.get("VOSK_MODEL") or "")
    if default:
        named.setdefault(default_language, default)
    return named


def model_paths(
    config: Mapping[str, Any],
    languages: Iterable[str],
    default_language: str,
    *,
    quiet: bool = False,
) -> dict[str, Path | None]:
    """The Vosk model directory of each language, ``None`` where it has none (never another's).

    ``quiet`` keeps the per-language "no model" errors out of the log, for a caller that says it
    once in its own words.
    """
    from voice import asr  # vosk is loaded only when a model is

    named = model_settings(config, default_language)
    asr_log = logging.getLogger(asr.__name__)
    level = asr_log.level
    if quiet:
        asr_log.setLevel(logging.CRITICAL)
    try:
        return {lang: asr.resolve_model_path(named.get(lang), lang=lang) for lang in languages}
    finally:
        asr_log.setLevel(level)
