"""The one place the app's parts are built, for the web app and for ``ivr worker``.

:func:`build_parts` loads the flows and connects the store, the NLU, the recogniser pool, the
prompt cache and the dialer; :meth:`Parts.init_app` hands each role (switchboard, call
opener, placed callbacks, SMS replies, ...) to the web app. :func:`build_worker` builds the
callback worker from the same configuration, through the same credential check
(:func:`ivr.config.check_config`).

Slow parts never hold up start-up: the NLU server (minutes, if we must train and start one),
prompt synthesis and the speech model load in the background. Until the NLU answers, callers
who speak get the engine's apology and a person; ``/healthz`` says "not ready" meanwhile.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from flask import Flask

from bot.flow.model import Flow
from ivr import collector, warmup
from ivr.call.context import CallContext
from ivr.call.handover import HandoverBoard
from ivr.call.live import CallOpener, CallSettings
from ivr.call.switchboard import Lines, Switchboard
from ivr.call.watch import LiveCalls
from ivr.callbacks.desk import CallbackDesk
from ivr.callbacks.placed import PlacedCallbacks
from ivr.callbacks.policy import RULES
from ivr.callbacks.replies import TextReplies
from ivr.callbacks.spool import BookingSpool
from ivr.callbacks.worker import CallbackWorker, WorkerSettings
from ivr.config import ConfigurationError, check_config, env_name, model_paths
from ivr.flow_source import FlowSource
from ivr.nlu.connection import NLUConnection
from ivr.people.directory import AgentDirectory, DirectoryError
from ivr.people.roster import Roster
from ivr.people.staffing import Staffing
from ivr.store import (
    AgentStates,
    CallbackStore,
    SchemaOutOfDate,
    Store,
    StoreUnavailable,
    data_dir,
    database_url,
)
from ivr.twilio.dialer import TwilioDialer
from ivr.twilio.ringer import TwilioRinger
from ivr.wiring import provide
from voice.hearing import Hearing
from voice.prompt_cache import PromptCache
from voice.tts import Pyttsx3Synthesizer, SynthesisFailed

log = logging.getLogger(__name__)

#: Threads that understand callers' pauses, shared by every call of the process.
UNDERSTANDING_THREADS = 16


@dataclass
class Parts:
    """The shared parts of the running app (one per process)."""

    config: Mapping[str, Any]
    flows: FlowSource
    nlu: NLUConnection
    voice: PromptCache
    directory: AgentDirectory
    store: Store | None
    recognizers: Hearing
    board: HandoverBoard = field(default_factory=HandoverBoard)
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    prompts_ready: threading.Event = field(default_factory=threading.Event)
    speech_ready: threading.Event = field(default_factory=threading.Event)
    turns_ready: threading.Event = field(default_factory=threading.Event)  # a first turn rehearsed
    memory_settled: threading.Event = field(default_factory=threading.Event)  # see ivr.collector
    understanding: ThreadPoolExecutor = field(
        default_factory=lambda: ThreadPoolExecutor(UNDERSTANDING_THREADS, "understand")
    )
    calls: LiveCalls = field(init=False)  # this process's calls: their clocks and watchers
    _stop: threading.Event = field(default_factory=threading.Event)
    _store_lock: threading.Lock = field(default_factory=threading.Lock)
    _desk: CallbackDesk | None = None  # made on first use (it may start a Twilio client)

    def __post_init__(self) -> None:
        self.calls = LiveCalls(lambda: self.clock())  # read at each use: tests swap the clock

    def call_store(self) -> Store:
        """The store for a new call; reconnects if the database was down before.

        Raises:
            StoreUnavailable: the database still does not answer.
        """
        with self._store_lock:
            if self.store is None:
                url = database_url(str(self.config["DATABASE_URL"]) or None)
                self.store = Store(url)  # raises StoreUnavailable again while it is down
            return self.store

    @property
    def flow(self) -> Flow:
        """The flow new calls use (the last good version of the files)."""
        return self.flows.current

    def staffing(self) -> Staffing:
        """Who answers the current flow's queues, and who of them is away or busy."""
        return Staffing(self.flow, self.directory, self.roster)

    @property
    def roster(self) -> Roster:
        """Presence and busy agents; while the database is down, everyone counts as free."""
        return Roster(self._agent_states, tolerant=True)

    def _agent_states(self) -> AgentStates | None:
        # Read at each use, never waiting to reconnect: routing must not hold up a call.
        return AgentStates(self.store) if self.store is not None else None

    @property
    def desk(self) -> CallbackDesk:
        """Books and looks up callbacks."""
        if self._desk is None:
            self._desk = CallbackDesk(
                self.call_store,
                lambda: self.flow,
                lambda: self.clock(),  # read at each use: tests swap the clock
                texter=make_ringer(self.config),
                caller_id=str(self.config["CALLER_ID"]),
                spool=BookingSpool(spool_dir(self.config)),
            )
        return self._desk

    @property
    def context(self) -> CallContext:
        """What agents are told about calls."""
        return CallContext(self.call_store, lambda: self.clock())

    @property
    def switchboard(self) -> Switchboard:
        """Routes calls around the bot's stream."""
        return Switchboard(
            Lines(
                store=self.call_store,
                known_store=lambda: self.store,
                flow=lambda: self.flow,
                staffing=self.staffing,
                board=self.board,
                desk=self.desk,
                context=self.context,
                calls=self.calls,
                hearing=lambda: self.recognizers,
                dial_timeout=int(self.config["DIAL_TIMEOUT"]),
            )
        )

    @property
    def opener(self) -> CallOpener:
        """Builds each call's pipeline."""
        config = self.config
        return CallOpener(
            flow=lambda: self.flow,
            nlu=self.nlu,
            voice=self.voice,
            recognizers=lambda: self.recognizers,
            store=lambda: self.store,
            board=self.board,
            desk=self.desk,
            calls=self.calls,
            understanding=self.understanding,
            settings=call_settings(config),
        )

    def init_app(self, app: Flask) -> None:
        """Give ``app``'s handlers the roles they use, and stop the background work with it."""
        desk = self.desk
        provide(
            app,
            self,
            self.calls,
            self.switchboard,
            self.opener,
            PlacedCallbacks(
                desk.callbacks,
                lambda: self.flow,
                self.staffing,
                lambda: self.clock(),
                int(self.config["DIAL_TIMEOUT"]),
            ),
            TextReplies(desk.callbacks, lambda: self.flow, lambda: self.clock()),
            self.context,
            desk,
        )

    def start_background(self) -> None:
        """Warm the prompts and the recognisers, and watch the flow files."""
        warmup.warm_prompts(self.voice, self.flow, self.prompts_ready)
        if self.recognizers:
            count = int(self.config["ASR_WARM_RECOGNIZERS"])
            warmup.warm_recognizers(
                self.recognizers.pools(),
                self.voice,
                lambda: self.flow,
                self.prompts_ready,
                self.speech_ready,
                count,
            )
        warmup.rehearse(lambda: self.flow, self.nlu, self.turns_ready, self._stop)
        warmup.watch_flows(self.flows, self._stop, self._flow_changed)
        warm = [self.prompts_ready, self.turns_ready]
        if self.recognizers:
            warm.append(self.speech_ready)
        freeze = bool(self.config["GC_FREEZE"])
        warmup.settle_memory(warm, self.memory_settled, self._stop, freeze)

    def _flow_changed(self, flow: Flow) -> None:
        """An admin's edit was loaded: synthesise its new prompts before callers need them."""
        warmup.warm_prompts(self.voice, flow, self.prompts_ready)

    def close(self) -> None:
        """Stop background work and release what we started."""
        self._stop.set()
        collector.WATCH.uninstall()  # the process's one watch: another app here (tests) loses it
        if self._desk is not None:
            self._desk.close()
        self.nlu.close()
        self.understanding.shutdown(wait=False, cancel_futures=True)
        if self.store is not None:
            self.store.close()


