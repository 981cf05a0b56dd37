"""The planner's invariants over random fleets, times and specs (hypothesis).

Each property restates an invariant from the planner's docstring with its own small oracle,
written from the specification rather than from the planner's code: which pods host meetings,
which pods serve, which pod is cheaper to drain.

The last test runs the planner in a loop against a simulated world (pods start after a few
steps, meetings end during drains) and checks that every fleet converges to its spec without
ever dropping capacity.
"""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Sequence

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from meeting_operator.planner import (
    DesiredState,
    DrainMark,
    McStatus,
    ObservedPod,
    Plan,
    PodPhase,
    plan,
    plan_teardown,
)

NOW = 50_000.0
NEW = "rev-new"
REVISIONS = (NEW, "rev-old", "rev-older")
STATES = ("active", "starting", "draining", "drained", "shutting_down")
SETTINGS = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# -- oracles --------------------------------------------------------------------------------


def dead(pod: ObservedPod) -> bool:
    return pod.phase in (PodPhase.FAILED, PodPhase.SUCCEEDED)


def hosts_meetings(pod: ObservedPod) -> bool:
    """Deleting it could cut meetings short (the specification's wording)."""
    if dead(pod):
        return False
    if pod.mc is None:
        return pod.phase in (PodPhase.RUNNING, PodPhase.UNKNOWN)
    return pod.mc.meetings > 0


def serving(pod: ObservedPod) -> bool:
    """Ready capacity: ready, registered, not draining."""
    return (
        pod.phase is PodPhase.RUNNING
        and pod.ready
        and not pod.deleting
        and pod.drain is None
        and pod.mc is not None
        and pod.mc.registered
        and pod.mc.state == "active"
    )


def active(pod: ObservedPod) -> bool:
    """Live, unmarked and not draining on its own: a member of the fleet proper."""
    return (
        not pod.deleting
        and not dead(pod)
        and pod.drain is None
        and (pod.mc is None or pod.mc.state in ("active", "starting"))
    )


def cheaper_to_drain(
    a: ObservedPod, b: ObservedPod, pods: Sequence[ObservedPod], desired: str
) -> bool:
    """Whether ``a`` comes before ``b`` in the scale-down order of the specification."""

    def born(revision: str) -> float:
        return min(p.created_at for p in pods if p.revision == revision)

    def key(p: ObservedPod) -> tuple[object, ...]:
        return (
            serving(p),
            p.mc.participants if p.mc else 0,
            p.mc.meetings if p.mc else 0,
            p.revision == desired,
            born(p.revision),
            p.created_at,
            p.name,
        )

    return key(a) < key(b)


# -- strategies -----------------------------------------------------------------------------


@st.composite
def observed_pod(draw: st.DrawFn, name: str) -> ObservedPod:
    phase = draw(st.sampled_from(PodPhase))
    mc = draw(
        st.none()
        | st.builds(
            McStatus,
            registered=st.booleans(),
            state=st.sampled_from(STATES),
            meetings=st.integers(0, 3),
            participants=st.integers(0, 6),
        )
    )
    drain = draw(
        st.none()
        | st.builds(
            DrainMark,
            started_at=st.just(NOW - 100),
            deadline=st.sampled_from([NOW - 10, NOW, NOW + 0.5, NOW + 30, NOW + 400]),
            reason=st.sampled_from(["scale-down", "rollout", "replace", "delete"]),
        )
    )
    return ObservedPod(
        name=name,
        revision=draw(st.sampled_from(REVISIONS)),
        phase=phase,
        deleting=draw(st.booleans().map(lambda b: b and draw(st.booleans()))),
        created_at=float(draw(st.integers(0, 5))),
        ready=draw(st.booleans()),
        mc=mc,
        drain=drain,
    )


@st.composite
def fleets(draw: st.DrawFn, max_size: int = 9) -> list[ObservedPod]:
    size = draw(st.integers(0, max_size))
    return [draw(observed_pod(f"mc-{i}")) for i in range(size)]


