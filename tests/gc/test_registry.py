"""The fleet model: pure, driven with plain numbers for `now`."""

from __future__ import annotations

import pytest

from meeting_controller.gc import directory, registry
from tests.gc.support import register

FAST = 2.0  # seconds; the liveness window is 3 x FAST = 6 s
T0 = 100.0

H = registry.Health
S = registry.McState


@pytest.fixture
def fleet() -> registry.Registry:
    return registry.Registry(fast_interval_s=FAST)


def beat(fleet: registry.Registry, mc_id: str, *, now: float, **kw: object) -> bool:
    arguments: dict[str, object] = {
        "mc_id": mc_id,
        "current_meetings": 0,
        "current_participants": 0,
        "health": H.HEALTHY,
        "state": S.ACTIVE,
        "now": now,
    }
    arguments.update(kw)
    return fleet.heartbeat(**arguments)  # type: ignore[arg-type]


# --- liveness ---------------------------------------------------------------------------------


def test_the_window_is_three_fast_intervals_and_zero_means_the_mc_default() -> None:
    assert registry.Registry(fast_interval_s=FAST).window == 6.0
    assert registry.effective_fast_interval(0) == registry.DEFAULT_FAST_HEARTBEAT_SECONDS
    assert registry.effective_fast_interval(250) == 0.25
    with pytest.raises(ValueError, match="fast_heartbeat_ms"):
        registry.effective_fast_interval(-1)


@pytest.mark.parametrize(
    ("elapsed", "alive"),
    [(0.0, True), (FAST, True), (2 * FAST, True), (3 * FAST, True), (3 * FAST + 0.001, False)],
)
def test_registration_counts_as_a_heartbeat_and_three_missed_ones_kill(
    fleet: registry.Registry, elapsed: float, alive: bool
) -> None:
    register(fleet, "a", now=T0)
    assert fleet.is_alive("a", now=T0 + elapsed) is alive


def test_each_fast_heartbeat_restarts_the_window(fleet: registry.Registry) -> None:
    register(fleet, "a", now=T0)
    for i in range(1, 6):
        assert beat(fleet, "a", now=T0 + i * 5.0)  # 5 s gaps < 6 s window
    assert fleet.is_alive("a", now=T0 + 25.0 + 6.0)
    assert not fleet.is_alive("a", now=T0 + 25.0 + 6.1)


def test_unknown_mc_is_not_alive(fleet: registry.Registry) -> None:
    assert not fleet.is_alive("ghost", now=T0)
    assert not fleet.hosts_meetings("ghost", now=T0)


# --- registration -----------------------------------------------------------------------------


def test_a_second_process_with_an_alive_id_is_refused_with_the_id_named(
    fleet: registry.Registry,
) -> None:
    register(fleet, "mc-1", now=T0, endpoint="10.0.0.1:50052")
    beat(fleet, "mc-1", now=T0 + 1)
    result = fleet.register(
        mc_id="mc-1",
        region="eu",
        grpc_endpoint="10.0.0.2:50052",
        webtransport_endpoint="https://other:4433/",
        max_meetings=5,
        max_participants=50,
        now=T0 + 2,
    )
    assert not result.accepted
    assert "'mc-1'" in result.reason
    assert "already registered and alive" in result.reason
    assert fleet.get("mc-1").grpc_endpoint == "10.0.0.1:50052"  # type: ignore[union-attr]


def test_the_same_id_is_accepted_once_it_died(fleet: registry.Registry) -> None:
    register(fleet, "mc-1", now=T0, endpoint="10.0.0.1:50052")
    beat(fleet, "mc-1", now=T0 + 1)
    result = fleet.register(
        mc_id="mc-1",
        region="us",
        grpc_endpoint="10.0.0.2:50052",
        webtransport_endpoint="https://new:4433/",
        max_meetings=5,
        max_participants=50,
        now=T0 + 1 + 3 * FAST + 0.01,
    )
    assert result.accepted
    assert result.replaced is not None
    assert result.replaced.grpc_endpoint == "10.0.0.1:50052"
    record = fleet.get("mc-1")
    assert record is not None
    assert (record.region, record.grpc_endpoint, record.heartbeats_since_registration) == (
        "us",
        "10.0.0.2:50052",
        0,
    )


@pytest.mark.parametrize("leaving", [S.DRAINED, S.SHUTTING_DOWN])
def test_the_same_id_is_accepted_once_it_declared_it_leaves(
    fleet: registry.Registry, leaving: registry.McState
) -> None:
    register(fleet, "mc-1", now=T0, endpoint="10.0.0.1:50052")
    beat(fleet, "mc-1", now=T0 + 1, state=leaving)
    register(fleet, "mc-1", now=T0 + 2, endpoint="10.0.0.9:50052")


