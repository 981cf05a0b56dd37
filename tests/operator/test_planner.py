"""The operator's planner, case by case: scale, drain, rollout, replacement, teardown, status.

Property-based tests of the same invariants over random fleets are in
``test_planner_properties.py``.
"""

from __future__ import annotations

import dataclasses
import random
import time

import pytest

from meeting_operator.planner import (
    CreatePod,
    DeletePod,
    DesiredState,
    DrainMark,
    McStatus,
    ObservedPod,
    Plan,
    PodPhase,
    StartDrain,
    decode_drain_mark,
    encode_drain_mark,
    plan,
    plan_teardown,
)

NOW = 10_000.0
NEW = "rev-new"
OLD = "rev-old"
TIMEOUT = 300.0


def desired(replicas: int = 3, *, max_surge: int = 1, revision: str = NEW) -> DesiredState:
    return DesiredState(
        replicas=replicas, revision=revision, max_surge=max_surge, drain_timeout_s=TIMEOUT
    )


def pod(
    name: str,
    *,
    revision: str = NEW,
    phase: PodPhase = PodPhase.RUNNING,
    ready: bool = True,
    registered: bool = True,
    state: str = "active",
    meetings: int = 0,
    participants: int = 0,
    reachable: bool = True,
    created_at: float = 0.0,
    deleting: bool = False,
    drain: DrainMark | None = None,
) -> ObservedPod:
    """A serving pod of the desired revision unless told otherwise."""
    mc = (
        McStatus(registered=registered, state=state, meetings=meetings, participants=participants)
        if reachable
        else None
    )
    return ObservedPod(
        name=name,
        revision=revision,
        phase=phase,
        deleting=deleting,
        created_at=created_at,
        ready=ready,
        mc=mc,
        drain=drain,
    )


def mark(
    deadline: float = NOW + 100, reason: str = "scale-down", started_at: float = NOW - 50
) -> DrainMark:
    return DrainMark(started_at=started_at, deadline=deadline, reason=reason)  # type: ignore[arg-type]


def fleet(*names: str, **kwargs: object) -> list[ObservedPod]:
    return [pod(name, **kwargs) for name in names]  # type: ignore[arg-type]


def drained(result: Plan) -> list[str]:
    """Names of the pods this plan starts draining (resent drains excluded)."""
    return [d.pod_name for d in result.drains if not d.resend]


def deleted(result: Plan) -> dict[str, str]:
    return {d.pod_name: d.reason for d in result.deletes}


def conditions(result: Plan) -> dict[str, tuple[bool, str]]:
    return {c.type: (c.status, c.reason) for c in result.summary.conditions}


# -- a fleet at rest ------------------------------------------------------------------------


def test_a_fleet_that_matches_its_spec_needs_nothing() -> None:
    result = plan(desired(3), fleet("a", "b", "c"), now=NOW)
    assert result.actions == ()
    assert result.requeue_after is None
    assert conditions(result) == {
        "Ready": (True, "ReplicasReady"),
        "Progressing": (False, "Complete"),
        "Draining": (False, "NoDrain"),
        "Degraded": (False, "AsExpected"),
    }


def test_an_empty_fleet_is_created_from_scratch() -> None:
    result = plan(desired(3), [], now=NOW)
    assert result.actions == (CreatePod(NEW),) * 3
    assert conditions(result)["Ready"] == (False, "ReplicasNotReady")
    assert conditions(result)["Progressing"] == (True, "CreatingPods")


def test_scaling_up_creates_only_the_missing_pods() -> None:
    assert plan(desired(5), fleet("a", "b"), now=NOW).actions == (CreatePod(NEW),) * 3


def test_pods_that_are_starting_are_waited_for_not_replaced() -> None:
    pods = [*fleet("a", "b"), pod("c", ready=False, registered=False, state="starting")]
    result = plan(desired(3), pods, now=NOW)
    assert result.actions == ()
    assert conditions(result)["Progressing"] == (True, "WaitingForReady")
    assert conditions(result)["Ready"] == (False, "ReplicasNotReady")


def test_the_same_observation_in_another_order_gives_the_same_plan() -> None:
    pods = [
        pod(name, participants=i % 3, meetings=i % 2, created_at=float(i % 4))
        for i, name in enumerate("abcdefghij")
    ]
    expected = plan(desired(4), pods, now=NOW)
    for seed in range(20):
        shuffled = list(pods)
        random.Random(seed).shuffle(shuffled)
        assert plan(desired(4), shuffled, now=NOW) == expected


