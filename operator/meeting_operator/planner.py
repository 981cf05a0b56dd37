"""The operator's planner: from what is observed, the actions that move the fleet to its spec.

Pure: no I/O, no clock, no Kubernetes or kopf imports. The I/O layer lists the MC pods, reads
each pod's drain annotation and asks each MC for its status, builds :class:`ObservedPod` values,
calls :func:`plan` (or :func:`plan_teardown` while the ``MeetingController`` is being deleted)
with ``now`` and carries the returned actions out. Re-planning the same observation gives the
same plan, so a crash or a retry between two actions is harmless.

The promises, each tested with tables and with property-based tests
(``tests/operator/test_planner*.py``):

* **No meeting is cut short by the operator.** A pod that may host meetings (its MC reports
  meetings, or is unreachable while the pod runs) is deleted only once its drain finished (the
  MC reports ``drained``, or ``draining`` with no meeting left) or its drain deadline passed.
  Pods that are failed, exited or never started have nothing to drain and go at once.
* **Scale-down removes the cheapest pods first**: not serving (not ready, not registered, not
  active) first, then fewest participants, fewest meetings, an old revision before the desired
  one (the oldest first), the oldest pod; never more than the excess, and pods already draining
  count as gone.
* **A rolling update surges before it drains.** New-revision pods are created first (up to
  ``max_surge`` above ``replicas``); an old pod that serves is drained only while the serving
  capacity stays at or above ``replicas`` afterwards, and only one at a time. Old pods known to
  be out of service carry no capacity and are replaced at once.
* **Missing pods are replaced**: there are always at least ``replicas`` live pods that are not
  draining, whatever drains are in flight.
* **A drain is started once and keeps its deadline.** The deadline lives in the pod's
  annotation (:class:`DrainMark`); a later run - after an operator restart too - continues it
  with that same deadline and never starts a second one.
"""

from __future__ import annotations

import dataclasses
import enum
import json
import math
from collections.abc import Callable, Iterable, Sequence
from typing import Literal, TypeAlias

__all__ = [
    "DRAIN_ANNOTATION",
    "Action",
    "Condition",
    "ConditionType",
    "CreatePod",
    "DeletePod",
    "DeleteReason",
    "DesiredState",
    "DrainMark",
    "DrainReason",
    "McStatus",
    "ObservedPod",
    "Plan",
    "PodPhase",
    "StartDrain",
    "Summary",
    "decode_drain_mark",
    "encode_drain_mark",
    "hosts_meetings",
    "is_serving",
    "plan",
    "plan_teardown",
]

DRAIN_ANNOTATION = "meetingcontroller.io/drain"
"""The pod annotation that holds a :class:`DrainMark` (see :func:`encode_drain_mark`)."""

DrainReason: TypeAlias = Literal["scale-down", "rollout", "replace", "delete"]
"""Why a pod drains.

* ``scale-down`` - there are more pods than ``replicas``.
* ``rollout`` - a serving pod of an old revision, drained because a new pod took its place.
* ``replace`` - a pod that carries no capacity and leaves: an old-revision pod that does not
  serve, or an MC that began draining on its own (SIGTERM, a GC command) and gets a deadline.
* ``delete`` - the ``MeetingController`` itself is being deleted.
"""

DeleteReason: TypeAlias = Literal["drained", "deadline", "failed", "exited", "unstarted"]
"""Why a pod is deleted: its drain finished, its drain deadline passed, it failed, its MC
exited (phase Succeeded), or it never started (Pending, MC unreachable: nothing to drain)."""

ConditionType: TypeAlias = Literal["Ready", "Progressing", "Draining", "Degraded"]

# MC states as GetStatus reports them (``McPhase`` values in the controller package).
_ACTIVE = "active"
_DRAINED = "drained"
_SELF_DRAINING_STATES = frozenset({"draining", "drained", "shutting_down"})
"""States in which an MC left service whether or not the operator asked it to."""


class PodPhase(enum.Enum):
    """The pod's ``status.phase``; the values are Kubernetes' spelling, so
    ``PodPhase(pod["status"]["phase"])`` converts."""

    PENDING = "Pending"
    RUNNING = "Running"
    SUCCEEDED = "Succeeded"
    FAILED = "Failed"
    UNKNOWN = "Unknown"


