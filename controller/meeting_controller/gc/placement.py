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

**Migration targets** (a draining MC asks where one of its meetings should go) are ranked the
same way, in the *requester's* region, for the meeting's participants, with the requester and
the MCs it already tried excluded: :func:`migration_target`. When there is none,
:func:`no_target_reason` says why, MC by MC.
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


def why_not(
    record: registry.McRecord,
    *,
    region: str | None,
    now: float,
    liveness_window: float,
    estimated_participants: int = 1,
    exclude: Collection[str] = (),
) -> str | None:
    """Why ``record`` may not be offered the meeting, or ``None`` if it may.

    The reasons are short and meant for people (``draining``, ``at capacity (10/10
    meetings)``, ...); the first that applies is given.
    """
    if record.mc_id in exclude:
        return "excluded"
    if region is not None and record.region != region:
        return f"in region {record.region!r}"
    if not registry.is_alive(record, now=now, window=liveness_window):
        return f"not alive (no heartbeat for {now - record.last_fast_heartbeat_at:.1f}s)"
    if record.state is not registry.McState.ACTIVE:
        return record.state.name.lower().replace("_", " ")
    if record.health is registry.Health.UNHEALTHY:
        return "unhealthy"
    if record.current_meetings >= record.max_meetings:
        return f"at capacity ({record.current_meetings}/{record.max_meetings} meetings)"
    free_participants = record.max_participants - record.current_participants
    if free_participants < estimated_participants:
        return (
            f"at capacity (room for {max(0, free_participants)} of "
            f"{estimated_participants} participants)"
        )
    return None


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
        why_not(
            record,
            region=region,
            now=now,
            liveness_window=liveness_window,
            estimated_participants=estimated_participants,
            exclude=exclude,
        )
        is None
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


def migration_target(
    records: Iterable[registry.McRecord],
    *,
    requester: registry.McRecord,
    participants: int,
    now: float,
    liveness_window: float,
    rng: random.Random,
    exclude: Collection[str] = (),
) -> registry.McRecord | None:
    """Where a meeting of ``requester`` (a draining MC) with ``participants`` should move.

    The best :func:`rank` candidate in the requester's region, never the requester itself nor
    one of ``exclude``; ``None`` if there is none (see :func:`no_target_reason`).
    """
    ranked = rank(
        records,
        region=requester.region,
        now=now,
        liveness_window=liveness_window,
        rng=rng,
        estimated_participants=participants,
        exclude={requester.mc_id, *exclude},
    )
    return ranked[0] if ranked else None


def no_target_reason(
    records: Iterable[registry.McRecord],
    *,
    requester: registry.McRecord,
    participants: int,
    now: float,
    liveness_window: float,
    exclude: Collection[str] = (),
) -> str:
    """Why :func:`migration_target` found nothing, naming each other MC of the region.

    E.g. ``no MC in region 'eu' has room for 5 participants (mc-b: at capacity (10/10
    meetings), mc-c: draining, mc-d: already tried)``.
    """
    excluded = set(exclude)
    others = sorted(
        (
            record
            for record in records
            if record.region == requester.region and record.mc_id != requester.mc_id
        ),
        key=lambda record: record.mc_id,
    )
    head = (
        f"no MC in region {requester.region!r} has room for {participants} "
        f"participant{'' if participants == 1 else 's'}"
    )
    if not others:
        return f"{head} (no other MC is registered in region {requester.region!r})"
    reasons = []
    for record in others:
        reason = why_not(
            record,
            region=requester.region,
            now=now,
            liveness_window=liveness_window,
            estimated_participants=participants,
            exclude=excluded,
        )
        reasons.append(
            f"{record.mc_id}: "
            + ("already tried" if reason == "excluded" else reason or "a candidate")
        )
    return f"{head} ({', '.join(reasons)})"
