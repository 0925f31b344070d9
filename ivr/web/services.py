"""Everything a call needs, built once per process from the configuration.

Slow parts never hold up start-up: the NLU server (minutes, if we must train and start one),
prompt synthesis and the speech model load in the background. Until the NLU answers, callers
who speak get the engine's apology and a person; ``/healthz`` says "not ready" meanwhile.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.flow.model import Flow
from bot.nlu.rasa import RasaNLU
from bot.nlu.result import NLUResult, NLUUnavailable
from ivr.call.context import CallContext
from ivr.people.directory import AgentDirectory
from ivr.call.handover import Handover, HandoverBoard
from ivr.people.staffing import LastAgent, Staffing
from ivr.callbacks.spool import BookingSpool
from ivr.flow_source import FlowSource
from ivr.store import Store, StoreUnavailable, data_dir, database_url
from voice import asr
from voice.listener import Listener
from voice.prompt_cache import PromptCache, static_prompts
from voice.tts import Pyttsx3Synthesizer

if TYPE_CHECKING:
    from ivr.callbacks.desk import CallbackDesk
    from ivr.twilio.dialer import Dialer

log = logging.getLogger(__name__)


class NLUConnection:
    """The NLU as calls see it: a client of the configured server, or of one we start.

    ``parse`` raises :class:`NLUUnavailable` while no server is ready, so calls in the first
    minute still reach a person.
    """

    def __init__(self, config: Mapping[str, Any], flow: Flow) -> None:
        self._config = config
        self._client: RasaNLU | None = None
        self._handle: Any = None
        self._failed: str | None = None
        self._ready = threading.Event()
        if config["NLU_URL"]:
            self._client = RasaNLU(
                str(config["NLU_URL"]), str(config["NLU_TOKEN"]), float(config["NLU_TIMEOUT"])
            )
            self._ready.set()
        else:
            threading.Thread(
                target=self._start_server, args=(flow,), name="nlu-start", daemon=True
            ).start()

    def _start_server(self, flow: Flow) -> None:
        from ivr.nlu.service import ensure_nlu_server

        try:
            self._handle = ensure_nlu_server(self._config, flow, progress=None)
            self._client = self._handle.client(timeout=float(self._config["NLU_TIMEOUT"]))
            log.info("nlu server ready", extra={"url": self._handle.url})
        except Exception as failure:  # training or start-up failed: calls go to people
            self._failed = str(failure)
            log.exception("nlu server could not be started; callers will reach people")
        finally:
            self._ready.set()

    def wait(self, timeout: float | None = None) -> bool:
        """Wait until a client exists (or starting one failed)."""
        return self._ready.wait(timeout) and self._client is not None

    def parse(self, text: str) -> NLUResult:
        """Understand ``text`` with the server; :class:`NLUUnavailable` when there is none."""
        if self._client is None:
            raise NLUUnavailable(self._failed or "the NLU server is still starting")
        return self._client.parse(text)

    def is_ready(self) -> bool:
        """Whether the server answers and has a model."""
        return self._client is not None and self._client.is_ready()

    @property
    def url(self) -> str | None:
        """The server's address, once known."""
        return self._client.url if self._client is not None else None

    def close(self) -> None:
        """Close the client and stop a server we started."""
        if self._client is not None:
            self._client.close()
        if self._handle is not None and self._handle.owned:
            self._handle.stop()