def build_parts(config: Mapping[str, Any]) -> Parts:
    """Load the flows and connect every part; nothing here blocks for long.

    Raises:
        ConfigurationError: the configuration or the database's schema cannot be used.
    """
    check_config(config)
    flows = FlowSource(config["FLOWS"])
    recognizers = hearing(config, flows.current)
    synthesizer = Pyttsx3Synthesizer()
    check_voices(synthesizer, flows.current)
    parts = Parts(
        config=config,
        flows=flows,
        nlu=NLUConnection(config, flows.current),
        voice=PromptCache(synthesizer, Path(config["CACHE_DIR"]) / "tts"),
        directory=_directory(config),
        store=None,
        recognizers=recognizers,
    )
    try:
        parts.call_store()
    except StoreUnavailable as failure:
        log.error("database unavailable: calls get an apology and a person: %s", failure)
    except SchemaOutOfDate as error:
        raise ConfigurationError(str(error)) from None
    if BookingSpool(spool_dir(config)).pending():  # promised while the database was down
        parts.desk.replay_in_background()  # (the desk, and its Twilio client, only if so)
    return parts


@dataclass(frozen=True)
class WorkerRun:
    """A callback worker and the store it works on (closed by the caller)."""

    worker: CallbackWorker
    store: Store


def build_worker(config: Mapping[str, Any], flow: Flow, worker_id: str, batch: int) -> WorkerRun:
    """The callback worker for ``config``: the same checks and parts as the web app.

    Raises:
        ConfigurationError: no Twilio account, production without its settings, a bad
            ``IVR_AGENT_NUMBERS``, an unreachable database or one whose schema is behind.
    """
    check_config(config)  # the one production-credential check, as for the web app
    ringer = make_ringer(config)
    if ringer is None:
        raise ConfigurationError(
            f"{env_name('TWILIO_ACCOUNT_SID')} is not set; callbacks are placed through "
            "Twilio's REST API with that account"
        )
    try:
        store = Store(database_url(config["DATABASE_URL"]))
    except (StoreUnavailable, SchemaOutOfDate) as error:
        raise ConfigurationError(str(error)) from None
    settings = WorkerSettings(
        worker_id=worker_id,
        caller_id=str(config["CALLER_ID"]),
        lease_seconds=float(config["CALLBACK_LEASE_SECONDS"]),
        batch=batch,
        dial_timeout=int(config["DIAL_TIMEOUT"]),
    )
    states = AgentStates(store)  # strict: the delivery guarantee rests on reservations held
    staffing = Staffing(flow, _directory(config), Roster(lambda: states, tolerant=False))
    worker = CallbackWorker(CallbackStore(store, RULES), ringer, flow, staffing, settings)
    return WorkerRun(worker, store)


