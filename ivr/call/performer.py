"""Carrying out the engine's actions for one call: speak, book, cancel, and say what follows.

:meth:`ActionPerformer.perform` plays each ``Say`` (cached prompt audio, then a mark so the
pipeline learns when it has played), books or cancels callbacks, and returns what the caller
is left with: a question to answer (``Listen``) or a :class:`~ivr.call.handover.Handover`.
It changes no call state itself; the pipeline applies the result.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from bot.dialogue import Reply
from bot.engine import Session
from bot.engine.actions import CancelCallback, Listen, Say, ScheduleCallback
from ivr.call.handover import Handover
from ivr.call.outbox import Outbox
from ivr.call.playback import Playback
from ivr.call.recorder import CallRecorder
from ivr.call.timing import TurnTiming
from ivr.callbacks.desk import CallbackDesk
from voice.prompt_cache import PromptCache


@dataclass(frozen=True)
class Performed:
    """What a reply left the caller with: a question (``listen``) or a ``handover``."""

    listen: Listen | None = None
    handover: Handover | None = None


@dataclass(frozen=True)
class CallParties:
    """Who is on the call: the caller's number and the number they called."""

    caller: str | None = None
    called: str | None = None


class ActionPerformer:
    """Performs one call's actions. Not thread-safe: the call's thread uses it."""

    def __init__(
        self,
        call_id: str,
        voice: PromptCache,
        outbox: Outbox,
        playback: Playback,
        recorder: CallRecorder,
        desk: CallbackDesk | None = None,
    ) -> None:
        self.call_id = call_id
        self.voice = voice
        self.outbox = outbox
        self.playback = playback
        self.recorder = recorder
        self.desk = desk

    def perform(
        self, reply: Reply, session: Session, parties: CallParties, timing: TurnTiming
    ) -> Performed:
        """Carry out ``reply``'s actions in order; the first audio is timed into ``timing``.

        Raises:
            voice.tts.SynthesisFailed: a prompt could not be spoken (the pipeline apologises).
        """
        step_done = time.perf_counter()
        listen: Listen | None = None
        handover: Handover | None = None
        first_audio = True
        for action in reply.actions:
            if isinstance(action, Say):
                self._say(action, timing if first_audio else None, step_done)
                first_audio = False
            elif isinstance(action, Listen):
                listen = action
            elif isinstance(action, CancelCallback):
                self._cancel(action)
            else:
                if isinstance(action, ScheduleCallback):
                    self._book(action, session, parties)
                handover = (
                    Handover.from_action(
                        action,
                        language=session.language,
                        caller=parties.caller,
                        slots=session.slots,
                    )
                    or handover
                )
        return Performed(None if handover else listen, handover)

    def _say(self, say: Say, timing: TurnTiming | None, since: float) -> None:
        audio = self.voice.get(say)
        sent_from = timing.lap("tts", since) if timing else 0.0
        self.recorder.said(say.text, say.prompt_id or "")
        self.outbox.play(audio)
        self.outbox.mark(self.playback.sent(say.prompt_id))
        if timing:
            timing.lap("send", sent_from)

    def _cancel(self, action: CancelCallback) -> None:
        if self.desk is not None:
            self.desk.cancel(action.callback_id, by=f"call:{self.call_id}")
        self.recorder.event("callback_cancelled", {"callback_id": action.callback_id})

    def _book(self, action: ScheduleCallback, session: Session, parties: CallParties) -> None:
        booked = (
            self.desk.book(
                action,
                call_id=self.call_id,
                caller=parties.caller,
                called=parties.called,
                language=session.language,
                slots=session.slots,
                promised=True,  # the caller has just heard it confirmed
            )
            if self.desk is not None
            else None
        )
        self.recorder.event(
            "callback_booked",
            {
                "callback_id": booked.id if booked else None,  # None: spooled or only logged
                "queue": action.queue,
                "at": action.at,
                "number": action.number or parties.caller,
                "reason": action.reason,
            },
        )
