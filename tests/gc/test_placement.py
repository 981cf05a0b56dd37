"""Ranking candidates: pure, with a seeded `random.Random` for the tie-breaks."""

from __future__ import annotations

import collections
import dataclasses
import random
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from meeting_controller.gc import placement, registry

NOW = 1000.0
WINDOW = 30.0
H = registry.Health
S = registry.McState


def mc(
    mc_id: str,
    *,
    region: str = "eu",
    meetings: int = 0,
    max_meetings: int = 10,
    participants: int = 0,
    max_participants: int = 100,
    state: registry.McState = S.ACTIVE,
    health: registry.Health = H.HEALTHY,
    last_beat: float = NOW,
) -> registry.McRecord:
    return registry.McRecord(
        mc_id=mc_id,
        region=region,
        grpc_endpoint=f"{mc_id}:50052",
        webtransport_endpoint=f"https://{mc_id}:4433/",
        max_meetings=max_meetings,
        max_participants=max_participants,
        registered_at=0.0,
        last_fast_heartbeat_at=last_beat,
        current_meetings=meetings,
        current_participants=participants,
        state=state,
        health=health,
    )


def ranked_ids(records: list[registry.McRecord], *, seed: int = 0, **kw: object) -> list[str]:
    arguments: dict[str, object] = {
        "region": "eu",
        "now": NOW,
        "liveness_window": WINDOW,
        "rng": random.Random(seed),
    }
    arguments.update(kw)
    return [r.mc_id for r in placement.rank(records, **arguments)]  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("record", "expected"),
    [
        (mc("a"), Fraction(1)),
        (mc("a", meetings=5), Fraction(1, 2)),
        (mc("a", participants=75), Fraction(1, 4)),  # participants are the fuller resource
        (mc("a", meetings=9, participants=10), Fraction(1, 10)),
        (mc("a", meetings=10), Fraction(0)),
        (mc("a", meetings=12), Fraction(0)),  # over the limit (a guess) is still just full
        (mc("a", max_meetings=1000, meetings=950), Fraction(1, 20)),
        (mc("a", max_meetings=0), Fraction(0)),
    ],
)
def test_free_capacity_is_the_smaller_free_fraction(
    record: registry.McRecord, expected: Fraction
) -> None:
    assert placement.free_capacity(record) == expected


# Each row: one MC that is NOT a candidate (next to a plain candidate), and why.
EXCLUDED = [
    pytest.param(mc("x", region="us"), id="other-region"),
    pytest.param(mc("x", last_beat=NOW - WINDOW - 0.001), id="dead"),
    pytest.param(mc("x", state=S.DRAINING), id="draining"),
    pytest.param(mc("x", state=S.DRAINED), id="drained"),
    pytest.param(mc("x", state=S.SHUTTING_DOWN), id="shutting-down"),
    pytest.param(mc("x", state=S.STARTING), id="starting"),
    pytest.param(mc("x", health=H.UNHEALTHY), id="unhealthy"),
    pytest.param(mc("x", meetings=10), id="no-meeting-slot"),
    pytest.param(mc("x", participants=100), id="no-participant-slot"),
]


@pytest.mark.parametrize("record", EXCLUDED)
def test_non_candidates_are_never_ranked(record: registry.McRecord) -> None:
    # The non-candidate is emptier than the candidate, so only the filter keeps it out.
    candidate = mc("ok", meetings=9, participants=90)
    assert ranked_ids([record, candidate]) == ["ok"]


def test_degraded_mcs_and_the_edge_of_the_window_are_still_candidates() -> None:
    records = [mc("degraded", health=H.DEGRADED), mc("edge", last_beat=NOW - WINDOW)]
    assert sorted(ranked_ids(records)) == ["degraded", "edge"]


def test_region_none_means_any_region() -> None:
    records = [mc("eu1", region="eu"), mc("us1", region="us", meetings=5)]
    assert ranked_ids(records, region=None) == ["eu1", "us1"]


def test_excluded_ids_are_skipped() -> None:
    assert ranked_ids([mc("a"), mc("b", meetings=5)], exclude={"a"}) == ["b"]


