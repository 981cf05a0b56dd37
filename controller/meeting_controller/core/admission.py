"""Whether an MC accepts a meeting assignment: the specification's checks, in its order.

1. ``DRAINING`` - the MC is draining (or ``SHUTTING_DOWN`` once shutdown began): the GC must
   not retry here until the drain completes.
2. ``AT_CAPACITY`` - the meeting limit is reached, or the estimated participants would push the
   MC past its participant limit.
3. ``UNHEALTHY`` - the MC cannot do the work (Redis unreachable, not started).

A retried assignment of a meeting the MC already hosts is accepted again (idempotent) unless
the MC is draining: the capacity it already uses is its own. Pure: no I/O.
"""

from __future__ import annotations

import dataclasses
import enum

from meeting_controller.actors.controller import McPhase


class Verdict(enum.Enum):
    ACCEPT = "accepted"
    ALREADY_HOSTED = "already_hosted"
    DRAINING = "draining"
    SHUTTING_DOWN = "shutting_down"
    AT_CAPACITY = "at_capacity"
    UNHEALTHY = "unhealthy"


@dataclasses.dataclass(frozen=True)
class Decision:
    verdict: Verdict
    message: str

    @property
    def accepted(self) -> bool:
        return self.verdict in (Verdict.ACCEPT, Verdict.ALREADY_HOSTED)


def decide(
    *,
    phase: McPhase,
    already_hosted: bool,
    meetings: int,
    participants: int,
    max_meetings: int,
    max_participants: int,
    estimated_participants: int,
    store_healthy: bool,
) -> Decision:
    """Apply the checks in the specification's order; see the module docstring."""
    if phase in (McPhase.DRAINING, McPhase.DRAINED):
        return Decision(Verdict.DRAINING, "this MC is draining and accepts no new meetings")
    if phase is McPhase.SHUTTING_DOWN:
        return Decision(Verdict.SHUTTING_DOWN, "this MC is shutting down")
    if already_hosted:
        return Decision(Verdict.ALREADY_HOSTED, "this MC already hosts the meeting")
    if meetings >= max_meetings:
        return Decision(
            Verdict.AT_CAPACITY, f"meeting limit reached ({meetings} of {max_meetings})"
        )
    if participants + estimated_participants > max_participants:
        return Decision(
            Verdict.AT_CAPACITY,
            f"{estimated_participants} more participants would exceed the participant limit "
            f"({participants} of {max_participants} in use)",
        )
    if phase is McPhase.STARTING:
        return Decision(Verdict.UNHEALTHY, "this MC has not finished starting")
    if not store_healthy:
        return Decision(Verdict.UNHEALTHY, "the state store (Redis) is unreachable")
    return Decision(Verdict.ACCEPT, "accepted")