# -- scale-down: who drains first -----------------------------------------------------------


@pytest.mark.parametrize(
    ("first", "second", "why"),
    [
        (pod("x", ready=False, participants=9), pod("y"), "a pod that is not ready"),
        (pod("x", registered=False, participants=9), pod("y"), "a pod not registered"),
        (pod("x", reachable=False), pod("y"), "a pod whose MC cannot be reached"),
        (pod("x", participants=1, meetings=5), pod("y", participants=2), "fewer participants"),
        (pod("x", meetings=1), pod("y", meetings=2), "fewer meetings"),
        (pod("x", revision=OLD, created_at=9), pod("y", created_at=1), "an old revision"),
        (
            pod("x", revision="rev-older", created_at=1),
            pod("y", revision=OLD, created_at=2),
            "the older of two old revisions",
        ),
        (pod("x", created_at=1), pod("y", created_at=2), "the older pod"),
        (pod("x"), pod("y"), "the first name, when all else is equal"),
    ],
)
def test_scale_down_drains_the_cheapest_pod_first(
    first: ObservedPod, second: ObservedPod, why: str
) -> None:
    for pods in ([first, second], [second, first]):
        assert drained(plan(desired(1), pods, now=NOW)) == ["x"], why


def test_a_scale_down_during_a_rollout_removes_old_and_unready_pods_before_busy_ones() -> None:
    pods = [
        pod("busy", participants=40, meetings=4),
        pod("quiet", participants=2, meetings=1),
        pod("idle"),
        pod("idle-old", revision=OLD, created_at=5.0),
        pod("idle-not-ready", ready=False, participants=7),
    ]
    result = plan(desired(2), pods, now=NOW)
    assert {d.pod_name: d.reason for d in result.drains} == {
        "idle-old": "rollout",
        "idle-not-ready": "scale-down",
        "idle": "scale-down",
    }


def test_scale_down_never_drains_more_than_the_excess() -> None:
    result = plan(desired(3), fleet("a", "b", "c", "d", "e"), now=NOW)
    assert drained(result) == ["a", "b"]
    assert {d.reason for d in result.drains} == {"scale-down"}
    assert conditions(result)["Progressing"] == (True, "ScalingDown")


def test_pods_already_draining_count_toward_the_excess() -> None:
    pods = [
        *fleet("a", "b", "c"),
        pod("d", state="draining", meetings=2, drain=mark()),
        pod("e", state="draining", meetings=1, drain=mark()),
    ]
    result = plan(desired(3), pods, now=NOW)
    assert result.actions == ()
    assert result.summary.draining == 2
    assert conditions(result)["Progressing"] == (True, "ScalingDown")


def test_scaling_to_zero_drains_every_pod() -> None:
    result = plan(desired(0), fleet("a", "b", "c", meetings=1), now=NOW)
    assert drained(result) == ["a", "b", "c"]
    assert result.creates == ()


def test_a_pod_that_never_started_is_deleted_rather_than_drained() -> None:
    pods = [*fleet("a", "b"), pod("p", phase=PodPhase.PENDING, ready=False, reachable=False)]
    result = plan(desired(2), pods, now=NOW)
    assert result.actions == (DeletePod("p", "unstarted"),)


def test_a_drain_gets_the_deadline_now_plus_the_timeout() -> None:
    result = plan(desired(1), fleet("a", "b"), now=NOW)
    assert result.drains == (StartDrain("a", NOW + TIMEOUT, "scale-down"),)
    assert result.requeue_after == TIMEOUT


def test_scaling_back_up_during_a_drain_creates_instead_of_cancelling_it() -> None:
    pods = [pod("a"), pod("b", state="draining", meetings=3, drain=mark())]
    result = plan(desired(2), pods, now=NOW)
    assert result.actions == (CreatePod(NEW),)


# -- drains: when a pod may go --------------------------------------------------------------


def test_a_draining_pod_with_meetings_is_kept_until_its_deadline() -> None:
    pods = [pod("a"), pod("b", state="draining", meetings=3, participants=12, drain=mark())]
    result = plan(desired(1), pods, now=NOW)
    assert result.actions == ()
    assert result.requeue_after == 100
    assert conditions(result)["Draining"] == (True, "DrainInProgress")
    assert result.summary.condition("Draining").message == "1 MC draining, 3 meetings left to move"
    assert result.summary.meetings_to_move == 3