@st.composite
def healthy_fleets(draw: st.DrawFn) -> list[ObservedPod]:
    """Fleets in the common shape: running pods, mostly serving, a few drains in flight."""
    pods = []
    for i in range(draw(st.integers(0, 10))):
        serving_pod = draw(st.booleans() | st.just(True))
        pods.append(
            ObservedPod(
                name=f"mc-{i}",
                revision=draw(st.sampled_from(REVISIONS)),
                phase=PodPhase.RUNNING,
                deleting=False,
                created_at=float(draw(st.integers(0, 5))),
                ready=serving_pod,
                mc=McStatus(
                    registered=serving_pod or draw(st.booleans()),
                    state="active",
                    meetings=draw(st.integers(0, 3)),
                    participants=draw(st.integers(0, 6)),
                ),
                drain=None,
            )
        )
    return pods


desired_states = st.builds(
    DesiredState,
    replicas=st.integers(0, 7),
    revision=st.just(NEW),
    max_surge=st.integers(0, 3),
    drain_timeout_s=st.sampled_from([0.0, 60.0, 300.0]),
)
any_fleet = fleets() | healthy_fleets()


# -- applying a plan, as the I/O layer would ------------------------------------------------


def apply(
    pods: Sequence[ObservedPod], result: Plan, *, now: float, drains_finish: bool = True
) -> list[ObservedPod]:
    """The observation after the I/O layer carried the plan out (and nothing else changed):
    deleted pods are gone, marks are written, reachable MCs were told to drain, and created
    pods exist as Pending. ``drains_finish=False`` keeps a meeting on every MC told to drain,
    so that no drain can have finished by the next observation."""
    deletes = {d.pod_name for d in result.deletes}
    drains = {d.pod_name: d for d in result.drains}
    after = []
    for pod in pods:
        if pod.name in deletes:
            continue
        drain = drains.get(pod.name)
        if drain is not None:
            mark = pod.drain or DrainMark(
                started_at=now, deadline=drain.deadline, reason=drain.reason
            )
            mc = pod.mc
            if mc is not None and mc.state in ("active", "starting"):
                meetings = mc.meetings if drains_finish else max(1, mc.meetings)
                mc = dataclasses.replace(mc, state="draining", meetings=meetings)
            pod = dataclasses.replace(pod, drain=mark, mc=mc)
        after.append(pod)
    for i, create in enumerate(result.creates):
        after.append(
            ObservedPod(
                name=f"created-{now}-{i}",
                revision=create.revision,
                phase=PodPhase.PENDING,
                deleting=False,
                created_at=now,
                ready=False,
                mc=None,
            )
        )
    return after


def leaving(result: Plan) -> set[str]:
    return {d.pod_name for d in result.deletes} | {
        d.pod_name for d in result.drains if not d.resend
    }


# -- 1. nothing hosting meetings is deleted before its drain ends ---------------------------


def check_deletions_are_safe(pods: Sequence[ObservedPod], result: Plan, now: float) -> None:
    by_name = {p.name: p for p in pods}
    assert len(result.deletes) == len({d.pod_name for d in result.deletes})
    for delete in result.deletes:
        pod = by_name[delete.pod_name]
        assert not pod.deleting, "a terminating pod is never deleted again"
        if dead(pod):
            assert delete.reason in ("failed", "exited")
            continue
        if hosts_meetings(pod):
            assert pod.drain is not None, f"{pod} hosts meetings and was never drained"
            assert (pod.mc is not None and pod.mc.state == "drained") or now >= pod.drain.deadline
        if pod.drain is None:
            assert delete.reason == "unstarted"  # never started
            assert pod.phase is PodPhase.PENDING
            assert pod.mc is None
        elif delete.reason == "deadline":
            assert now >= pod.drain.deadline
        elif delete.reason == "drained":
            assert pod.mc is not None
            assert pod.mc.state == "drained" or (
                pod.mc.state in ("draining", "shutting_down") and pod.mc.meetings == 0
            )
        else:
            assert delete.reason == "unstarted"
            assert pod.phase is PodPhase.PENDING
            assert pod.mc is None


@SETTINGS
@given(desired=desired_states, pods=any_fleet, now=st.sampled_from([NOW - 20, NOW, NOW + 1]))
def test_no_pod_that_hosts_meetings_is_deleted_before_its_drain_ended(
    desired: DesiredState, pods: list[ObservedPod], now: float
) -> None:
    check_deletions_are_safe(pods, plan(desired, pods, now=now), now)


@SETTINGS
@given(pods=any_fleet, now=st.sampled_from([NOW - 20, NOW, NOW + 1]))
def test_teardown_deletes_nothing_that_hosts_meetings_before_its_drain_ended(
    pods: list[ObservedPod], now: float
) -> None:
    check_deletions_are_safe(pods, plan_teardown(pods, now=now, drain_timeout_s=60), now)


