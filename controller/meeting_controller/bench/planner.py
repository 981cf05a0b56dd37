"""The operator's planner for 1,000 pods: time per plan (a pure function, no I/O).

Cases: a steady fleet (nothing to do), a scale-down from 1,000 to 900 replicas (pick the
cheapest pods to drain), and a rolling update of 1,000 old-revision pods (surge 10). The
"baseline" is the floor of any planner that orders the pods: sorting the same 1,000 observed
pods by a five-field key. It is there for scale, without a goal.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable

from meeting_controller.bench.context import Context
from meeting_controller.bench.model import Result, median
from meeting_operator import planner

NOW = 1_000_000.0
PODS = 1000


def _fleet(count: int, *, revision: str, rng: random.Random) -> list[planner.ObservedPod]:
    pods = []
    for index in range(count):
        meetings = rng.randrange(0, 100)
        pods.append(
            planner.ObservedPod(
                name=f"mc-{index:05d}",
                revision=revision,
                phase=planner.PodPhase.RUNNING,
                deleting=False,
                created_at=NOW - rng.uniform(0, 86_400),
                ready=True,
                mc=planner.McStatus(
                    registered=True,
                    state="active",
                    meetings=meetings,
                    participants=meetings * rng.randrange(1, 12),
                ),
            )
        )
    return pods


def _time_per_call(call: Callable[[], object], *, budget: float) -> tuple[float, int]:
    """Median seconds per call over repeated batches within ``budget`` seconds."""
    call()  # warm up
    samples: list[float] = []
    deadline = time.perf_counter() + budget
    calls = 0
    while time.perf_counter() < deadline or len(samples) < 5:
        started = time.perf_counter()
        call()
        samples.append(time.perf_counter() - started)
        calls += 1
    return median(samples), calls


async def run(ctx: Context) -> list[Result]:
    rng = random.Random(42)
    budget = ctx.seconds(2.0, 0.2)
    current = _fleet(PODS, revision="rev-2", rng=rng)
    old = _fleet(PODS, revision="rev-1", rng=rng)
    cases = {
        "steady": (
            "steady fleet (no action)",
            planner.DesiredState(
                replicas=PODS, revision="rev-2", max_surge=10, drain_timeout_s=300
            ),
            current,
        ),
        "scale-down": (
            "scale-down 1,000 -> 900",
            planner.DesiredState(replicas=900, revision="rev-2", max_surge=10, drain_timeout_s=300),
            current,
        ),
        "rollout": (
            "rollout of 1,000 pods, surge 10",
            planner.DesiredState(
                replicas=PODS, revision="rev-2", max_surge=10, drain_timeout_s=300
            ),
            old,
        ),
    }

    def key(pod: planner.ObservedPod) -> tuple[bool, int, int, bool, float]:
        mc = pod.mc
        assert mc is not None
        return (
            not pod.ready,
            mc.participants,
            mc.meetings,
            pod.revision != "rev-2",
            pod.created_at,
        )

    floor, _ = _time_per_call(lambda: sorted(current, key=key), budget=budget)
    results = []
    for name, (title, desired, pods) in cases.items():
        seconds, calls = _time_per_call(
            lambda desired=desired, pods=pods: planner.plan(desired, pods, now=NOW),  # type: ignore[misc]
            budget=budget,
        )
        outcome = planner.plan(desired, pods, now=NOW)
        result = Result(
            benchmark="planner",
            name=f"planner-{name}",
            title=f"planner, {title}",
            unit="ms",
            ours=seconds * 1000,
            baseline=floor * 1000,
            baseline_label="sorting the 1,000 pods",
            details={
                "pods": len(pods),
                "calls": calls,
                "actions": len(outcome.actions),
                "median_seconds": seconds,
            },
            note=f"{len(outcome.actions)} actions per plan, median of {calls} plans; "
            "the baseline is only the sorting floor (no goal)",
        )
        result.compute_ratio()
        ctx.log(
            f"  planner {name}: {seconds * 1000:.2f} ms per plan ({len(outcome.actions)} actions)"
        )
        results.append(result)
    return results