@dataclasses.dataclass(frozen=True)
class DesiredState:
    """What the ``MeetingController`` spec asks for, reduced to what planning needs."""

    replicas: int
    """How many serving MCs the fleet should have."""
    revision: str
    """Hash of the pod template; pods labelled with another revision are out of date."""
    max_surge: int
    """How many new-revision pods a rolling update may create above ``replicas``. Values below
    1 are planned as 1: without a surge pod a rollout could only proceed by dropping capacity,
    which the planner never does."""
    drain_timeout_s: float
    """How long a drain may take before the pod is deleted regardless of its meetings."""

    def __post_init__(self) -> None:
        if self.replicas < 0:
            raise ValueError(f"replicas must not be negative, got {self.replicas}")
        if not self.drain_timeout_s >= 0:  # also rejects NaN
            raise ValueError(f"drain_timeout_s must not be negative, got {self.drain_timeout_s}")

    @property
    def surge(self) -> int:
        """The surge the planner actually uses (at least 1, see ``max_surge``)."""
        return max(1, self.max_surge)


@dataclasses.dataclass(frozen=True)
class McStatus:
    """What the MC in a pod reports through its admin ``GetStatus``."""

    registered: bool
    """Registered with the GC: only then can the GC place meetings here."""
    state: str
    """``active``, ``starting``, ``draining``, ``drained`` or ``shutting_down``. A string, not
    an enum, so that an MC newer than the operator cannot make the observation unparseable;
    unknown states are treated like ``starting`` (not serving, not draining)."""
    meetings: int
    participants: int


@dataclasses.dataclass(frozen=True)
class DrainMark:
    """The drain annotation on a pod: written once when the drain starts, never rewritten.

    Keeping it on the pod (not in operator memory) is what lets a restarted operator continue
    a drain with its original deadline.
    """

    started_at: float
    """Unix seconds when the operator started the drain."""
    deadline: float
    """Unix seconds after which the pod is deleted even if its MC still hosts meetings."""
    reason: DrainReason


@dataclasses.dataclass(frozen=True)
class ObservedPod:
    """One MC pod as the I/O layer saw it in this reconciliation."""

    name: str
    """Pod name, which is also the MC id; unique within the fleet."""
    revision: str
    """The pod's revision label (the template hash it was created from)."""
    phase: PodPhase
    deleting: bool
    """``metadata.deletionTimestamp`` is set: Kubernetes is already terminating the pod (its MC
    got SIGTERM and drains itself). It counts for nothing and is not deleted again."""
    created_at: float
    """Unix seconds (``metadata.creationTimestamp``)."""
    ready: bool
    """The pod's ``Ready`` condition (the MC's ``/readyz``)."""
    mc: McStatus | None
    """The MC's status, or ``None`` when it could not be reached (yet)."""
    drain: DrainMark | None = None
    """The pod's drain annotation, if any."""


@dataclasses.dataclass(frozen=True)
class CreatePod:
    """Create one MC pod from the template of ``revision`` (the I/O layer picks its name)."""

    revision: str


@dataclasses.dataclass(frozen=True)
class StartDrain:
    """Drain a pod: write its :data:`DRAIN_ANNOTATION`, then call the MC's admin ``Drain``.

    Write the annotation *first*: if the operator dies before the ``Drain`` call, the next run
    sees the mark and sends the call again (``resend``) with the same deadline. Never overwrite
    an existing annotation.
    """

    pod_name: str
    deadline: float
    reason: DrainReason
    resend: bool = False
    """The pod already carries this mark but its MC still reports it is not draining (the
    ``Drain`` call was lost, or the MC restarted): only the ``Drain`` call is repeated, with the
    mark's deadline. Not a new drain: no Event, no "drains started" metric."""


@dataclasses.dataclass(frozen=True)
class DeletePod:
    """Delete a pod (its MC, if still alive, gets SIGTERM and the pod's grace period)."""

    pod_name: str
    reason: DeleteReason