@SETTINGS
@given(desired=desired_states, pods=any_fleet)
def test_dead_pods_go_at_once_and_overdue_drains_go_even_with_meetings(
    desired: DesiredState, pods: list[ObservedPod]
) -> None:
    deleted = {d.pod_name: d.reason for d in plan(desired, pods, now=NOW).deletes}
    for pod in pods:
        if pod.deleting:
            assert pod.name not in deleted
        elif dead(pod):
            assert deleted[pod.name] == ("failed" if pod.phase is PodPhase.FAILED else "exited")
        elif pod.drain is not None and pod.drain.deadline <= NOW:
            assert deleted[pod.name] in ("deadline", "drained", "unstarted")


# -- 2. scale-down order and amount ---------------------------------------------------------


@SETTINGS
@given(
    replicas=st.integers(0, 10),
    pods=healthy_fleets(),
    revision=st.sampled_from(REVISIONS),
)
def test_scale_down_drains_exactly_the_excess_cheapest_first(
    replicas: int, pods: list[ObservedPod], revision: str
) -> None:
    pods = [dataclasses.replace(p, revision=revision) for p in pods]  # no rollout
    desired = DesiredState(replicas=replicas, revision=revision, max_surge=1, drain_timeout_s=9)
    result = plan(desired, pods, now=NOW)
    gone = leaving(result)
    kept = [p for p in pods if p.name not in gone]
    assert len(gone) == max(0, len(pods) - replicas)
    assert len(result.creates) == max(0, replicas - len(pods))
    for name in gone:
        drained = next(p for p in pods if p.name == name)
        for other in kept:
            assert cheaper_to_drain(drained, other, pods, revision)


@SETTINGS
@given(desired=desired_states, pods=any_fleet)
def test_the_fleet_is_never_shrunk_below_the_replicas_nor_left_above_them(
    desired: DesiredState, pods: list[ObservedPod]
) -> None:
    result = plan(desired, pods, now=NOW)
    gone = leaving(result)
    remaining = [p for p in pods if active(p) and p.name not in gone]
    total = len(remaining) + len(result.creates)
    assert total >= desired.replicas, "replacements are created whatever drains are in flight"
    old_remaining = any(p.revision != NEW for p in remaining)
    if desired.replicas > 0 and old_remaining:
        assert total <= desired.replicas + max(1, desired.max_surge), "the surge is a bound"
    else:
        assert total == desired.replicas, "no pod beyond the replicas once no rollout runs"


# -- 3. rolling updates ---------------------------------------------------------------------


@SETTINGS
@given(desired=desired_states, pods=any_fleet)
def test_ready_capacity_never_drops_below_the_replicas(
    desired: DesiredState, pods: list[ObservedPod]
) -> None:
    result = plan(desired, pods, now=NOW)
    before = sum(1 for p in pods if serving(p))
    after = sum(1 for p in pods if serving(p) and p.name not in leaving(result))
    assert after >= min(desired.replicas, before)


@SETTINGS
@given(desired=desired_states, pods=any_fleet)
def test_old_pods_drain_one_at_a_time_and_only_when_new_capacity_serves(
    desired: DesiredState, pods: list[ObservedPod]
) -> None:
    result = plan(desired, pods, now=NOW)
    rollout = [d for d in result.drains if d.reason == "rollout" and not d.resend]
    assert len(rollout) <= 1
    if rollout:
        in_flight = [
            p
            for p in pods
            if p.drain is not None
            and p.drain.reason == "rollout"
            and not p.deleting
            and not dead(p)
            and p.name not in {d.pod_name for d in result.deletes}
        ]
        assert in_flight == []
        pod = next(p for p in pods if p.name == rollout[0].pod_name)
        assert pod.revision != NEW
        assert serving(pod)


@SETTINGS
@given(desired=desired_states, pods=any_fleet)
def test_old_pods_known_to_be_out_of_service_are_replaced_at_once(
    desired: DesiredState, pods: list[ObservedPod]
) -> None:
    result = plan(desired, pods, now=NOW)
    if desired.replicas == 0:
        return
    for pod in pods:
        known_idle = (
            pod.phase is not PodPhase.RUNNING
            or not pod.ready
            or (pod.mc is not None and (not pod.mc.registered or pod.mc.state != "active"))
        )
        if active(pod) and pod.revision != NEW and known_idle:
            assert pod.name in leaving(result)