@dataclass
class Services:
    """The shared parts of the running app (one per process)."""

    config: Mapping[str, Any]
    flows: FlowSource
    nlu: NLUConnection
    voice: PromptCache
    directory: AgentDirectory
    store: Store | None
    recognizers: asr.VoskRecognizerPool | None
    board: HandoverBoard = field(default_factory=HandoverBoard)
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    prompts_ready: threading.Event = field(default_factory=threading.Event)
    speech_ready: threading.Event = field(default_factory=threading.Event)
    _stop: threading.Event = field(default_factory=threading.Event)
    _store_lock: threading.Lock = field(default_factory=threading.Lock)
    _desk: CallbackDesk | None = None  # made on first use

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
        """Who answers the current flow's queues."""
        return Staffing(self.flow, self.directory)

    @property
    def desk(self) -> CallbackDesk:
        """Books and looks up callbacks."""
        if self._desk is None:
            from ivr.callbacks.desk import CallbackDesk

            self._desk = CallbackDesk(
                self.call_store,
                lambda: self.flow,
                lambda: self.clock(),  # read at each use: tests and the console swap the clock
                dialer=make_dialer(self.config),
                caller_id=str(self.config["CALLER_ID"]),
                spool=BookingSpool(spool_dir(self.config)),
            )
        return self._desk

    @property
    def context(self) -> CallContext:
        """What agents are told about calls."""
        return CallContext(self.call_store, self.clock)

    def handover(self, call_id: str) -> Handover | None:
        """The call's handover: this process's board, else the store (another process ran it)."""
        handover = self.board.get(call_id)
        if handover is not None or self.store is None:
            return handover
        try:
            record = self.store.get_call(call_id)
        except StoreUnavailable:
            return None
        events = [e for e in (record.events if record else ()) if e.kind == "handover"]
        return Handover.from_data(events[-1].data) if events else None

    def last_agent(self, caller: str, call_id: str) -> LastAgent | None:
        """Who answered this caller's latest earlier call (within the longest sticky window)."""
        days = max((q.same_agent_days for q in self.flow.queues.values()), default=0)
        if days <= 0:
            return None
        now = self.clock()
        try:
            earlier = self.call_store().calls_from(
                caller, since=now - timedelta(days=days), exclude=call_id
            )
        except StoreUnavailable:
            return None
        for call in earlier:
            if call.agent:
                return LastAgent(call.agent, (now - call.started_at).total_seconds() / 86400)
        return None

    def close(self) -> None:
        """Stop background work and release what we started."""
        self._stop.set()
        if self._desk is not None:
            self._desk.close()
        self.nlu.close()
        if self.store is not None:
            self.store.close()

    def watch_flows(self, poll_seconds: float = 2.0) -> None:
        """Reload the flows when their files change; re-warm the prompt audio."""

        def loop() -> None:
            while not self._stop.wait(poll_seconds):
                try:
                    self.flows.refresh()
                except Exception:  # a watcher must outlive one bad read
                    log.exception("flow reload failed; keeping the last good flow")

        self.flows.on_change(lambda flow: self.warm_prompts(flow))
        threading.Thread(target=loop, name="flow-watch", daemon=True).start()

    def load_speech_model(self, recognizers: int = 2) -> threading.Thread | None:
        """Load the Vosk model and warm ``recognizers`` recognisers in the background.

        A new recogniser decodes its first utterances at about real time while Vosk expands
        its graph; running the flow's own prompts through it first spares the first callers.
        """
        pool = self.recognizers
        if pool is None:
            return None

        def load() -> None:
            try:
                warm()
            finally:
                self.speech_ready.set()

        def warm() -> None:
            self.prompts_ready.wait(120)
            cached = [say for say in static_prompts(self.flow) if say in self.voice]
            speech = [self.voice.get(say) for say in cached[:2]]
            warmed = [pool.acquire() for _ in range(recognizers)]

            def hear_prompts(recognizer: asr.VoskRecognizer) -> None:
                listener = Listener(recognizer)
                for audio in speech:
                    listener.feed(audio + b"\xff" * 8000)  # the prompt, then a second of silence

            with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as workers:
                list(workers.map(hear_prompts, warmed))
            for recognizer in warmed:
                pool.release(recognizer)
            log.info("speech model ready", extra={"recognizers": len(warmed)})

        thread = threading.Thread(target=load, name="asr-load", daemon=True)
        thread.start()
        return thread

    def warm_prompts(self, flow: Flow | None = None) -> threading.Thread:
        """Synthesise the flow's static prompts in the background."""

        def warm() -> None:
            try:
                self.voice.warm(flow or self.flow)
            finally:
                self.prompts_ready.set()

        thread = threading.Thread(target=warm, name="tts-warm", daemon=True)
        thread.start()
        return thread


def make_dialer(config: Mapping[str, Any]) -> Dialer | None:
    """The Twilio REST dialer, when an account is configured (callbacks and texts need one)."""
    from ivr.twilio.dialer import TwilioDialer

    account = str(config["TWILIO_ACCOUNT_SID"])
    if not account:
        return None
    return TwilioDialer(account, str(config["TWILIO_AUTH_TOKEN"]), str(config["TWILIO_API_URL"]))


def build_services(config: Mapping[str, Any]) -> Services:
    """Load the flows and connect every part; nothing here blocks for long."""
    flows = FlowSource(config["FLOWS"])
    flow = flows.current
    directory = AgentDirectory.parse(str(config["AGENT_NUMBERS"]))
    model_path = asr.resolve_model_path(
        str(config.get("VOSK_MODEL") or "") or None, lang=str(config.get("VOSK_LANG") or "en-us")
    )
    recognizers = (
        asr.VoskRecognizerPool(model_path, max_idle=int(config["ASR_POOL_IDLE"]))
        if model_path is not None
        else None
    )
    if recognizers is None:
        log.error("no speech model: calls get an apology and a person. %s", asr.INSTALL_HINT)
    voice = PromptCache(Pyttsx3Synthesizer(), Path(config["CACHE_DIR"]) / "tts")
    services = Services(
        config=config,
        flows=flows,
        nlu=NLUConnection(config, flow),
        voice=voice,
        directory=directory,
        store=None,
        recognizers=recognizers,
    )
    try:
        services.call_store()
    except StoreUnavailable as failure:
        log.error("database unavailable: calls get an apology and a person: %s", failure)
    if BookingSpool(spool_dir(config)).pending():  # promised while the database was down
        services.desk.replay_in_background()  # (the desk, and its Twilio client, only if so)
    return services


def spool_dir(config: Mapping[str, Any]) -> Path:
    """Where promised callbacks wait while the database is down (``IVR_SPOOL_DIR``)."""
    return Path(str(config["SPOOL_DIR"]) or data_dir() / "spool").expanduser()