def call_settings(config: Mapping[str, Any]) -> CallSettings:
    """How each call takes turns and hears them, from the configuration."""
    return CallSettings(
        silence_ms=int(config["TURN_SILENCE_MS"]),
        confident_silence_ms=int(config["TURN_CONFIDENT_SILENCE_MS"]),
        barge_in_ms=int(config["BARGE_IN_MS"]),
        hold_ms=int(config["ASR_HOLD_MS"]),
        hold_from_calls=int(config["ASR_HOLD_FROM_CALLS"]),
        handover_ms=int(config["ASR_HANDOVER_MS"]),
    )


def make_ringer(config: Mapping[str, Any]) -> TwilioRinger | None:
    """The Twilio REST adapter, when an account is configured (callbacks and texts need one)."""
    account = str(config["TWILIO_ACCOUNT_SID"])
    if not account:
        return None
    public_url, token = check_config(config)
    dialer = TwilioDialer(account, token, str(config["TWILIO_API_URL"]))
    return TwilioRinger(dialer, public_url)


def spool_dir(config: Mapping[str, Any]) -> Path:
    """Where promised callbacks wait while the database is down (``IVR_SPOOL_DIR``)."""
    return Path(str(config["SPOOL_DIR"]) or data_dir() / "spool").expanduser()


def _directory(config: Mapping[str, Any]) -> AgentDirectory:
    try:
        return AgentDirectory.parse(str(config["AGENT_NUMBERS"]))
    except DirectoryError as error:
        raise ConfigurationError(str(error)) from None


def check_voices(synthesizer: Pyttsx3Synthesizer, flow: Flow) -> None:
    """Refuse to start when a flow language has no text-to-speech voice.

    Raises:
        ConfigurationError: naming the language (a caller must never hear silence instead).
    """
    for language in flow.languages:
        try:
            synthesizer.voice_for(language)
        except SynthesisFailed as error:
            raise ConfigurationError(
                f"no text-to-speech voice for the flow's language '{language}': {error}"
            ) from None


def hearing(config: Mapping[str, Any], flow: Flow) -> Hearing:
    """A speech model for each of the flow's languages that has one (never another's).

    ``IVR_VOSK_MODELS`` (``cs=/models/cs pl=/models/pl``) names a model per language;
    ``IVR_VOSK_MODEL`` is the default language's; the rest come from an installed model package
    or ``ivr models download``.
    """
    paths = model_paths(config, flow.languages, flow.default_language)
    deaf = [language for language, path in paths.items() if path is None]
    if deaf:
        log.warning(
            "no speech model for %s: those callers get the keypad and a person who speaks it",
            ", ".join(deaf),
            extra={"languages": deaf},
        )
    return Hearing.from_models(paths, max_idle=int(config["ASR_POOL_IDLE"]))