def test_a_retried_registration_without_heartbeats_in_between_is_accepted(
    fleet: registry.Registry,
) -> None:
    """The MC retries when the answer to a successful registration got lost."""
    register(fleet, "mc-1", now=T0)
    register(fleet, "mc-1", now=T0 + 1)
    # Still the same process: what was recorded on it after its first attempt is still there.
    assert fleet.still_hosts("mc-1", recorded_at=T0 + 0.5, now=T0 + 1)
    beat(fleet, "mc-1", now=T0 + 2)
    with pytest.raises(AssertionError, match="already registered"):
        register(fleet, "mc-1", now=T0 + 3)


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("mc_id", "", "missing mc_id"),
        ("region", " ", "missing region"),
        ("grpc_endpoint", "", "missing grpc_endpoint"),
        ("webtransport_endpoint", "", "missing webtransport_endpoint"),
        ("max_meetings", 0, "must both be positive"),
        ("max_participants", 0, "must both be positive"),
    ],
)
def test_incomplete_registrations_are_refused(
    fleet: registry.Registry, field: str, value: object, expected: str
) -> None:
    arguments: dict[str, object] = {
        "mc_id": "mc-1",
        "region": "eu",
        "grpc_endpoint": "h:1",
        "webtransport_endpoint": "https://h/",
        "max_meetings": 1,
        "max_participants": 1,
        "now": T0,
    }
    arguments[field] = value
    result = fleet.register(**arguments)  # type: ignore[arg-type]
    assert not result.accepted
    assert expected in result.reason
    assert len(fleet) == 0


# --- heartbeats -------------------------------------------------------------------------------


def test_heartbeats_record_counts_health_and_usage(fleet: registry.Registry) -> None:
    register(fleet, "a", now=T0)
    assert beat(
        fleet, "a", now=T0 + 1, current_meetings=3, current_participants=7, health=H.DEGRADED
    )
    record = fleet.get("a")
    assert record is not None
    assert (record.current_meetings, record.current_participants, record.health) == (
        3,
        7,
        H.DEGRADED,
    )
    assert record.last_comprehensive_heartbeat_at is None
    assert beat(fleet, "a", now=T0 + 2, cpu_usage_percent=12.5, memory_usage_percent=40.0)
    record = fleet.get("a")
    assert record is not None
    assert (record.cpu_usage_percent, record.memory_usage_percent) == (12.5, 40.0)
    assert record.last_comprehensive_heartbeat_at == T0 + 2
    assert beat(fleet, "a", now=T0 + 3)  # a fast one keeps the last usage figures
    assert fleet.get("a").cpu_usage_percent == 12.5  # type: ignore[union-attr]


def test_heartbeat_from_unknown_or_dead_mc_asks_it_to_register_again(
    fleet: registry.Registry,
) -> None:
    assert not beat(fleet, "ghost", now=T0)
    register(fleet, "a", now=T0)
    assert not beat(fleet, "a", now=T0 + 3 * FAST + 0.5)
    assert not fleet.is_alive("a", now=T0 + 3 * FAST + 0.5)  # the late beat did not revive it


# (reported state, then state after it) -> resulting state: leaving is one-way.
STATE_TABLE = [
    (S.ACTIVE, S.STARTING, S.STARTING),
    (S.STARTING, S.ACTIVE, S.ACTIVE),
    (S.ACTIVE, S.DRAINING, S.DRAINING),
    (S.DRAINING, S.ACTIVE, S.DRAINING),
    (S.DRAINING, S.STARTING, S.DRAINING),
    (S.DRAINING, S.DRAINED, S.DRAINED),
    (S.DRAINED, S.DRAINING, S.DRAINED),
    (S.DRAINED, S.ACTIVE, S.DRAINED),
    (S.SHUTTING_DOWN, S.ACTIVE, S.SHUTTING_DOWN),
    (S.ACTIVE, S.SHUTTING_DOWN, S.SHUTTING_DOWN),
]


@pytest.mark.parametrize(("first", "then", "expected"), STATE_TABLE)
def test_state_moves_only_forward_once_the_mc_leaves(
    fleet: registry.Registry,
    first: registry.McState,
    then: registry.McState,
    expected: registry.McState,
) -> None:
    register(fleet, "a", now=T0)
    beat(fleet, "a", now=T0 + 1, state=first)
    beat(fleet, "a", now=T0 + 2, state=then)
    assert fleet.get("a").state is expected  # type: ignore[union-attr]


# --- drain notifications and refusals ---------------------------------------------------------


