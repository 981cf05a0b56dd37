"""Ranking candidate MCs for a meeting. Pure: records, ``now`` and a ``random.Random`` in, an
ordered list out.

A candidate is an MC that is

* in the requested region (``region=None`` means "any region"; a named region is strict:
  media latency is the reason regions exist, so the GC answers "no capacity" rather than place
  a meeting across the world),
* alive (a fast heartbeat within the liveness window, see ``registry``),
* ``ACTIVE`` (not starting, draining, drained or shutting down) and not reporting itself
  ``UNHEALTHY`` (``DEGRADED`` still takes meetings: it is the MC's own word that it can),
* able to take the meeting: at least one free meeting slot and ``estimated_participants`` free
  participant slots, by its last heartbeat plus the GC's own placements since,
* not excluded by the caller (MCs that already refused this meeting).

**Free capacity** is the smaller of the two free fractions,
``min(free meetings / max meetings, free participants / max participants)``: an MC is as full as
its fuller resource, and fractions make MCs of different sizes comparable (a large MC with 50
free slots out of 1000 is busier than a small one with 5 out of 10). Fractions are exact
(:class:`fractions.Fraction`), so ties are real ties and not float noise.

Candidates are ordered by free capacity, most free first. Ties are broken at random with the
injected ``rng``: a burst of placements against the same heartbeat snapshot then spreads over
equally free MCs instead of all landing on the first in some fixed order.
"""

from __future__ import annotations

import random
from collections.abc import Collection, Iterable
from fractions import Fraction

from meeting_controller.gc import registry


def free_capacity(record: registry.McRecord) -> Fraction:
    """``min`` of the free meeting and participant fractions, clamped to ``[0, 1]``."""
    if record.max_meetings <= 0 or record.max_participants <= 0:
        return Fraction(0)
    meetings = Fraction(record.max_meetings - record.current_meetings, record.max_meetings)
    participants = Fraction(
        record.max_participants - record.current_participants, record.max_participants
    )
    return max(Fraction(0), min(Fraction(1), meetings, participants))


def is_candidate(
    record: registry.McRecord,
    *,
    region: str | None,
    now: float,
    liveness_window: float,
    estimated_participants: int = 1,
    exclude: Collection[str] = (),
) -> bool:
    """Whether ``record`` may be offered the meeting (see the module docstring)."""
    return (
        record.mc_id not in exclude
        and (region is None or record.region == region)
        and registry.is_alive(record, now=now, window=liveness_window)
        and record.state is registry.McState.ACTIVE
        and record.health is not registry.Health.UNHEALTHY
        and record.current_meetings < record.max_meetings
        and record.max_participants - record.current_participants >= estimated_participants
    )


def rank(
    records: Iterable[registry.McRecord],
    *,
    region: str | None,
    now: float,
    liveness_window: float,
    rng: random.Random,
    estimated_participants: int = 1,
    exclude: Collection[str] = (),
) -> list[registry.McRecord]:
    """Candidates for a meeting, most free capacity first, ties in random order."""
    candidates = [
        record
        for record in records
        if is_candidate(
            record,
            region=region,
            now=now,
            liveness_window=liveness_window,
            estimated_participants=estimated_participants,
            exclude=exclude,
        )
    ]
    # Sort by id first so the shuffle's outcome depends only on the rng, not on dict order.
    candidates.sort(key=lambda record: record.mc_id)
    rng.shuffle(candidates)
    candidates.sort(key=free_capacity, reverse=True)  # stable: ties keep the shuffled order
    return candidates
