"""Accept/reject decisions in the specification's priority order."""

from __future__ import annotations

import itertools

import pytest

from meeting_controller.actors.controller import McPhase
from meeting_controller.core.admission import Verdict, decide


def verdict(
    *,
    phase: McPhase = McPhase.ACTIVE,
    already_hosted: bool = False,
    meetings: int = 0,
    participants: int = 0,
    estimated: int = 0,
    store_healthy: bool = True,
) -> Verdict:
    return decide(
        phase=phase,
        already_hosted=already_hosted,
        meetings=meetings,
        participants=participants,
        max_meetings=10,
        max_participants=100,
        estimated_participants=estimated,
        store_healthy=store_healthy,
    ).verdict


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ({}, Verdict.ACCEPT),
        ({"meetings": 10}, Verdict.AT_CAPACITY),
        ({"participants": 90, "estimated": 11}, Verdict.AT_CAPACITY),
        ({"participants": 90, "estimated": 10}, Verdict.ACCEPT),
        ({"store_healthy": False}, Verdict.UNHEALTHY),
        ({"phase": McPhase.STARTING}, Verdict.UNHEALTHY),
        ({"phase": McPhase.DRAINING}, Verdict.DRAINING),
        ({"phase": McPhase.DRAINED}, Verdict.DRAINING),
        ({"phase": McPhase.SHUTTING_DOWN}, Verdict.SHUTTING_DOWN),
        ({"already_hosted": True, "meetings": 10}, Verdict.ALREADY_HOSTED),
        ({"already_hosted": True, "phase": McPhase.DRAINING}, Verdict.DRAINING),
    ],
)
def test_single_conditions(case: dict[str, object], expected: Verdict) -> None:
    assert verdict(**case) is expected  # type: ignore[arg-type]


def test_draining_wins_over_capacity_which_wins_over_health() -> None:
    assert verdict(phase=McPhase.DRAINING, meetings=10, store_healthy=False) is Verdict.DRAINING
    assert verdict(meetings=10, store_healthy=False) is Verdict.AT_CAPACITY


def test_every_combination_follows_the_priority_order() -> None:
    for phase, full, unhealthy in itertools.product(McPhase, (False, True), (False, True)):
        got = verdict(phase=phase, meetings=10 if full else 0, store_healthy=not unhealthy)
        if phase in (McPhase.DRAINING, McPhase.DRAINED):
            assert got is Verdict.DRAINING
        elif phase is McPhase.SHUTTING_DOWN:
            assert got is Verdict.SHUTTING_DOWN
        elif full:
            assert got is Verdict.AT_CAPACITY
        elif unhealthy or phase is McPhase.STARTING:
            assert got is Verdict.UNHEALTHY
        else:
            assert got is Verdict.ACCEPT
