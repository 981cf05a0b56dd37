"""Pure rules of registration and heartbeats: retry schedule and interval precedence.

Kept apart from the gRPC code so the exact numbers of the specification (1 s doubling to a
30 s cap, at most 5 retries; fast 10 s and comprehensive 30 s by default; a GC answer of 0
meaning "use the default") are tested as plain functions.
"""

from __future__ import annotations

import dataclasses

BUILTIN_FAST_HEARTBEAT_MS = 10_000
BUILTIN_COMPREHENSIVE_HEARTBEAT_MS = 30_000


@dataclasses.dataclass(frozen=True)
class Backoff:
    """Exponential backoff between registration attempts."""

    initial: float = 1.0
    cap: float = 30.0
    retries: int = 5

    def delays(self) -> list[float]:
        """The pauses before each retry: 1, 2, 4, 8, 16 s with the defaults."""
        return [min(self.cap, self.initial * 2**attempt) for attempt in range(self.retries)]


@dataclasses.dataclass(frozen=True)
class HeartbeatIntervals:
    """The intervals the MC actually uses, in milliseconds."""

    fast_ms: int
    comprehensive_ms: int


def resolve_intervals(
    *,
    gc_fast_ms: int,
    gc_comprehensive_ms: int,
    fleet_fast_ms: int | None,
    fleet_comprehensive_ms: int | None,
) -> HeartbeatIntervals:
    """Precedence: the GC's value (non-zero) > the fleet default (operator) > built-in."""

    def pick(gc: int, fleet: int | None, builtin: int) -> int:
        if gc > 0:
            return gc
        if fleet is not None and fleet > 0:
            return fleet
        return builtin

    return HeartbeatIntervals(
        fast_ms=pick(gc_fast_ms, fleet_fast_ms, BUILTIN_FAST_HEARTBEAT_MS),
        comprehensive_ms=pick(
            gc_comprehensive_ms, fleet_comprehensive_ms, BUILTIN_COMPREHENSIVE_HEARTBEAT_MS
        ),
    )