Action: TypeAlias = CreatePod | StartDrain | DeletePod


@dataclasses.dataclass(frozen=True)
class Condition:
    """A status condition in the Kubernetes style (``status`` is ``"True"``/``"False"``)."""

    type: ConditionType
    status: bool
    reason: str
    """CamelCase, machine-readable."""
    message: str
    """For humans (``kubectl describe``)."""


@dataclasses.dataclass(frozen=True)
class Summary:
    """The fleet as it stands once this plan's drains and deletions are carried out (pods it
    creates do not exist yet). The source of the CR's status totals and conditions."""

    replicas: int
    """Live pods (not failed, exited or terminating), draining ones included."""
    ready: int
    """Serving pods: ready, registered, MC active, not draining."""
    updated: int
    """Live pods at the desired revision that are not draining."""
    draining: int
    meetings: int
    """Meetings hosted by all reachable MCs of the fleet."""
    participants: int
    meetings_to_move: int
    """Meetings still hosted by draining MCs."""
    conditions: tuple[Condition, ...]
    """One of each :data:`ConditionType`, in the order Ready, Progressing, Draining, Degraded."""

    def condition(self, type_: ConditionType) -> Condition:
        """The condition of that type."""
        for condition in self.conditions:
            if condition.type == type_:
                return condition
        raise KeyError(type_)  # pragma: no cover - every Summary carries all four


@dataclasses.dataclass(frozen=True)
class Plan:
    """What to do now, what to report, and when to look again."""

    actions: tuple[Action, ...]
    """Deletions (by pod name), then drains (by pod name), then creations. The order carries
    no dependency: the I/O layer may carry them out concurrently."""
    summary: Summary
    requeue_after: float | None
    """Seconds until the nearest pending drain deadline (``None``: no drain pending). The
    planner knows no other timer: while a drain or rollout is in progress, MC status changes
    (meetings ending, registration) produce no Kubernetes event, so the I/O layer must also poll
    at its own status interval while ``Progressing`` or ``Draining`` is true."""

    @property
    def creates(self) -> tuple[CreatePod, ...]:
        return tuple(a for a in self.actions if isinstance(a, CreatePod))

    @property
    def drains(self) -> tuple[StartDrain, ...]:
        return tuple(a for a in self.actions if isinstance(a, StartDrain))

    @property
    def deletes(self) -> tuple[DeletePod, ...]:
        return tuple(a for a in self.actions if isinstance(a, DeletePod))


# -- the annotation codec -------------------------------------------------------------------


def encode_drain_mark(mark: DrainMark) -> str:
    """The annotation value: compact JSON. Floats survive the round trip exactly, which is what
    keeps a continued drain's deadline *the same* deadline."""
    return json.dumps(
        {"startedAt": mark.started_at, "deadline": mark.deadline, "reason": mark.reason},
        separators=(",", ":"),
        sort_keys=True,
    )


def decode_drain_mark(value: str) -> DrainMark:
    """Parse an annotation written by :func:`encode_drain_mark`; ``ValueError`` if malformed.

    The I/O layer decides what a malformed mark means (someone edited it by hand); treating it
    as absent would start a new drain with a new deadline, so it should rather report it.
    """
    try:
        data = json.loads(value)
    except json.JSONDecodeError as error:
        raise ValueError(f"drain annotation is not JSON: {error}") from None
    if not isinstance(data, dict):
        raise ValueError("drain annotation must be a JSON object")
    started_at = _finite_number(data.get("startedAt"), "startedAt")
    deadline = _finite_number(data.get("deadline"), "deadline")
    reason = data.get("reason")
    if reason not in ("scale-down", "rollout", "replace", "delete"):
        raise ValueError(f"drain annotation has an unknown reason {reason!r}")
    return DrainMark(started_at=started_at, deadline=deadline, reason=reason)


