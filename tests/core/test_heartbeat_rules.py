"""Registration backoff and heartbeat interval precedence."""

from __future__ import annotations

import pathlib

import pytest

from meeting_controller.core.heartbeat import Backoff, HeartbeatIntervals, resolve_intervals
from meeting_controller.resources import ResourceSampler


def test_backoff_doubles_from_one_second_for_five_retries() -> None:
    assert Backoff().delays() == [1, 2, 4, 8, 16]


def test_backoff_is_capped_at_thirty_seconds() -> None:
    assert Backoff(retries=7).delays() == [1, 2, 4, 8, 16, 30, 30]


@pytest.mark.parametrize(
    ("gc", "fleet", "expected"),
    [
        ((2000, 6000), (5000, 15000), (2000, 6000)),  # the GC's value wins
        ((0, 0), (5000, 15000), (5000, 15000)),  # 0 = the fleet default
        ((0, 0), (None, None), (10000, 30000)),  # then the built-in 10 s / 30 s
        ((0, 7000), (None, 15000), (10000, 7000)),  # each interval on its own
    ],
)
def test_interval_precedence(
    gc: tuple[int, int], fleet: tuple[int | None, int | None], expected: tuple[int, int]
) -> None:
    assert resolve_intervals(
        gc_fast_ms=gc[0],
        gc_comprehensive_ms=gc[1],
        fleet_fast_ms=fleet[0],
        fleet_comprehensive_ms=fleet[1],
    ) == HeartbeatIntervals(*expected)


def test_cgroup_usage_is_measured_against_the_cgroup_limits() -> None:
    files = {
        "cpu.max": "200000 100000",  # 2 CPUs
        "cpu.stat": "usage_usec 1000000",
        "memory.current": "268435456",
        "memory.max": "1073741824",
    }
    now = [100.0]

    def read(path: pathlib.Path) -> str | None:
        return files.get(path.name)

    sampler = ResourceSampler(read=read, clock=lambda: now[0], cgroup=pathlib.Path("/cg"))
    files["cpu.stat"] = "usage_usec 2000000"  # one more CPU second ...
    now[0] = 101.0  # ... in one wall second on 2 CPUs
    assert sampler.cpu_percent() == pytest.approx(50.0)
    assert sampler.memory_percent() == pytest.approx(25.0)


def test_without_cgroup_limits_the_process_is_measured() -> None:
    sampler = ResourceSampler(cgroup=pathlib.Path("/nonexistent"))
    assert 0.0 <= sampler.cpu_percent() <= 100.0
    assert 0.0 < sampler.memory_percent() < 100.0
