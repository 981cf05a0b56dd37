"""Shutdown deadlines of the actor hierarchy.

The specification fixes them: a connection has 50 ms to send its close frame, a meeting waits
at most 5 s for each of its connections, the controller at most 30 s for each meeting. They
bound the time a SIGTERM takes from the inside out, so the pod's termination grace period can
be sized from them (plus the drain timeout).
"""

from __future__ import annotations

import dataclasses


@dataclasses.dataclass(frozen=True)
class ShutdownDeadlines:
    """How long each level of the hierarchy waits for the level below (seconds)."""

    #: A connection's budget to flush and send its close frame before it is abandoned.
    connection_close: float = 0.050
    #: How long a meeting waits for each connection actor to finish.
    meeting_per_connection: float = 5.0
    #: How long the controller waits for each meeting actor to finish.
    controller_per_meeting: float = 30.0


DEFAULT_DEADLINES = ShutdownDeadlines()