@pytest.mark.parametrize(
    ("status", "reason"),
    [
        ({"state": "drained", "meetings": 0}, "drained"),
        ({"state": "drained", "meetings": 2}, "drained"),  # the MC closed what was left
        ({"state": "draining", "meetings": 0}, "drained"),
        ({"state": "shutting_down", "meetings": 0}, "drained"),
    ],
)
def test_a_pod_whose_drain_finished_is_deleted(status: dict[str, object], reason: str) -> None:
    pods = [pod("a"), pod("b", drain=mark(), **status)]  # type: ignore[arg-type]
    result = plan(desired(1), pods, now=NOW)
    assert result.actions == (DeletePod("b", reason),)  # type: ignore[arg-type]
    assert conditions(result)["Degraded"] == (False, "AsExpected")


def test_an_active_mc_with_no_meetings_is_not_deleted_before_it_acknowledges_its_drain() -> None:
    # The GC may place a meeting on it any moment until the MC itself says it drains.
    pods = [pod("a"), pod("b", state="active", meetings=0, drain=mark(deadline=NOW + 42))]
    result = plan(desired(1), pods, now=NOW)
    assert result.actions == (StartDrain("b", NOW + 42, "scale-down", resend=True),)


def test_a_drain_started_by_a_previous_run_keeps_its_deadline() -> None:
    earlier = mark(deadline=NOW + 7.25, reason="rollout", started_at=NOW - 292.75)
    pods = [
        *fleet("n1", "n2", "n3"),
        pod("old", revision=OLD, state="active", meetings=4, drain=earlier),
    ]
    result = plan(desired(3), pods, now=NOW)
    assert result.actions == (StartDrain("old", NOW + 7.25, "rollout", resend=True),)
    assert result.requeue_after == pytest.approx(7.25)


def test_a_drain_the_mc_acknowledged_is_not_sent_again() -> None:
    pods = [pod("a"), pod("b", state="draining", meetings=1, drain=mark())]
    assert plan(desired(1), pods, now=NOW).drains == ()


def test_an_unreachable_running_pod_is_kept_until_its_deadline() -> None:
    pods = [pod("a"), pod("b", reachable=False, ready=False, drain=mark(deadline=NOW + 5))]
    result = plan(desired(1), pods, now=NOW)
    assert result.actions == ()
    assert result.requeue_after == 5


@pytest.mark.parametrize("reachable", [True, False])
def test_a_drain_past_its_deadline_deletes_the_pod_even_with_meetings(reachable: bool) -> None:
    overdue = mark(deadline=NOW)
    pods = [pod("a"), pod("b", state="draining", meetings=3, reachable=reachable, drain=overdue)]
    result = plan(desired(1), pods, now=NOW)
    assert result.actions == (DeletePod("b", "deadline"),)
    assert conditions(result)["Degraded"] == (True, "DrainDeadlineExceeded")
    assert result.summary.draining == 0


def test_a_marked_pod_that_never_started_is_deleted_at_once() -> None:
    pods = [pod("a"), pod("b", phase=PodPhase.PENDING, reachable=False, drain=mark())]
    assert plan(desired(1), pods, now=NOW).actions == (DeletePod("b", "unstarted"),)


@pytest.mark.parametrize("state", ["draining", "shutting_down", "drained"])
def test_an_mc_draining_on_its_own_gets_a_deadline_and_a_replacement(state: str) -> None:
    pods = [*fleet("a", "b"), pod("c", state=state, meetings=2)]
    result = plan(desired(3), pods, now=NOW)
    assert result.actions == (StartDrain("c", NOW + TIMEOUT, "replace"), CreatePod(NEW))


# -- failed, exited and deleted pods --------------------------------------------------------


def test_failed_pods_are_deleted_at_once_and_replaced() -> None:
    pods = [*fleet("a", "b"), pod("c", phase=PodPhase.FAILED, ready=False, reachable=False)]
    result = plan(desired(3), pods, now=NOW)
    assert result.actions == (DeletePod("c", "failed"), CreatePod(NEW))
    assert conditions(result)["Degraded"] == (True, "PodsFailed")
    assert result.summary.condition("Degraded").message == "1 pod failed"


def test_a_failed_pod_is_deleted_even_while_it_drains() -> None:
    pods = [pod("a"), pod("b", phase=PodPhase.FAILED, meetings=3, drain=mark())]
    assert plan(desired(1), pods, now=NOW).actions == (DeletePod("b", "failed"),)