@SETTINGS
@given(desired=desired_states, pods=any_fleet)
def test_only_pods_of_the_desired_revision_are_created(
    desired: DesiredState, pods: list[ObservedPod]
) -> None:
    assert all(c.revision == NEW for c in plan(desired, pods, now=NOW).creates)


# -- 5/6. determinism, idempotence, deadlines -----------------------------------------------


@SETTINGS
@given(desired=desired_states, pods=any_fleet, seed=st.integers(0, 2**16))
def test_the_same_observation_gives_the_same_plan_in_any_order(
    desired: DesiredState, pods: list[ObservedPod], seed: int
) -> None:
    shuffled = list(pods)
    random.Random(seed).shuffle(shuffled)
    assert plan(desired, shuffled, now=NOW) == plan(desired, pods, now=NOW)
    assert plan_teardown(shuffled, now=NOW, drain_timeout_s=5) == plan_teardown(
        pods, now=NOW, drain_timeout_s=5
    )


@SETTINGS
@given(desired=desired_states, pods=any_fleet)
def test_re_planning_after_the_plan_was_carried_out_never_drains_a_pod_twice(
    desired: DesiredState, pods: list[ObservedPod]
) -> None:
    first = plan(desired, pods, now=NOW)
    after = apply(pods, first, now=NOW)
    second = plan(desired, after, now=NOW)
    marked = {p.name: p.drain for p in after if p.drain is not None}
    for drain in second.drains:
        if drain.pod_name in marked:
            assert drain.resend
            assert drain.deadline == marked[drain.pod_name].deadline


@SETTINGS
@given(desired=desired_states, pods=any_fleet)
def test_re_planning_while_the_drains_run_plans_nothing_new(
    desired: DesiredState, pods: list[ObservedPod]
) -> None:
    desired = dataclasses.replace(desired, drain_timeout_s=60.0)
    first = plan(desired, pods, now=NOW)
    second = plan(desired, apply(pods, first, now=NOW, drains_finish=False), now=NOW)
    assert [d for d in second.drains if not d.resend] == []
    assert second.creates == ()


@SETTINGS
@given(desired=desired_states, pods=any_fleet, timeout=st.sampled_from([1.0, 300.0]))
def test_a_continued_drain_keeps_its_deadline_and_a_new_one_gets_now_plus_the_timeout(
    desired: DesiredState, pods: list[ObservedPod], timeout: float
) -> None:
    desired = dataclasses.replace(desired, drain_timeout_s=timeout)
    by_name = {p.name: p for p in pods}
    for result in (
        plan(desired, pods, now=NOW),
        plan_teardown(pods, now=NOW, drain_timeout_s=timeout),
    ):
        for drain in result.drains:
            mark = by_name[drain.pod_name].drain
            if mark is None:
                assert not drain.resend
                assert drain.deadline == NOW + timeout
            else:
                assert drain.resend
                assert (drain.deadline, drain.reason) == (mark.deadline, mark.reason)
        if result.requeue_after is not None:
            assert result.requeue_after > 0


# -- 7. teardown ----------------------------------------------------------------------------


@SETTINGS
@given(pods=any_fleet)
def test_teardown_takes_every_live_pod_out_and_creates_none(pods: list[ObservedPod]) -> None:
    result = plan_teardown(pods, now=NOW, drain_timeout_s=60)
    assert result.creates == ()
    handled = {d.pod_name for d in result.deletes} | {d.pod_name for d in result.drains}
    for pod in pods:
        if pod.deleting:
            assert pod.name not in handled
        elif pod.drain is None:
            assert pod.name in handled
            assert pod.name not in {d.pod_name for d in result.drains if d.reason != "delete"}


@SETTINGS
@given(pods=any_fleet)
def test_teardown_driven_to_its_end_leaves_no_pod(pods: list[ObservedPod]) -> None:
    now = NOW
    for _ in range(4):
        result = plan_teardown(pods, now=now, drain_timeout_s=60)
        pods = [p for p in apply(pods, result, now=now) if not p.deleting]
        now += 500  # past every deadline a drain can have
    assert plan_teardown(pods, now=now, drain_timeout_s=60).summary.replicas == 0


