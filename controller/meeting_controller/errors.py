"""The exception tree of the Meeting Controller.

Adapters translate the errors of the libraries they wrap (redis-py, grpcio, aioquic, PyJWT)
into these at the boundary, so the actor core and the services above it only ever handle the
project's own exceptions::

    MeetingControllerError
    ├── ConfigError                  an MC_* variable or flag is invalid (names it)
    ├── ActorError
    │   ├── MailboxFull              a bounded mailbox refused a message (back-pressure)
    │   └── ActorStopped             the actor has stopped and takes no more messages
    ├── StoreError                   Redis is unreachable or answered with an error
    │   ├── FencedOut                a newer owner holds the meeting (generation moved on)
    │   └── StaleGeneration          an assignment carries an older generation than stored
    ├── GcError                      talking to the Global Controller failed
    │   └── RegistrationRejected     the GC refused the registration (carries its reason)
    └── TokenError                   a join or session token is invalid (carries a code)

``LocalProtocolError``-style bugs (our own misuse) are plain ``AssertionError``/``TypeError``
and are never caught and hidden.
"""

from __future__ import annotations


class MeetingControllerError(Exception):
    """Base class of every error the Meeting Controller raises on purpose."""


class ConfigError(MeetingControllerError):
    """A configuration value is invalid; the message names the variable and the expected form."""


class ActorError(MeetingControllerError):
    """Base class of actor-system errors."""


class MailboxFull(ActorError):
    """A bounded mailbox is full: the sender must back off or drop the message."""


class ActorStopped(ActorError):
    """The actor has stopped; the message was not delivered."""


class StoreError(MeetingControllerError):
    """The shared state store (Redis) failed or is unreachable."""


class FencedOut(StoreError):
    """A write was refused because a newer owner holds the meeting's fencing generation.

    The MC that gets this must stop acting for the meeting: another MC owns it now.
    """

    def __init__(self, *, meeting_id: str, held: int, current: int, operation: str) -> None:
        super().__init__(
            f"fenced out of meeting {meeting_id!r} during {operation}: this MC holds generation "
            f"{held}, the store has {current}"
        )
        self.meeting_id = meeting_id
        self.held = held
        self.current = current
        self.operation = operation


class StaleGeneration(StoreError):
    """An assignment carried an older generation than the store already holds."""

    def __init__(self, *, meeting_id: str, offered: int, current: int) -> None:
        super().__init__(
            f"stale assignment of meeting {meeting_id!r}: generation {offered} is older than the "
            f"stored generation {current}"
        )
        self.meeting_id = meeting_id
        self.offered = offered
        self.current = current


class GcError(MeetingControllerError):
    """Talking to the Global Controller failed (after retries where they apply)."""


class RegistrationRejected(GcError):
    """The GC answered the registration with accepted=false."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"the Global Controller rejected the registration: {reason}")
        self.reason = reason


class TokenError(MeetingControllerError):
    """A join token or session token failed verification.

    ``code`` is the name of the signaling ``ErrorCode`` the client should receive (for example
    ``"ERROR_CODE_JOIN_TOKEN_EXPIRED"``), so the adapter can answer without re-classifying.
    """

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