def test_exited_pods_are_replaced_without_calling_the_fleet_degraded() -> None:
    pods = [*fleet("a", "b"), pod("c", phase=PodPhase.SUCCEEDED, reachable=False)]
    result = plan(desired(3), pods, now=NOW)
    assert result.actions == (DeletePod("c", "exited"), CreatePod(NEW))
    assert conditions(result)["Degraded"] == (False, "AsExpected")


def test_pods_deleted_by_hand_are_replaced_but_not_deleted_again() -> None:
    pods = [*fleet("a", "b"), pod("c", deleting=True, state="draining", meetings=3)]
    result = plan(desired(3), pods, now=NOW)
    assert result.actions == (CreatePod(NEW),)
    assert result.summary.replicas == 2  # the terminating pod no longer counts


def test_replacements_are_created_even_while_other_pods_drain() -> None:
    pods = [
        pod("a"),
        pod("b", phase=PodPhase.FAILED),
        pod("c", state="draining", meetings=9, drain=mark()),
    ]
    result = plan(desired(2), pods, now=NOW)
    assert result.actions == (DeletePod("b", "failed"), CreatePod(NEW))


# -- rolling updates ------------------------------------------------------------------------


def test_a_rollout_creates_the_surge_pods_first() -> None:
    result = plan(desired(3), fleet("a", "b", "c", revision=OLD), now=NOW)
    assert result.actions == (CreatePod(NEW),)
    assert conditions(result)["Progressing"] == (True, "RollingUpdate")
    assert result.summary.condition("Progressing").message == "0 of 3 MCs at revision rev-new"


def test_a_larger_surge_creates_more_new_pods_at_once() -> None:
    result = plan(desired(3, max_surge=2), fleet("a", "b", "c", revision=OLD), now=NOW)
    assert result.actions == (CreatePod(NEW),) * 2


@pytest.mark.parametrize("surge", [0, -1])
def test_a_surge_below_one_is_planned_as_one(surge: int) -> None:
    result = plan(desired(3, max_surge=surge), fleet("a", "b", "c", revision=OLD), now=NOW)
    assert result.actions == (CreatePod(NEW),)


@pytest.mark.parametrize(
    "surge_pod",
    [
        pod("n", ready=False, registered=False, state="starting"),
        pod("n", ready=True, registered=False),  # ready but the GC does not know it yet
        pod("n", phase=PodPhase.PENDING, ready=False, reachable=False),
    ],
)
def test_old_pods_do_not_drain_until_the_surge_pod_is_ready_and_registered(
    surge_pod: ObservedPod,
) -> None:
    pods = [*fleet("a", "b", "c", revision=OLD), surge_pod]
    assert plan(desired(3), pods, now=NOW).actions == ()


def test_a_serving_surge_pod_lets_the_least_loaded_old_pod_drain_and_the_next_surge_start() -> None:
    pods = [
        pod("a", revision=OLD, participants=10),
        pod("b", revision=OLD, participants=3),
        pod("c", revision=OLD, participants=7),
        pod("n1"),
    ]
    result = plan(desired(3), pods, now=NOW)
    assert result.actions == (StartDrain("b", NOW + TIMEOUT, "rollout"), CreatePod(NEW))
    assert result.summary.ready == 3


def test_only_one_old_pod_drains_for_the_rollout_at_a_time() -> None:
    pods = [
        pod("a", revision=OLD, state="draining", meetings=2, drain=mark(reason="rollout")),
        *fleet("b", "c", revision=OLD),
        *fleet("n1", "n2"),
    ]
    result = plan(desired(3, max_surge=2), pods, now=NOW)
    # Capacity 4 > 3 would allow another drain, but one is in flight. Draining pods do not
    # count toward the surge: the next new pod starts while the old one drains.
    assert result.actions == (CreatePod(NEW),)


def test_the_next_old_pod_drains_once_the_previous_one_is_gone() -> None:
    pods = [
        pod("a", revision=OLD, state="drained", drain=mark(reason="rollout")),
        *fleet("b", "c", revision=OLD),
        *fleet("n1", "n2"),
    ]
    result = plan(desired(3, max_surge=2), pods, now=NOW)
    assert result.actions == (
        DeletePod("a", "drained"),
        StartDrain("b", NOW + TIMEOUT, "rollout"),
        CreatePod(NEW),
    )


def test_old_pods_that_do_not_serve_are_replaced_at_once() -> None:
    pods = [pod("a", revision=OLD), pod("b", revision=OLD, ready=False), pod("c", revision=OLD)]
    result = plan(desired(3), pods, now=NOW)
    assert result.actions == (
        StartDrain("b", NOW + TIMEOUT, "replace"),
        CreatePod(NEW),
        CreatePod(NEW),
    )


