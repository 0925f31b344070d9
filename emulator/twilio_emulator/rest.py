"""A stand-in for Twilio's REST API (2010-04-01): Calls and Messages, on a real local port.

    with TwilioRestEmulator(server_url=app_url, public_url="https://ivr.example.test",
                            callees={"+447700900001": AgentBehaviour("busy")}) as twilio:
        client = Client(twilio.account_sid, twilio.auth_token)
        client.api.base_url = twilio.url                       # the official client, unchanged
        sid = client.calls.create(to=..., from_=..., url=...).sid
        result = twilio.wait_for_call(sid, timeout=10)         # what was said, dialled, whispered

Requests need Basic auth with ``account_sid``/``auth_token`` (else 401, code 20003) and get
Twilio's JSON and error shapes (``rest_resources``, ``rest_lists``). Every request is recorded
with its arrival ``time.time()`` (:attr:`TwilioRestEmulator.requests`). Faults: :meth:`fail_next`
answers the next requests with an error, unprocessed; :meth:`drop_next` processes them (a call
is created) and closes the connection with no response, as when Twilio fails to answer. The
HTTP server, the request log and the faults are ``twilio_emulator.rest_http``.

With a web target (``server_url`` + ``public_url``, as :class:`TwilioEmulator` takes) each
created call is placed for real in a thread (``twilio_emulator.outbound``); without one, a call
ends at once with the status its callee's behaviour gives (benchmarks, store tests).
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from twilio_emulator.agent import AgentBehaviour
from twilio_emulator.call import TwilioEmulator
from twilio_emulator.caller import Step
from twilio_emulator.outbound import OutboundRun, answered_by
from twilio_emulator.rest_http import RestRequest, RestServer
from twilio_emulator.rest_lists import page, select_calls, select_messages
from twilio_emulator.rest_resources import (
    API_VERSION,
    TERMINAL,
    CallRecord,
    Form,
    MessageRecord,
    RestError,
    new_call,
    new_message,
    not_found,
)
from twilio_emulator.result import CallResult
from twilio_emulator.sids import new_sid

__all__ = ["RestRequest", "TwilioRestEmulator"]

log = logging.getLogger(__name__)

_ROUTE = re.compile(rf"^/{API_VERSION}/Accounts/(?P<account>[^/]+)/(?P<rest>.+)$")
_HANG_UP_WAIT = 5.0  # how long an update waits for the call to end before answering


class TwilioRestEmulator:
    """Twilio's REST API on ``127.0.0.1`` and a free port, for the official client.

    Args:
        account_sid: ``AC`` + 32 hex digits; a random one by default.
        auth_token: The account's token (Basic auth password, webhook signing key).
        server_url: Where the web server listens, to place calls for real (optional).
        public_url: The public base URL Twilio signs (defaults to ``server_url``).
        callees: What the phone at each number does (calls and ``<Dial>`` legs).
        default_callee: What every other phone does (answers at once).
        scripts: What the callee at a number does while a Media Stream is open.
        say_words_per_second: Pace of ``<Say>``; 0 takes no time (tests).
        max_call_seconds: A placed call's callee hangs up after this long.
        http_timeout: Twilio's limit for a webhook response.
        host: The interface to listen on.
        port: The port (0: a free one).
    """

    def __init__(
        self,
        *,
        account_sid: str | None = None,
        auth_token: str | None = None,
        server_url: str | None = None,
        public_url: str | None = None,
        callees: Mapping[str, AgentBehaviour] | None = None,
        default_callee: AgentBehaviour | None = None,
        scripts: Mapping[str, Sequence[Step]] | None = None,
        say_words_per_second: float = 2.5,
        max_call_seconds: float = 120.0,
        http_timeout: float = 15.0,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.account_sid = account_sid or new_sid("AC")
        self.auth_token = auth_token or new_sid("")
        self.voice: TwilioEmulator | None = None
        if server_url is not None:
            self.voice = TwilioEmulator(
                server_url,
                public_url or server_url,
                self.auth_token,
                self.account_sid,
                say_words_per_second=say_words_per_second,
                http_timeout=http_timeout,
            )
        self.callees = dict(callees or {})
        self.default_callee = default_callee or AgentBehaviour()
        self.scripts = {number: list(steps) for number, steps in (scripts or {}).items()}
        self.max_call_seconds = max_call_seconds
        self._lock = threading.Lock()
        self._ended = threading.Condition(self._lock)
        self._calls: dict[str, CallRecord] = {}
        self._messages: dict[str, MessageRecord] = {}
        self._runs: dict[str, OutboundRun] = {}
        self._results: dict[str, CallResult] = {}  # calls that ended at once (no web target)
        self._http = RestServer(
            self._route, self.account_sid, self.auth_token, host=host, port=port
        )
        self.url = self._http.url

    # --- life cycle -------------------------------------------------------------------------

    def start(self) -> TwilioRestEmulator:
        """Start answering requests."""
        self._http.start()
        return self

    def close(self) -> None:
        """Stop answering; hang up every call still running and wait for its thread."""
        self._http.close()
        with self._lock:
            runs = list(self._runs.values())
        for run in runs:
            run.hang_up()
        for run in runs:
            run.join(timeout=30)

    def __enter__(self) -> TwilioRestEmulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- what tests configure and read ------------------------------------------------------

    def set_callee(
        self, number: str, behaviour: AgentBehaviour, script: Sequence[Step] = ()
    ) -> None:
        """What the phone at ``number`` does from now on (and its Media Stream script)."""
        with self._lock:
            self.callees[number] = behaviour
            self.scripts[number] = list(script)

    def fail_next(
        self, n: int = 1, status: int = 500, code: int = 20500, method: str | None = None
    ) -> None:
        """Answer the next ``n`` requests (of ``method``, or any) with an error, unprocessed."""
        self._http.fail_next(n, status, code, method)

    def drop_next(self, n: int = 1, method: str | None = None) -> None:
        """Process the next ``n`` requests, then close the connection without answering."""
        self._http.drop_next(n, method)

    @property
    def requests(self) -> list[RestRequest]:
        """Every request so far, in arrival order."""
        return self._http.requests

    def requests_to(self, resource: str, method: str | None = None) -> list[RestRequest]:
        """Requests whose path ends with ``resource`` (``Calls.json``), of ``method`` if given."""
        return [
            r
            for r in self.requests
            if r.path.endswith("/" + resource) and (method is None or r.method == method)
        ]

    @property
    def calls(self) -> list[CallRecord]:
        """Every Call resource (copies), oldest first."""
        with self._lock:
            return [replace(record) for record in self._calls.values()]

    @property
    def messages(self) -> list[MessageRecord]:
        """Every Message resource (copies), oldest first."""
        with self._lock:
            return [replace(record) for record in self._messages.values()]

    def call(self, sid: str) -> CallRecord:
        """One Call resource (a copy).

        Raises:
            KeyError: No such call.
        """
        with self._lock:
            return replace(self._calls[sid])

    def wait_for_call(self, sid: str, timeout: float = 30.0) -> CallResult:
        """The emulated call's record once it is over: what was said, dialled, whispered.

        Raises:
            KeyError: No such call.
            TimeoutError: Still going after ``timeout`` seconds.
        """
        with self._lock:
            run = self._runs.get(sid)
            if run is None:
                return self._results[sid]
        return run.wait(timeout)

    # --- routing ----------------------------------------------------------------------------

    def _route(self, method: str, path: str, form: Form) -> tuple[int, dict[str, Any]]:
        match = _ROUTE.match(path)
        if match is None or match["account"] != self.account_sid:
            raise not_found(path)
        rest = match["rest"]
        handlers = {
            ("Calls.json", "GET"): lambda: self._list_calls(path, form),
            ("Calls.json", "POST"): lambda: self._create_call(form),
            ("Messages.json", "GET"): lambda: self._list_messages(path, form),
            ("Messages.json", "POST"): lambda: self._create_message(form),
        }
        if (rest, method) in handlers:
            return handlers[rest, method]()
        sid_match = re.fullmatch(r"(Calls|Messages)/(\w+)\.json", rest)
        if sid_match is None:
            if rest in ("Calls.json", "Messages.json"):
                raise RestError(405, 20004, "Method not allowed")
            raise not_found(path)
        kind, sid = sid_match.groups()
        with self._lock:
            record: CallRecord | MessageRecord | None = (
                self._calls if kind == "Calls" else self._messages
            ).get(sid)
        if record is None:
            raise not_found(path)
        if method == "GET":
            return 200, self._snapshot(record)
        if method == "POST" and isinstance(record, CallRecord):
            return 200, self._update_call(record, form)
        raise RestError(405, 20004, "Method not allowed")

    def _snapshot(self, record: CallRecord | MessageRecord) -> dict[str, Any]:
        with self._lock:
            return record.to_json()

    # --- Calls ------------------------------------------------------------------------------

    def _list_calls(self, path: str, form: Form) -> tuple[int, dict[str, Any]]:
        with self._lock:
            chosen = select_calls(self._calls.values(), form)
            return 200, page(chosen, form, path, "calls")

    def _create_call(self, form: Form) -> tuple[int, dict[str, Any]]:
        record = new_call(self.account_sid, form, datetime.now(UTC))
        with self._lock:
            self._calls[record.sid] = record
            body = record.to_json()  # queued, as Twilio answers; the call moves on after
            callee = self.callees.get(record.to, self.default_callee)
            script = self.scripts.get(record.to, ())
        log.info("call %s created to %s", record.sid, record.to, extra={"call_id": record.sid})
        if self.voice is None:
            self._end_at_once(record, callee)
            return 201, body
        run = OutboundRun(
            self.voice,
            record,
            callee=callee,
            on_change=self._change_call,
            agents=self.callees,
            agent_default=self.default_callee,
            script=script,
            max_seconds=self.max_call_seconds,
        )
        with self._lock:
            self._runs[record.sid] = run
        run.start()
        return 201, body

    def _end_at_once(self, record: CallRecord, callee: AgentBehaviour) -> None:
        """No web target: the call ends as its callee's behaviour says, with no time passing."""
        status = "completed" if callee.picks_up else callee.answer
        verdict = answered_by(record.machine_detection, callee) if callee.picks_up else None
        now = datetime.now(UTC)
        fields = {"status": status, "start_time": now, "end_time": now, "duration": 0}
        self._change_call(record.sid, {**fields, "answered_by": verdict})
        result = CallResult(record.sid, self.account_sid, time.monotonic(), status=status)
        result.ended_at = result.started_at
        with self._lock:
            self._results[record.sid] = result

    def _change_call(self, sid: str, fields: dict[str, Any]) -> None:
        with self._ended:
            record = self._calls[sid]
            if record.status in TERMINAL and "status" in fields:
                fields = {k: v for k, v in fields.items() if k != "status"}
            for name, value in fields.items():
                setattr(record, name, value)
            record.date_updated = datetime.now(UTC)
            self._ended.notify_all()

    def _update_call(self, record: CallRecord, form: Form) -> dict[str, Any]:
        if form.get("Url") is not None or form.get("Twiml") is not None:
            raise RestError(400, 20001, "The emulator cannot redirect a live call (Url, Twiml)")
        status = form.get("Status")
        if status is not None and status not in ("canceled", "completed"):
            raise RestError(400, 20001, f"Status must be canceled or completed, not {status}")
        with self._lock:
            run = self._runs.get(record.sid)
            current = record.status
        if status is None or current in TERMINAL:
            return self._snapshot(record)
        if run is None:  # not placed (no web target): nothing is running to end
            self._change_call(record.sid, {"status": "canceled", "end_time": datetime.now(UTC)})
            return self._snapshot(record)
        if status == "canceled":
            if not run.cancel():  # no effect once answered
                return self._snapshot(record)
        else:
            run.hang_up()
        with self._ended:
            self._ended.wait_for(lambda: record.status in TERMINAL, timeout=_HANG_UP_WAIT)
            return record.to_json()

    # --- Messages ---------------------------------------------------------------------------

    def _list_messages(self, path: str, form: Form) -> tuple[int, dict[str, Any]]:
        with self._lock:
            chosen = select_messages(self._messages.values(), form)
            return 200, page(chosen, form, path, "messages")

    def _create_message(self, form: Form) -> tuple[int, dict[str, Any]]:
        record = new_message(self.account_sid, form, datetime.now(UTC))
        with self._lock:
            self._messages[record.sid] = record
            body = record.to_json()
            # Sent at once: the emulator has no carrier to wait for.
            record.status = "sent"
            record.date_sent = record.date_updated = datetime.now(UTC)
        log.info("message %s to %s", record.sid, record.to)
        return 201, body