def test_estimated_participants_need_free_participant_slots() -> None:
    records = [mc("a", participants=95), mc("b", participants=50)]
    assert ranked_ids(records, estimated_participants=5) == ["b", "a"]
    assert ranked_ids(records, estimated_participants=6) == ["b"]


def test_most_free_capacity_first() -> None:
    records = [
        mc("half", meetings=5),
        mc("busy-participants", participants=90),
        mc("empty"),
        mc("big-but-busier", max_meetings=1000, meetings=800),
    ]
    assert ranked_ids(records) == ["empty", "half", "big-but-busier", "busy-participants"]


def test_ties_are_broken_by_the_rng_and_spread_over_the_tied_mcs() -> None:
    records = [mc("a"), mc("b"), mc("c"), mc("busier", meetings=1)]
    rng = random.Random(7)
    firsts = collections.Counter(
        placement.rank(records, region="eu", now=NOW, liveness_window=WINDOW, rng=rng)[0].mc_id
        for _ in range(300)
    )
    assert set(firsts) == {"a", "b", "c"}
    assert min(firsts.values()) > 60  # roughly a third each
    # and the busier MC is always last
    for seed in range(20):
        assert ranked_ids(records, seed=seed)[-1] == "busier"


def test_the_order_depends_only_on_the_rng_not_on_the_input_order() -> None:
    records = [mc("a"), mc("b"), mc("c")]
    assert ranked_ids(records, seed=3) == ranked_ids(list(reversed(records)), seed=3)


# --- property ---------------------------------------------------------------------------------


@st.composite
def mc_records(draw: st.DrawFn) -> registry.McRecord:
    return mc(
        f"mc-{draw(st.integers(0, 10_000))}",
        region=draw(st.sampled_from(["eu", "us", "ap"])),
        meetings=draw(st.integers(0, 12)),
        max_meetings=draw(st.integers(1, 10)),
        participants=draw(st.integers(0, 60)),
        max_participants=draw(st.integers(1, 50)),
        state=draw(st.sampled_from(list(S))),
        health=draw(st.sampled_from(list(H))),
        last_beat=NOW - draw(st.floats(0, 2 * WINDOW)),
    )


records_strategy = st.lists(mc_records(), max_size=12, unique_by=lambda r: r.mc_id)


@settings(max_examples=150, deadline=None)
@given(
    records=records_strategy,
    region=st.sampled_from(["eu", "us", "ap"]),
    seed=st.integers(0, 2**32),
)
def test_the_chosen_mc_is_always_a_live_active_local_mc_with_the_most_free_capacity(
    records: list[registry.McRecord], region: str, seed: int
) -> None:
    ranked = placement.rank(
        records, region=region, now=NOW, liveness_window=WINDOW, rng=random.Random(seed)
    )
    candidates = [
        r
        for r in records
        if r.region == region
        and NOW - r.last_fast_heartbeat_at <= WINDOW
        and r.state is S.ACTIVE
        and r.health is not H.UNHEALTHY
        and r.current_meetings < r.max_meetings
        and r.current_participants < r.max_participants
    ]
    assert sorted(r.mc_id for r in ranked) == sorted(r.mc_id for r in candidates)
    for chosen in ranked:
        assert chosen.state is not S.DRAINING
        assert registry.is_alive(chosen, now=NOW, window=WINDOW)
        assert chosen.region == region
    if ranked:
        best = max(placement.free_capacity(r) for r in candidates)
        assert placement.free_capacity(ranked[0]) == best
        frees = [placement.free_capacity(r) for r in ranked]
        assert frees == sorted(frees, reverse=True)


@settings(max_examples=30, deadline=None)
@given(n=st.integers(2, 6), seed=st.integers(0, 2**32))
def test_every_tied_mc_gets_chosen_sometimes(n: int, seed: int) -> None:
    records = [dataclasses.replace(mc(f"mc-{i}"), current_meetings=3) for i in range(n)]
    rng = random.Random(seed)
    chosen = {
        placement.rank(records, region="eu", now=NOW, liveness_window=WINDOW, rng=rng)[0].mc_id
        for _ in range(50 * n)
    }
    assert chosen == {r.mc_id for r in records}