def test_an_old_pod_whose_mc_does_not_answer_is_not_replaced_at_once() -> None:
    # Ready, but the status call failed (slow MC, operator restart): it may well be serving.
    pods = [pod("a", revision=OLD), pod("b", revision=OLD, reachable=False), pod("c", revision=OLD)]
    result = plan(desired(3), pods, now=NOW)
    assert result.actions == (CreatePod(NEW),)


def test_capacity_already_below_replicas_is_not_reduced_further() -> None:
    pods = [pod("a", revision=OLD), pod("b", revision=OLD), pod("n1"), pod("n2", ready=False)]
    result = plan(desired(3), pods, now=NOW)
    assert drained(result) == []  # 3 serving == replicas: no old pod may go yet
    assert result.creates == ()  # the surge is used up by n2


def test_the_last_old_pod_drains_and_the_rollout_completes() -> None:
    pods = [pod("a", revision=OLD), *fleet("n1", "n2", "n3")]
    result = plan(desired(3), pods, now=NOW)
    assert result.actions == (StartDrain("a", NOW + TIMEOUT, "rollout"),)
    done = plan(desired(3), fleet("n1", "n2", "n3"), now=NOW)
    assert conditions(done)["Progressing"] == (False, "Complete")


def test_a_scale_down_during_a_rollout_drains_the_excess_and_keeps_the_surge() -> None:
    pods = [pod(name, revision=OLD, participants=i) for i, name in enumerate(["a", "b", "c", "d"])]
    result = plan(desired(2), pods, now=NOW)  # 4 old pods, 2 wanted, surge 1
    # Old pods beyond the replicas go at once (they are never needed, and capacity stays at
    # 2); the surge pod is created; the rollout drains start once it serves.
    assert result.actions == (
        StartDrain("a", NOW + TIMEOUT, "scale-down"),
        StartDrain("b", NOW + TIMEOUT, "scale-down"),
        CreatePod(NEW),
    )


def test_a_rollout_to_zero_replicas_just_drains_everything() -> None:
    result = plan(desired(0), fleet("a", "b", revision=OLD), now=NOW)
    assert drained(result) == ["a", "b"]
    assert result.creates == ()


# -- teardown -------------------------------------------------------------------------------


def test_teardown_drains_every_pod_with_the_delete_reason() -> None:
    result = plan_teardown(fleet("a", "b"), now=NOW, drain_timeout_s=60)
    assert result.actions == (
        StartDrain("a", NOW + 60, "delete"),
        StartDrain("b", NOW + 60, "delete"),
    )
    assert conditions(result)["Progressing"] == (True, "Deleting")
    assert conditions(result)["Ready"] == (False, "Deleting")


def test_teardown_keeps_the_deadline_of_drains_already_running() -> None:
    pods = [pod("a", state="draining", meetings=1, drain=mark(deadline=NOW + 999))]
    result = plan_teardown(pods, now=NOW, drain_timeout_s=60)
    assert result.actions == ()
    assert result.requeue_after == 999


def test_teardown_deletes_pods_once_drained_empty_or_overdue() -> None:
    pods = [
        pod("drained", state="drained", drain=mark()),
        pod("empty", state="draining", meetings=0, drain=mark()),
        pod("overdue", state="draining", meetings=5, drain=mark(deadline=NOW - 1)),
        pod("busy", state="draining", meetings=5, drain=mark()),
        pod("failed", phase=PodPhase.FAILED, reachable=False),
        pod("going", deleting=True),
    ]
    result = plan_teardown(pods, now=NOW, drain_timeout_s=60)
    assert deleted(result) == {
        "drained": "drained",
        "empty": "drained",
        "overdue": "deadline",
        "failed": "failed",
    }
    assert result.drains == ()
    assert result.summary.replicas == 1


def test_teardown_is_finished_when_no_live_pod_is_left() -> None:
    result = plan_teardown([pod("going", deleting=True)], now=NOW, drain_timeout_s=60)
    assert result.actions == ()
    assert result.summary.replicas == 0
    assert conditions(result)["Progressing"] == (False, "Deleted")


# -- the summary ----------------------------------------------------------------------------