def _finite_number(value: object, field: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError(f"drain annotation needs a finite number in {field!r}, got {value!r}")
    return float(value)


# -- predicates -----------------------------------------------------------------------------


def is_serving(pod: ObservedPod) -> bool:
    """Whether the pod is serving capacity: running, ready, its MC registered and active, and
    not draining or terminating. The capacity a rollout must never reduce below ``replicas``."""
    return (
        pod.phase is PodPhase.RUNNING
        and pod.ready
        and not pod.deleting
        and pod.drain is None
        and pod.mc is not None
        and pod.mc.registered
        and pod.mc.state == _ACTIVE
    )


def _out_of_service(pod: ObservedPod) -> bool:
    """Known to carry no capacity: not running, not ready, or its MC says it is not registered
    or not active. An MC that merely does not answer while its pod is Ready is *not* known to be
    out of service (a slow or restarting status call must not get a serving MC replaced)."""
    if pod.phase is not PodPhase.RUNNING or not pod.ready:
        return True
    return pod.mc is not None and (not pod.mc.registered or pod.mc.state != _ACTIVE)


def hosts_meetings(pod: ObservedPod) -> bool:
    """Whether deleting the pod could cut meetings short: its MC reports meetings, or it cannot
    be asked while its pod may run. Failed and exited pods host nothing."""
    if pod.phase in (PodPhase.FAILED, PodPhase.SUCCEEDED):
        return False
    if pod.mc is None:
        return pod.phase in (PodPhase.RUNNING, PodPhase.UNKNOWN)
    return pod.mc.meetings > 0


def _is_dead(pod: ObservedPod) -> bool:
    return pod.phase in (PodPhase.FAILED, PodPhase.SUCCEEDED)


def _is_unstarted(pod: ObservedPod) -> bool:
    """Pending with no MC to talk to: its containers never ran, there is nothing to drain."""
    return pod.phase is PodPhase.PENDING and pod.mc is None


def _finished_drain(pod: ObservedPod) -> DeleteReason | None:
    """Why a marked pod may go now (apart from its deadline), or ``None`` while it drains.

    "No meeting left" only counts once the MC itself says it drains: an MC still ``active``
    with zero meetings may be handed a meeting by the GC any moment.
    """
    mc = pod.mc
    if mc is None:
        return "unstarted" if pod.phase is PodPhase.PENDING else None
    if mc.state == _DRAINED:
        return "drained"
    if mc.state in _SELF_DRAINING_STATES and mc.meetings == 0:
        return "drained"
    return None


# -- planning -------------------------------------------------------------------------------


_SortKey: TypeAlias = tuple[bool, int, int, bool, float, float, str]


class _Planner:
    """Accumulates the decisions of one planning pass (one instance per call)."""

    def __init__(self, pods: Sequence[ObservedPod], *, now: float, drain_timeout_s: float) -> None:
        self.pods = pods
        self.now = now
        self.new_deadline = now + drain_timeout_s
        self.deletes: dict[str, DeletePod] = {}
        self.drains: dict[str, StartDrain] = {}
        self.creates = 0
        self.failed = 0
        self.deadline_deletes = 0
        self.draining: list[ObservedPod] = []
        """Pods that drain after this plan (marked ones still waiting, plus new drains)."""
        self.draining_reasons: dict[str, DrainReason] = {}
        self.rollout_drains_in_flight = 0
        self.pending_deadlines: list[float] = []

    def sort_out(self, *, self_drain_reason: DrainReason) -> list[ObservedPod]:
        """Handle every pod that is not part of the active fleet; return the active ones.

        Active = live (not dead, not terminating), not marked, and not draining on its own.
        An MC draining on its own gets a mark with ``self_drain_reason``.
        """
        active: list[ObservedPod] = []
        for pod in self.pods:
            if pod.deleting:
                continue
            if pod.phase is PodPhase.FAILED:
                self.failed += 1
                self._delete(pod, "failed")
            elif pod.phase is PodPhase.SUCCEEDED:
                self._delete(pod, "exited")
            elif pod.drain is not None:
                self._continue_drain(pod, pod.drain)
            elif pod.mc is not None and pod.mc.state in _SELF_DRAINING_STATES:
                self.remove(pod, self_drain_reason)
            else:
                active.append(pod)
        return active

    def _continue_drain(self, pod: ObservedPod, mark: DrainMark) -> None:
        finished = _finished_drain(pod)
        if finished is not None:
            self._delete(pod, finished)
        elif self.now >= mark.deadline:
            self.deadline_deletes += 1
            self._delete(pod, "deadline")
        else:
            if pod.mc is not None and pod.mc.state not in _SELF_DRAINING_STATES:
                self.drains[pod.name] = StartDrain(
                    pod_name=pod.name, deadline=mark.deadline, reason=mark.reason, resend=True
                )
            self.draining.append(pod)
            self.draining_reasons[pod.name] = mark.reason
            self.pending_deadlines.append(mark.deadline)
            if mark.reason == "rollout":
                self.rollout_drains_in_flight += 1

    def remove(self, pod: ObservedPod, reason: DrainReason) -> None:
        """Take an active pod out of the fleet: delete it if it never started, else drain it."""
        if _is_unstarted(pod):
            self._delete(pod, "unstarted")
            return
        self.drains[pod.name] = StartDrain(
            pod_name=pod.name, deadline=self.new_deadline, reason=reason
        )
        self.draining.append(pod)
        self.draining_reasons[pod.name] = reason
        self.pending_deadlines.append(self.new_deadline)

    def is_leaving(self, pod: ObservedPod) -> bool:
        """Whether this plan already drains or deletes the pod."""
        return pod.name in self.deletes or (
            pod.name in self.drains and not self.drains[pod.name].resend
        )

    def _delete(self, pod: ObservedPod, reason: DeleteReason) -> None:
        self.deletes[pod.name] = DeletePod(pod_name=pod.name, reason=reason)

    def actions(self, revision: str) -> tuple[Action, ...]:
        deletes = [self.deletes[name] for name in sorted(self.deletes)]
        drains = [self.drains[name] for name in sorted(self.drains)]
        creates = [CreatePod(revision=revision)] * self.creates
        return (*deletes, *drains, *creates)

    def requeue_after(self) -> float | None:
        if not self.pending_deadlines:
            return None
        return max(0.0, min(self.pending_deadlines) - self.now)

    def live_after(self) -> list[ObservedPod]:
        """Pods that still exist and are not terminating once the deletions are done."""
        return [
            p
            for p in self.pods
            if not p.deleting and not _is_dead(p) and p.name not in self.deletes
        ]


def _is_old(revision: str) -> Callable[[ObservedPod], bool]:
    return lambda pod: pod.revision != revision


def _scale_down_keys(
    pods: Sequence[ObservedPod], all_pods: Iterable[ObservedPod], desired_revision: str
) -> dict[str, _SortKey]:
    """Sort keys for choosing which pods leave first (smallest first); see the module docstring.

    An old revision's age is the creation time of its oldest observed pod: revisions are hashes
    and carry no order of their own. The pod name ends every key, so the choice never depends on
    the order the pods were listed in.
    """
    revision_born: dict[str, float] = {}
    for pod in all_pods:
        born = revision_born.get(pod.revision)
        if born is None or pod.created_at < born:
            revision_born[pod.revision] = pod.created_at
    keys: dict[str, _SortKey] = {}
    for pod in pods:
        mc = pod.mc
        keys[pod.name] = (
            is_serving(pod),
            mc.participants if mc is not None else 0,
            mc.meetings if mc is not None else 0,
            pod.revision == desired_revision,
            revision_born[pod.revision],
            pod.created_at,
            pod.name,
        )
    return keys


def plan(desired: DesiredState, pods: Sequence[ObservedPod], *, now: float) -> Plan:
    """Plan one reconciliation of a fleet towards ``desired``; O(n log n) in the pods.

    The steps, in order (each one's reason is in the module docstring):

    1. Pods outside the active fleet: failed/exited ones are deleted, marked ones continue their
       drain (deleted once finished or past the deadline), MCs draining on their own get a mark.
    2. During a rollout, old-revision pods known to be out of service (not running, not ready,
       MC not registered or not active) are drained (``replace``): they carry no capacity.
    3. During a rollout, old pods beyond ``replicas`` are drained (``scale-down``), cheapest
       first: they can never be needed, and the surge is meant for new pods.
    4. If no rollout drain is in flight and the serving capacity exceeds ``replicas``, the
       cheapest serving old pod is drained (``rollout``).
    5. Excess pods are drained (``scale-down``), cheapest first; the fleet may exceed
       ``replicas`` by the surge only while old-revision pods remain.
    6. New-revision pods are created: at least enough to bring the non-draining fleet back to
       ``replicas``, and during a rollout up to ``replicas`` new ones within the surge.
    """
    planner = _Planner(pods, now=now, drain_timeout_s=desired.drain_timeout_s)
    replicas = desired.replicas
    observed_active = planner.sort_out(self_drain_reason="replace")
    keys = _scale_down_keys(observed_active, pods, desired.revision)
    is_old = _is_old(desired.revision)
    in_rollout = replicas > 0 and any(is_old(p) for p in observed_active)

    active = observed_active
    if in_rollout:
        for pod in active:  # step 2
            if is_old(pod) and _out_of_service(pod):
                planner.remove(pod, "replace")
        active = [p for p in active if not planner.is_leaving(p)]

        old = sorted((p for p in active if is_old(p)), key=lambda p: keys[p.name])
        for pod in old[: max(0, len(old) - replicas)]:  # step 3
            planner.remove(pod, "scale-down")
        old = old[max(0, len(old) - replicas) :]
        active = [p for p in active if not planner.is_leaving(p)]

        capacity = sum(1 for p in active if is_serving(p))  # step 4
        if old and planner.rollout_drains_in_flight == 0 and capacity > replicas:
            planner.remove(old[0], "rollout")
            active = [p for p in active if p is not old[0]]

    active = sorted(active, key=lambda p: keys[p.name])  # step 5
    excess = len(active) - (replicas + desired.surge)
    if not (in_rollout and any(is_old(p) for p in active[max(0, excess) :])):
        excess = len(active) - replicas  # no old pod would remain: no surge allowance
    excess = max(0, excess)
    for pod in active[:excess]:
        planner.remove(pod, "scale-down")
    active = active[excess:]

    shortfall = replicas - len(active)  # step 6
    if in_rollout and any(is_old(p) for p in active):
        new = sum(1 for p in active if not is_old(p))
        surge_room = min(replicas - new, replicas + desired.surge - len(active))
        planner.creates = max(0, shortfall, surge_room)
    else:
        planner.creates = max(0, shortfall)

    summary = _summarize(
        planner,
        replicas=replicas,
        revision=desired.revision,
        observed_active=observed_active,
        teardown=False,
    )
    return Plan(
        actions=planner.actions(desired.revision),
        summary=summary,
        requeue_after=planner.requeue_after(),
    )


def plan_teardown(pods: Sequence[ObservedPod], *, now: float, drain_timeout_s: float) -> Plan:
    """Plan one pass of deleting the whole ``MeetingController`` (its finalizer).

    Every pod drains (reason ``delete``, deadline ``now + drain_timeout_s``) unless it already
    does (it keeps its own deadline) or has nothing to drain; each is deleted once its drain
    finished or its deadline passed. The finalizer may be removed once ``pods`` holds no live
    pod (``summary.replicas == 0``).
    """
    if not drain_timeout_s >= 0:
        raise ValueError(f"drain_timeout_s must not be negative, got {drain_timeout_s}")
    planner = _Planner(pods, now=now, drain_timeout_s=drain_timeout_s)
    observed_active = planner.sort_out(self_drain_reason="delete")
    for pod in observed_active:
        planner.remove(pod, "delete")
    summary = _summarize(
        planner, replicas=0, revision="", observed_active=observed_active, teardown=True
    )
    return Plan(actions=planner.actions(""), summary=summary, requeue_after=planner.requeue_after())


# -- the summary ----------------------------------------------------------------------------


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _summarize(
    planner: _Planner,
    *,
    replicas: int,
    revision: str,
    observed_active: Sequence[ObservedPod],
    teardown: bool,
) -> Summary:
    live = planner.live_after()
    staying = [p for p in observed_active if not planner.is_leaving(p)]
    ready = sum(1 for p in staying if is_serving(p))
    updated = sum(1 for p in staying if p.revision == revision)
    draining = planner.draining
    reachable = [p.mc for p in planner.pods if p.mc is not None and not _is_dead(p)]
    meetings_to_move = sum(p.mc.meetings for p in draining if p.mc is not None)

    if teardown:
        ready_condition = Condition(
            "Ready", False, "Deleting", "the MeetingController is being deleted"
        )
    elif ready >= replicas:
        ready_condition = Condition(
            "Ready", True, "ReplicasReady", f"{ready} of {replicas} MCs ready and registered"
        )
    else:
        ready_condition = Condition(
            "Ready", False, "ReplicasNotReady", f"{ready} of {replicas} MCs ready and registered"
        )

    progressing = _progressing(
        planner,
        replicas=replicas,
        revision=revision,
        observed_active=observed_active,
        staying=staying,
        ready=ready,
        teardown=teardown,
    )

    if draining:
        draining_condition = Condition(
            "Draining",
            True,
            "DrainInProgress",
            f"{_plural(len(draining), 'MC')} draining, "
            f"{_plural(meetings_to_move, 'meeting')} left to move",
        )
    else:
        draining_condition = Condition("Draining", False, "NoDrain", "no MC is draining")

    problems = []
    if planner.failed:
        problems.append(f"{_plural(planner.failed, 'pod')} failed")
    if planner.deadline_deletes:
        problems.append(
            f"{_plural(planner.deadline_deletes, 'drain')} passed the deadline, "
            "deleted with meetings possibly left"
        )
    if planner.failed and planner.deadline_deletes:
        degraded_reason = "PodsFailedAndDrainDeadlineExceeded"
    elif planner.failed:
        degraded_reason = "PodsFailed"
    elif planner.deadline_deletes:
        degraded_reason = "DrainDeadlineExceeded"
    else:
        degraded_reason = "AsExpected"
    degraded = Condition(
        "Degraded", bool(problems), degraded_reason, "; ".join(problems) or "nothing is wrong"
    )

    return Summary(
        replicas=len(live),
        ready=ready,
        updated=updated,
        draining=len(draining),
        meetings=sum(mc.meetings for mc in reachable),
        participants=sum(mc.participants for mc in reachable),
        meetings_to_move=meetings_to_move,
        conditions=(ready_condition, progressing, draining_condition, degraded),
    )


def _progressing(
    planner: _Planner,
    *,
    replicas: int,
    revision: str,
    observed_active: Sequence[ObservedPod],
    staying: Sequence[ObservedPod],
    ready: int,
    teardown: bool,
) -> Condition:
    """True while the fleet is on its way somewhere: deleting, rolling out, scaling, or
    waiting for pods it created to serve. False once it is where the spec wants it."""
    if teardown:
        left = len(planner.live_after())
        if left:
            return Condition("Progressing", True, "Deleting", f"{_plural(left, 'pod')} left")
        return Condition("Progressing", False, "Deleted", "every pod is gone")
    rollout_drains = sum(1 for r in planner.draining_reasons.values() if r == "rollout")
    if any(p.revision != revision for p in observed_active) or rollout_drains:
        updated = sum(1 for p in staying if p.revision == revision)
        return Condition(
            "Progressing",
            True,
            "RollingUpdate",
            f"{updated} of {replicas} MCs at revision {revision}"
            + (f", {_plural(rollout_drains, 'old MC')} draining" if rollout_drains else ""),
        )
    if planner.creates:
        return Condition(
            "Progressing", True, "CreatingPods", f"creating {_plural(planner.creates, 'MC')}"
        )
    scale_downs = sum(1 for r in planner.draining_reasons.values() if r == "scale-down")
    if scale_downs:
        return Condition(
            "Progressing",
            True,
            "ScalingDown",
            f"{_plural(scale_downs, 'MC')} draining to scale down to {replicas}",
        )
    waiting = sum(1 for p in staying if not is_serving(p))
    if waiting and ready < replicas:
        return Condition(
            "Progressing",
            True,
            "WaitingForReady",
            f"waiting for {_plural(waiting, 'MC')} to become ready and registered",
        )
    return Condition(
        "Progressing", False, "Complete", f"{_plural(replicas, 'MC')} at revision {revision}"
    )
