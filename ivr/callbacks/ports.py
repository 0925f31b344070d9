"""What callbacks need from the phone network: ring somebody, find a call, send a text.

The worker and the desk talk to these small protocols; :mod:`ivr.twilio.ringer` implements
them over Twilio's REST API (and knows the routes Twilio must call back), tests may use the
same Twilio adapter against the REST emulator.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True)
class Ring:
    """The first leg of a placed callback.

    Args:
        callback_id: The callback this call belongs to (the answer is routed by it).
        to: The number (E.164) or ``sip:``/``client:`` address to ring.
        from_: Our caller ID.
        screen_for_machine: Tell an answering machine from a person (customer first).
        timeout: Seconds to let it ring.
    """

    callback_id: str
    to: str
    from_: str
    screen_for_machine: bool = False
    timeout: int = 20


class DialerError(Exception):
    """A request to the phone network that failed.

    Attributes:
        code: The provider's error code, or ``None`` without an answer.
        status: The HTTP status, or ``None`` without an answer.
        message: What went wrong.
        retryable: Whether the same request may succeed later (5xx, 429, network).
        unknown_outcome: The request may have been carried out though no answer came: a call
            may exist, so ask :meth:`Ringer.find_rings` before ringing again.
    """

    def __init__(
        self,
        message: str,
        *,
        code: int | None = None,
        status: int | None = None,
        retryable: bool = False,
        unknown_outcome: bool = False,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.status = status
        self.message = message
        self.retryable = retryable
        self.unknown_outcome = unknown_outcome

    def __repr__(self) -> str:
        return (
            f"DialerError({self.message!r}, code={self.code}, status={self.status}, "
            f"retryable={self.retryable}, unknown_outcome={self.unknown_outcome})"
        )


class Ringer(Protocol):
    """Places the first leg of callbacks, and finds calls a lost request may have created."""

    def ring(self, ring: Ring) -> str:
        """Ask for ``ring`` to be placed; the call's id.

        Raises:
            DialerError: It was refused or the request failed.
        """

    def find_rings(self, to: str, since: datetime) -> list[str]:
        """Ids of the calls to ``to`` created at or after ``since``, newest first.

        Raises:
            DialerError: The request failed.
        """


class Texter(Protocol):
    """Sends text messages (callback confirmations)."""

    def send_sms(self, to: str, from_: str, body: str) -> str:
        """Send ``body``; the message's id.

        Raises:
            DialerError: It was refused or the request failed.
        """