def test_the_summary_counts_the_fleet_after_this_plan() -> None:
    pods = [
        pod("a", meetings=2, participants=9),
        pod("b", revision=OLD, meetings=1, participants=4),
        pod("c", state="draining", meetings=3, participants=8, drain=mark()),
        pod("d", state="drained", drain=mark()),
        pod("e", phase=PodPhase.FAILED, reachable=False),
    ]
    result = plan(desired(2), pods, now=NOW)
    summary = result.summary
    assert (summary.replicas, summary.ready, summary.updated, summary.draining) == (3, 2, 1, 1)
    assert (summary.meetings, summary.participants, summary.meetings_to_move) == (6, 21, 3)
    assert conditions(result) == {
        "Ready": (True, "ReplicasReady"),
        "Progressing": (True, "RollingUpdate"),
        "Draining": (True, "DrainInProgress"),
        "Degraded": (True, "PodsFailed"),
    }


def test_failures_and_overdue_drains_are_both_reported() -> None:
    pods = [
        pod("a"),
        pod("b", phase=PodPhase.FAILED),
        pod("c", state="draining", meetings=1, drain=mark(deadline=NOW - 1)),
        pod("d", state="draining", meetings=1, drain=mark(deadline=NOW - 2)),
    ]
    degraded = plan(desired(1), pods, now=NOW).summary.condition("Degraded")
    assert (degraded.status, degraded.reason) == (True, "PodsFailedAndDrainDeadlineExceeded")
    assert degraded.message == (
        "1 pod failed; 2 drains passed the deadline, deleted with meetings possibly left"
    )


# -- inputs ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs",
    [{"replicas": -1}, {"drain_timeout_s": -1.0}, {"drain_timeout_s": float("nan")}],
)
def test_a_desired_state_that_cannot_be_planned_is_refused(kwargs: dict[str, object]) -> None:
    fields: dict[str, object] = {
        "replicas": 1,
        "revision": NEW,
        "max_surge": 1,
        "drain_timeout_s": 1.0,
    }
    with pytest.raises(ValueError, match="must not be negative"):
        DesiredState(**{**fields, **kwargs})  # type: ignore[arg-type]


def test_a_drain_mark_survives_the_annotation_exactly() -> None:
    original = DrainMark(
        started_at=1733312345.123456, deadline=1733312645.1234567, reason="rollout"
    )
    assert decode_drain_mark(encode_drain_mark(original)) == original


@pytest.mark.parametrize(
    "value",
    [
        "not json",
        "[]",
        '{"startedAt": 1, "deadline": 2}',
        '{"startedAt": 1, "deadline": 2, "reason": "boredom"}',
        '{"startedAt": "1", "deadline": 2, "reason": "rollout"}',
        '{"startedAt": 1, "deadline": true, "reason": "rollout"}',
        '{"startedAt": 1, "deadline": Infinity, "reason": "rollout"}',
    ],
)
def test_a_malformed_drain_annotation_is_refused(value: str) -> None:
    with pytest.raises(ValueError, match="drain annotation"):
        decode_drain_mark(value)


# -- size -----------------------------------------------------------------------------------


def test_a_thousand_pods_scale_down_to_the_least_loaded_half() -> None:
    pods = [
        pod(f"mc-{i:04d}", participants=(i * 7919) % 1000, meetings=i % 5, created_at=float(i))
        for i in range(1000)
    ]
    started = time.perf_counter()
    result = plan(desired(500), pods, now=NOW)
    elapsed = time.perf_counter() - started
    participants = {p.name: p.mc.participants for p in pods if p.mc is not None}
    chosen = drained(result)
    assert len(chosen) == 500
    assert max(participants[n] for n in chosen) < min(
        participants[p.name] for p in pods if p.name not in set(chosen)
    )
    assert elapsed < 1.0, f"planning 1,000 pods took {elapsed:.3f} s"


def test_a_thousand_pod_rollout_surges_then_drains_one_at_a_time() -> None:
    pods = [pod(f"mc-{i:04d}", revision=OLD, participants=i % 50) for i in range(1000)]
    first = plan(desired(1000, max_surge=10), pods, now=NOW)
    assert first.actions == (CreatePod(NEW),) * 10
    surged = pods + [pod(f"new-{i}") for i in range(10)]
    second = plan(desired(1000, max_surge=10), surged, now=NOW)
    assert len(drained(second)) == 1
    assert second.drains[0].reason == "rollout"
    assert second.creates == (CreatePod(NEW),)


def test_pods_are_compared_by_name_only_as_a_last_resort() -> None:
    # Guard against the key silently depending on dataclass ordering of the whole pod.
    a = pod("a", participants=1)
    b = dataclasses.replace(pod("b"), created_at=-1.0)
    assert drained(plan(desired(1), [a, b], now=NOW)) == ["b"]
