"""Short-lived passes that open the Media Streams socket without Twilio's signature.

The browser phone (:mod:`ivr.browser_phone`) is not Twilio and cannot sign like it: its server
issues one pass per stream, bound to the call, valid for :data:`PASS_SECONDS` and used once.
Only a process that runs the browser phone has a :class:`StreamPasses` at all, so in
production (where it is off unless an admin turns it on) a pass opens nothing.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable

from itsdangerous import BadSignature, URLSafeTimedSerializer

#: The query parameter the pass travels in (a browser's WebSocket cannot set headers).
PASS_PARAMETER = "pass"
#: How long a pass opens the socket after it was issued.
PASS_SECONDS = 60


class StreamPasses:
    """Issues and checks the passes, signed with the app's secret key."""

    def __init__(self, secret: str, clock: Callable[[], float] = time.time) -> None:
        self._signer = URLSafeTimedSerializer(secret, salt="ivr.stream-pass")
        self._clock = clock
        self._used: dict[str, float] = {}  # nonce -> when it stops mattering
        self._lock = threading.Lock()

    def issue(self, call_id: str) -> str:
        """A pass for one stream of ``call_id``."""
        return self._signer.dumps({"call": call_id, "nonce": secrets.token_urlsafe(12)})

    def admit(self, token: str | None, now: float | None = None) -> str | None:
        """The call id a valid, unexpired, unused pass names; ``None`` for anything else."""
        if not token:
            return None
        now = self._clock() if now is None else now
        try:
            claims, issued = self._signer.loads(token, return_timestamp=True)
        except BadSignature:
            return None
        age = now - issued.timestamp()
        if not isinstance(claims, dict) or not 0 <= age <= PASS_SECONDS:
            return None
        nonce, call_id = str(claims.get("nonce")), claims.get("call")
        with self._lock:
            self._used = {n: t for n, t in self._used.items() if t > now}
            if nonce in self._used or not isinstance(call_id, str):
                return None
            self._used[nonce] = now + PASS_SECONDS + 1
        return call_id
