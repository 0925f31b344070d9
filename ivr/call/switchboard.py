"""What happens to a call around the bot's stream: answered, handed over, rung, ended.

Each method takes one event of :mod:`ivr.telephony` and returns a :data:`Route` (the bot's
stream, a person, or a goodbye) that the telephony edge renders. Every route ends with a
person, a callback booking or a deliberate goodbye, never silence; a failing database or a
missing speech model still puts the caller through to a person.

Busy means busy: an agent about to be rung is reserved for the call first (the staffing's
:class:`~ivr.people.roster.Roster`); one another call or callback holds already is skipped for
the next free agent. They are on the call once they answer, and free again when the dial or
the call ends.

Languages: only agents who speak the call's language are rung (the staffing
:meth:`~ivr.people.staffing.Staffing.speaking` it); with none of them free, the caller is offered
a callback, never put through to someone who cannot understand them. The agent's whisper is in
the agent's own language.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta

from bot.flow.model import Flow
from ivr.call import next_step
from ivr.call.context import CallContext
from ivr.call.handover import Handover, HandoverBoard
from ivr.call.language import first_language
from ivr.call.next_step import DialPerson, EndCall, NextStep, OfferCallback
from ivr.call.recorder import CallRecorder
from ivr.call.watch import LiveCalls
from ivr.callbacks.desk import CallbackDesk
from ivr.people import whispers
from ivr.people.staffing import LastAgent, Staffing
from ivr.speech import Speech, system_prompt
from ivr.store import Store, StoreUnavailable
from ivr.telephony import CallArrived, DialEnded, PersonAnswered, StatusChanged, StreamEnded
from voice.hearing import Hearing

log = logging.getLogger(__name__)

#: A reservation outlasts the ring (``dial_timeout``) by this much: the apology said first.
RING_MARGIN = timedelta(seconds=30)
#: An agent who answered counts as busy until the call ends, or at most this long.
ON_CALL_LIMIT = timedelta(hours=4)


@dataclass(frozen=True)
class ToBot:
    """Open the bot's stream; ``parameters`` come back with the stream's start."""

    parameters: Mapping[str, str]


@dataclass(frozen=True)
class ToPerson:
    """Say ``apology`` (if any), then ring ``address`` for ``queue`` for ``timeout`` seconds.

    ``agent`` is the agent id when known; ``tried`` the agent ids rung so far for the call.
    """

    call_id: str
    address: str
    queue: str | None
    timeout: int
    apology: Speech | None = None
    agent: str | None = None
    tried: tuple[str, ...] = ()


@dataclass(frozen=True)
class Goodbye:
    """Say each sentence, then end the call."""

    say: tuple[Speech, ...] = ()


Route = ToBot | ToPerson | Goodbye


@dataclass(frozen=True)
class Lines:
    """What the switchboard works with (built once per process by :mod:`ivr.parts`)."""

    store: Callable[[], Store]  # reconnects; raises StoreUnavailable while the database is down
    known_store: Callable[[], Store | None]  # the store if connected (never waits to reconnect)
    flow: Callable[[], Flow]
    staffing: Callable[[], Staffing]
    board: HandoverBoard
    desk: CallbackDesk
    context: CallContext
    calls: LiveCalls  # the time as each call sees it, and who watches it
    hearing: Callable[[], Hearing]  # the speech models, by language
    dial_timeout: int


class Switchboard:
    """Routes calls between the bot, people and callbacks."""

    def __init__(self, lines: Lines) -> None:
        self.lines = lines

    def arrived(self, event: CallArrived) -> Route:
        """A call came in: to the bot, or (database or speech model down) to a person."""
        lines, call_id = self.lines, event.call_id
        now = lines.calls.now(call_id)
        language = first_language(
            lines.flow(),
            lines.known_store(),
            call_id=call_id,
            caller=event.caller,
            called=event.called,
            now=now,
        ).language
        failure = None
        try:
            lines.store().call_started(
                call_id,
                caller=event.caller,
                called=event.called,
                started_at=now,
                language=language,
            )
        except StoreUnavailable as error:
            failure = "database_unavailable"
            log.error(
                "database unavailable at call start",
                extra={"call_id": call_id, "error": str(error)},
            )
        hearing = lines.hearing()
        if not hearing.can_hear(language) and not lines.calls.typing(call_id):
            # With no model at all speech is broken; a language without one is by design.
            failure = failure or ("language_not_heard" if hearing else "asr_unavailable")
            log.error(
                "no speech model for the call's language: apology and a person",
                extra={"call_id": call_id, "language": language},
            )
        if failure is not None:
            return self._without_bot(event, failure, language)
        if event.caller_name:
            self._recorder(call_id).event("caller_name", {"name": event.caller_name})
        log.info("call answered", extra={"call_id": call_id, "caller": event.caller})
        return ToBot(
            {"caller": event.caller or "", "called": event.called or "", "language": language}
        )

    def _without_bot(self, event: CallArrived, failure: str, language: str) -> Route:
        """The bot cannot take the call: an apology in the caller's language and a person."""
        lines, call_id = self.lines, event.call_id
        handover = Handover(
            "transfer", failure, apologise=True, caller=event.caller, language=language
        )
        lines.board.put(call_id, handover)
        # Stored too: the dial's answer may reach another process, which must know the language.
        self._recorder(call_id).event("handover", handover.as_data())
        now = lines.calls.now(call_id)
        step = self._reserved(
            call_id,
            lines.staffing().speaking(language),
            lambda s: next_step.after_stream(handover, s, now),
        )
        return self._settle(step, call_id, language, event.caller, event.called)

    def stream_ended(self, event: StreamEnded) -> Route:
        """The bot's stream closed: carry out its handover (or a person, if it left none)."""
        handover = self.handover(event.call_id)
        if handover is None:
            log.error("stream ended without a handover", extra={"call_id": event.call_id})
        last = self.last_agent(event.caller, event.call_id) if event.caller else None
        lines, now = self.lines, self.lines.calls.now(event.call_id)
        language = handover.language if handover else None
        step = self._reserved(
            event.call_id,
            lines.staffing().speaking(language),  # only agents who understand the caller
            lambda s: next_step.after_stream(handover, s, now, last),
        )
        log.info("after stream", extra={"call_id": event.call_id, "next": type(step).__name__})
        return self._settle(step, event.call_id, language, event.caller, event.called)

    def person_answered(self, event: PersonAnswered) -> Speech:
        """A person picked up a transfer: the whisper they hear before the caller joins."""
        self._recorder(event.call_id).person_answered(event.agent)
        staffing = self.lines.staffing()
        if staffing.roster is not None and event.agent in staffing.flow.agents:
            now = self.lines.calls.now(event.call_id)
            staffing.roster.on_call(event.agent, now, now + ON_CALL_LIMIT, call_id=event.call_id)
        handover = self.handover(event.call_id)
        language = staffing.agent_language(event.agent)  # the agent's, not the caller's
        text = self.lines.context.whisper(
            event.call_id, handover, language=language, flow=staffing.flow
        )
        return Speech(text, whispers.spoken_in(language))

    def dial_ended(self, event: DialEnded) -> Route:
        """Ringing people ended: done, one more agent, or a callback."""
        lines = self.lines
        self._recorder(event.call_id).event(
            "dial",
            {
                "outcome": str(event.outcome),
                "queue": event.queue,
                "agent_call": event.person_call_id,
            },
        )
        handover = self.handover(event.call_id)
        language = handover.language if handover else None
        staffing, now = lines.staffing().speaking(language), lines.calls.now(event.call_id)
        if staffing.roster is not None:
            staffing.roster.release(call_id=event.call_id)  # nobody rings for it any more
        step = self._reserved(
            event.call_id,
            staffing,
            lambda s: next_step.after_dial(event.outcome, event.queue, s, now, event.tried),
        )
        return self._settle(step, event.call_id, language, event.caller, event.called)

    def status_changed(self, event: StatusChanged) -> None:
        """The call's status changed; a final one ends the call's record."""
        lines = self.lines
        try:
            lines.store().call_ended(
                event.call_id, ended_at=lines.calls.now(event.call_id), status=str(event.status)
            )
        except StoreUnavailable as error:
            log.warning(
                "call end not stored", extra={"call_id": event.call_id, "error": str(error)}
            )
        if event.status.final:
            lines.board.forget(event.call_id)
            lines.calls.forget(event.call_id)
            roster = lines.staffing().roster
            if roster is not None:
                roster.release(call_id=event.call_id)

    def handover(self, call_id: str) -> Handover | None:
        """The call's handover: this process's board, else the store (another process ran it)."""
        handover = self.lines.board.get(call_id)
        store = self.lines.known_store()
        if handover is not None or store is None:
            return handover
        try:
            record = store.get_call(call_id)
        except StoreUnavailable:
            return None
        events = [e for e in (record.events if record else ()) if e.kind == "handover"]
        return Handover.from_data(events[-1].data) if events else None

    def last_agent(self, caller: str, call_id: str) -> LastAgent | None:
        """Who answered this caller's latest earlier call (within the longest sticky window)."""
        flow = self.lines.flow()
        days = max((q.same_agent_days for q in flow.queues.values()), default=0)
        if days <= 0:
            return None
        now = self.lines.calls.now(call_id)
        try:
            earlier = self.lines.store().calls_from(
                caller, since=now - timedelta(days=days), exclude=call_id
            )
        except StoreUnavailable:
            return None
        for call in earlier:
            if call.agent:
                return LastAgent(call.agent, (now - call.started_at).total_seconds() / 86400)
        return None

    def _reserved(
        self, call_id: str, staffing: Staffing, decide: Callable[[Staffing], NextStep]
    ) -> NextStep:
        """``decide``'s step, with the agent it rings reserved for ``call_id``.

        An agent another call or callback took meanwhile is skipped and the step decided again
        without them: the next free agent, or (nobody left) the callback offer.
        """
        step = decide(staffing)
        roster = staffing.roster
        now = self.lines.calls.now(call_id)
        until = now + timedelta(seconds=self.lines.dial_timeout) + RING_MARGIN
        while isinstance(step, DialPerson) and step.agent and roster is not None:
            if roster.reserve(step.agent, now, until, call_id=call_id):
                break
            log.info("agent busy, next one", extra={"call_id": call_id, "agent": step.agent})
            staffing = staffing.excluding({step.agent})
            step = decide(staffing)
        return step

    def _settle(
        self,
        step: NextStep,
        call_id: str,
        language: str | None,
        caller: str | None,
        called: str | None,
    ) -> Route:
        """Carry out ``step``'s side of things (records, a booking) and say where the call goes."""
        lines, flow = self.lines, self.lines.flow()
        match step:
            case DialPerson():
                self._recorder(call_id).person_rung()
                apology = system_prompt(flow, step.apology, language) if step.apology else None
                return ToPerson(
                    call_id,
                    step.number,
                    step.queue,
                    lines.dial_timeout,
                    apology,
                    step.agent,
                    step.tried,
                )
            case OfferCallback():
                self._recorder(call_id).event(
                    "callback_offered", {"queue": step.queue, "reason": step.reason}
                )
                if step.converse and lines.hearing().can_hear(language or flow.default_language):
                    return ToBot(_offer(flow, step, caller, called, language))
                # Our voice cannot book it: the network apologises, we book the earliest time.
                lines.desk.book_earliest(call_id, caller, step.queue, step.reason, language)
                return Goodbye(tuple(system_prompt(flow, p, language) for p in step.prompts))
            case EndCall():
                return Goodbye(tuple(system_prompt(flow, p, language) for p in step.prompts))
        raise TypeError(f"not a next step: {step!r}")

    def _recorder(self, call_id: str) -> CallRecorder:
        calls = self.lines.calls
        return CallRecorder(
            self.lines.known_store(),
            call_id,
            calls.clock(call_id),
            publish=calls.publisher(call_id),
        )


def _offer(
    flow: Flow, step: OfferCallback, caller: str | None, called: str | None, language: str | None
) -> dict[str, str]:
    """The stream parameters that start the bot on booking a callback (a transfer rang out)."""
    return {
        "caller": caller or "",
        "called": called or "",
        "language": language or flow.default_language,
        "offer_queue": step.queue or flow.escalation.person_queue,
        "offer_reason": step.reason,
        "offer_prompt": step.prompts[-1] if step.prompts else "",
    }