def test_draining_and_drained_notifications(fleet: registry.Registry) -> None:
    assert not fleet.mark_draining("ghost")
    assert not fleet.mark_drained("ghost")
    assert not fleet.mark_shutting_down("ghost")
    register(fleet, "a", now=T0)
    beat(fleet, "a", now=T0 + 1, current_meetings=4)
    assert fleet.mark_draining("a", deadline_unix_ms=123)
    record = fleet.get("a")
    assert record is not None
    assert (record.state, record.drain_deadline_unix_ms) == (S.DRAINING, 123)
    assert fleet.hosts_meetings("a", now=T0 + 2)  # a draining MC still owns its meetings
    beat(fleet, "a", now=T0 + 3, state=S.ACTIVE)  # a heartbeat overtaken by the notice
    assert fleet.get("a").state is S.DRAINING  # type: ignore[union-attr]
    assert fleet.mark_drained("a")
    record = fleet.get("a")
    assert record is not None
    assert (record.state, record.current_meetings) == (S.DRAINED, 0)
    assert not fleet.hosts_meetings("a", now=T0 + 4)


def test_refusals_are_remembered_until_the_next_heartbeat(fleet: registry.Registry) -> None:
    register(fleet, "a", now=T0, max_meetings=10)
    fleet.note_full("a")
    fleet.note_unhealthy("a")
    record = fleet.get("a")
    assert record is not None
    assert (record.current_meetings, record.health) == (10, H.UNHEALTHY)
    beat(fleet, "a", now=T0 + 1, current_meetings=2)
    record = fleet.get("a")
    assert record is not None
    assert (record.current_meetings, record.health) == (2, H.HEALTHY)


def test_assignments_count_until_the_next_heartbeat(fleet: registry.Registry) -> None:
    register(fleet, "a", now=T0)
    fleet.note_assignment("a", participants=3)
    fleet.note_assignment("a", participants=1)
    fleet.note_assignment("ghost", participants=1)  # ignored
    record = fleet.get("a")
    assert record is not None
    assert (record.current_meetings, record.current_participants) == (2, 4)


# --- sweeping ---------------------------------------------------------------------------------


def test_sweep_reports_each_death_once(fleet: registry.Registry) -> None:
    register(fleet, "a", now=T0)
    register(fleet, "b", now=T0)
    beat(fleet, "b", now=T0 + 5)
    assert fleet.sweep(now=T0 + 6) == []
    assert [r.mc_id for r in fleet.sweep(now=T0 + 6.5)] == ["a"]
    assert fleet.sweep(now=T0 + 7) == []
    assert [r.mc_id for r in fleet.sweep(now=T0 + 11.5)] == ["b"]
    dead = fleet.get("a")
    assert dead is not None
    assert dead.declared_dead
    assert dead.health is H.UNHEALTHY
    register(fleet, "a", now=T0 + 12)  # a new registration starts clean
    assert not fleet.get("a").declared_dead  # type: ignore[union-attr]
    fleet.forget("a")
    assert fleet.get("a") is None


# --- the meeting directory --------------------------------------------------------------------


def test_directory_records_and_ends_only_on_the_hosting_mc() -> None:
    meetings = directory.MeetingDirectory()
    meetings.record(meeting_id="m1", mc_id="a", generation=1, now=T0, region="eu")
    meetings.record(meeting_id="m2", mc_id="a", generation=1, now=T0)
    meetings.record(meeting_id="m1", mc_id="b", generation=2, now=T0 + 1)  # failed over
    assert meetings.count_by_mc() == {"a": 1, "b": 1}
    assert [e.meeting_id for e in meetings.on_mc("a")] == ["m2"]
    assert not meetings.end(meeting_id="m1", mc_id="a")  # late notice from the old owner
    assert meetings.get("m1") is not None
    assert meetings.end(meeting_id="m1", mc_id="b")
    assert not meetings.end(meeting_id="unknown", mc_id="b")
    assert meetings.get("m1") is None
    assert len(meetings) == 1


def test_meetings_recorded_before_a_restart_are_not_hosted_by_the_new_process(
    fleet: registry.Registry,
) -> None:
    register(fleet, "a", now=T0)
    assert fleet.still_hosts("a", recorded_at=T0, now=T0 + 1)
    assert fleet.still_hosts("a", recorded_at=T0 + 1, now=T0 + 1)
    register(fleet, "a", now=T0 + 3 * FAST + 1)  # it died and a new process registered
    assert not fleet.still_hosts("a", recorded_at=T0 + 1, now=T0 + 3 * FAST + 2)
    assert fleet.still_hosts("a", recorded_at=T0 + 3 * FAST + 1, now=T0 + 3 * FAST + 2)
    assert not fleet.still_hosts("ghost", recorded_at=T0, now=T0)