# -- 8. the summary -------------------------------------------------------------------------


@SETTINGS
@given(desired=desired_states, pods=any_fleet)
def test_the_conditions_agree_with_the_counts(
    desired: DesiredState, pods: list[ObservedPod]
) -> None:
    result = plan(desired, pods, now=NOW)
    summary = result.summary
    conditions = {c.type: c for c in summary.conditions}
    assert list(conditions) == ["Ready", "Progressing", "Draining", "Degraded"]
    assert conditions["Ready"].status == (summary.ready >= desired.replicas)
    assert conditions["Draining"].status == (summary.draining > 0)
    failed = any(p.phase is PodPhase.FAILED and not p.deleting for p in pods)
    overdue = any(d.reason == "deadline" for d in result.deletes)
    assert conditions["Degraded"].status == (failed or overdue)
    if result.creates or any(d.reason != "replace" for d in result.drains if not d.resend):
        assert conditions["Progressing"].status
    if any(active(p) and p.revision != NEW for p in pods):
        assert conditions["Progressing"].reason == "RollingUpdate"
    assert summary.ready <= summary.replicas
    assert summary.draining <= summary.replicas


# -- the loop: every fleet converges, capacity holds at every step --------------------------


@dataclasses.dataclass
class World:
    """A tiny stand-in for the cluster: pods start after a few steps, drains take a few."""

    start_delay: int
    drain_steps: int
    pods: list[ObservedPod]
    ages: dict[str, int] = dataclasses.field(default_factory=dict)

    def step(self, now: float) -> None:
        advanced = []
        for pod in self.pods:
            age = self.ages[pod.name] = self.ages.get(pod.name, 0) + 1
            if pod.mc is None and age >= self.start_delay:
                pod = dataclasses.replace(
                    pod,
                    phase=PodPhase.RUNNING,
                    ready=True,
                    mc=McStatus(registered=True, state="active", meetings=0, participants=0),
                )
            elif (
                pod.drain is not None
                and pod.mc is not None
                and pod.mc.meetings > 0
                and age % self.drain_steps == 0
            ):
                pod = dataclasses.replace(
                    pod, mc=dataclasses.replace(pod.mc, meetings=pod.mc.meetings - 1)
                )
            advanced.append(pod)
        self.pods = advanced


@settings(max_examples=60, deadline=None)
@given(
    start=st.integers(0, 8),
    replicas=st.integers(0, 6),
    surge=st.integers(1, 3),
    revision=st.sampled_from([NEW, "rev-old"]),
    meetings=st.lists(st.integers(0, 4), max_size=8),
    start_delay=st.integers(1, 3),
    drain_steps=st.integers(1, 4),
)
def test_every_fleet_converges_to_its_spec_without_dropping_capacity(
    start: int,
    replicas: int,
    surge: int,
    revision: str,
    meetings: list[int],
    start_delay: int,
    drain_steps: int,
) -> None:
    pods = [
        ObservedPod(
            name=f"mc-{i}",
            revision=revision,
            phase=PodPhase.RUNNING,
            deleting=False,
            created_at=float(i),
            ready=True,
            mc=McStatus(
                registered=True,
                state="active",
                meetings=meetings[i] if i < len(meetings) else 0,
                participants=3 * (meetings[i] if i < len(meetings) else 0),
            ),
        )
        for i in range(start)
    ]
    world = World(start_delay=start_delay, drain_steps=drain_steps, pods=pods)
    desired = DesiredState(replicas=replicas, revision=NEW, max_surge=surge, drain_timeout_s=1e9)
    now = NOW
    for _ in range(300):
        result = plan(desired, world.pods, now=now)
        check_deletions_are_safe(world.pods, result, now)
        before = sum(1 for p in world.pods if serving(p))
        world.pods = apply(world.pods, result, now=now)
        after = sum(1 for p in world.pods if serving(p))
        assert after >= min(replicas, before)
        live = [p for p in world.pods if p.drain is None]
        assert len(live) <= max(start, replicas + surge)
        if (
            not result.actions
            and all(serving(p) and p.revision == NEW for p in world.pods)
            and len(world.pods) == replicas
        ):
            assert not result.summary.condition("Progressing").status
            assert result.summary.condition("Ready").status
            return
        now += 1.0
        world.step(now)
    raise AssertionError(f"no convergence: {world.pods}")
