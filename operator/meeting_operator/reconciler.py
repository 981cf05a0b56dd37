"""One reconciliation of a ``MeetingController``: observe, plan, act, report.

This is the operator's I/O shell around the pure :mod:`meeting_operator.planner`:

1. **observe** - the fleet's pods (:mod:`~meeting_operator.kube`) and, for each running pod, its
   MC's ``GetStatus`` (:mod:`~meeting_operator.mc_client`), all MCs asked concurrently;
2. **plan** - :func:`planner.plan` (or :func:`planner.plan_teardown` while the resource is
   being deleted) with the wall clock's ``now``;
3. **act** - carry the actions out. A drain writes the pod's drain annotation *first* and only
   then calls the MC's ``Drain``: if the operator dies in between, the next pass sees the mark
   and resends the call with the same deadline (the planner's ``resend``);
4. **report** - the resource's status (totals, per-pod entries, conditions, ``selector``,
   ``observedGeneration``), one Kubernetes Event per scale, drain and rollout step, metrics.

Every pass starts from what the cluster and the MCs say, never from memory, so a pass can fail
half-way, or the operator can restart, and the next pass simply picks up from there. The only
state kept in memory is a cache of Secret values and "the Service exists" (both re-read on
every create/update/resume) and one lock per resource so that kopf's timer and its change
handlers never reconcile the same fleet concurrently.
"""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import datetime
import logging
import os
import secrets
import time
from collections.abc import Mapping, Sequence
from typing import Any, Final

import kopf

from meeting_operator import kube, mc_client, metrics, planner, resources

log = logging.getLogger(__name__)

_SUFFIX_ALPHABET: Final = "bcdfghjklmnpqrstvwxz2456789"
"""Kubernetes' own alphabet for generated name suffixes (no vowels: no accidental words)."""


@dataclasses.dataclass(frozen=True)
class Settings:
    """The operator's tunables, read once from the environment (:meth:`from_env`)."""

    reconcile_interval_s: float = 2.0
    """How often every fleet is reconciled even without a Kubernetes event: MC status changes
    (registration, meetings ending during a drain) produce none."""
    cluster_domain: str = "cluster.local"
    """The cluster's DNS domain, for the MCs' advertised ``<pod>.<svc>.<ns>.svc.<domain>``."""

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        return cls(
            reconcile_interval_s=float(env.get("MC_OPERATOR_RECONCILE_INTERVAL_SECONDS", "2")),
            cluster_domain=env.get("MC_OPERATOR_CLUSTER_DOMAIN", "cluster.local"),
        )


SETTINGS: Final = Settings.from_env()

_locks: dict[tuple[str, str], asyncio.Lock] = {}
_ensured: set[tuple[str, str, int]] = set()
_secret_cache: dict[tuple[str, str, str], str] = {}


def _lock(namespace: str, name: str) -> asyncio.Lock:
    return _locks.setdefault((namespace, name), asyncio.Lock())


def forget(*, namespace: str, name: str) -> None:
    """Drop what is cached about a resource (it was deleted, or changed)."""
    _locks.pop((namespace, name), None)
    for ensured in [k for k in _ensured if k[:2] == (namespace, name)]:
        _ensured.discard(ensured)
    for cached in [k for k in _secret_cache if k[0] == namespace]:
        _secret_cache.pop(cached, None)


# -- observe --------------------------------------------------------------------------------


def _timestamp(value: object, *, default: float) -> float:
    if not isinstance(value, str) or not value:
        return default
    try:
        return datetime.datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return default


def _grpc_target(pod: Mapping[str, Any], *, default_port: int) -> str | None:
    """``<podIP>:<the pod's own grpc container port>``, or ``None`` before the pod has an IP."""
    ip = (pod.get("status") or {}).get("podIP")
    if not ip:
        return None
    port = default_port
    for container in (pod.get("spec") or {}).get("containers") or []:
        for entry in container.get("ports") or []:
            if entry.get("name") == "grpc":
                port = int(entry["containerPort"])
    return f"[{ip}]:{port}" if ":" in ip else f"{ip}:{port}"


def _is_ready(pod: Mapping[str, Any]) -> bool:
    for condition in (pod.get("status") or {}).get("conditions") or []:
        if condition.get("type") == "Ready":
            return bool(condition.get("status") == "True")
    return False


def _phase(pod: Mapping[str, Any]) -> planner.PodPhase:
    try:
        return planner.PodPhase((pod.get("status") or {}).get("phase") or "Pending")
    except ValueError:
        return planner.PodPhase.UNKNOWN


def observe_pod(
    pod: Mapping[str, Any], *, mc: planner.McStatus | None, now: float
) -> planner.ObservedPod:
    """A pod manifest plus its MC status as the planner's observation (pure)."""
    meta = pod["metadata"]
    mark_value = (meta.get("annotations") or {}).get(planner.DRAIN_ANNOTATION)
    mark: planner.DrainMark | None = None
    if mark_value:
        try:
            mark = planner.decode_drain_mark(mark_value)
        except ValueError as error:
            # A hand-edited mark: treating it as absent would start a *new* drain with a new
            # deadline; treating it as expiring now is the conservative end of a drain.
            log.warning("pod %s: malformed drain annotation (%s)", meta["name"], error)
            mark = planner.DrainMark(started_at=now, deadline=now, reason="replace")
    return planner.ObservedPod(
        name=meta["name"],
        revision=(meta.get("labels") or {}).get(resources.LABEL_REVISION, ""),
        phase=_phase(pod),
        deleting=bool(meta.get("deletionTimestamp")),
        created_at=_timestamp(meta.get("creationTimestamp"), default=now),
        ready=_is_ready(pod),
        mc=mc,
        drain=mark,
    )


async def _observe(
    *, namespace: str, cr_name: str, fleet: resources.FleetSpec, now: float
) -> tuple[list[dict[str, Any]], list[planner.ObservedPod]]:
    pods = await kube.list_pods(namespace=namespace, selector=resources.selector_labels(cr_name))

    async def status_of(pod: Mapping[str, Any]) -> planner.McStatus | None:
        target = _grpc_target(pod, default_port=fleet.ports.grpc)
        if target is None or (pod["metadata"].get("deletionTimestamp")):
            return None
        if _phase(pod) is not planner.PodPhase.RUNNING:
            return None
        return await mc_client.get_status(target)

    statuses = await asyncio.gather(*(status_of(pod) for pod in pods))
    observed = [observe_pod(pod, mc=mc, now=now) for pod, mc in zip(pods, statuses, strict=True)]
    return pods, observed


# -- act ------------------------------------------------------------------------------------


async def _ensure_fleet_objects(cr: kopf.Body, fleet: resources.FleetSpec, *, force: bool) -> None:
    """The headless Service, the PDB and (if needed) the generated Secret exist."""
    meta = cr["metadata"]
    key = (meta["namespace"], meta["name"], int(meta.get("generation") or 0))
    if key in _ensured and not force:
        return
    await kube.ensure(resources.get_headless_service(cr, fleet=fleet))
    await kube.ensure(resources.get_pdb(cr))
    if resources.needs_generated_secret(fleet):
        created = await kube.ensure(
            resources.get_secret(
                cr,
                session_secret=secrets.token_bytes(48),
                admin_token=secrets.token_urlsafe(32).encode(),
            )
        )
        if created:
            kopf.event(
                cr,
                type="Normal",
                reason="SecretCreated",
                message="created the fleet's generated Secret",
            )
    _ensured.add(key)


async def _admin_token(namespace: str, ref: resources.SecretKeyRef) -> str | None:
    cache_key = (namespace, ref.name, ref.key)
    if cache_key not in _secret_cache:
        data = await kube.read_secret(namespace=namespace, name=ref.name)
        if data is None or ref.key not in data:
            return None
        _secret_cache[cache_key] = base64.b64decode(data[ref.key]).decode().strip()
    return _secret_cache[cache_key]


def _suffix() -> str:
    return "".join(secrets.choice(_SUFFIX_ALPHABET) for _ in range(5))


@dataclasses.dataclass
class _Context:
    cr: kopf.Body
    fleet: resources.FleetSpec
    namespace: str
    name: str
    pods: dict[str, dict[str, Any]]
    observed: dict[str, planner.ObservedPod]
    admin_token: str | None
    now: float


async def _delete(ctx: _Context, action: planner.DeletePod) -> None:
    await kube.delete_pod(namespace=ctx.namespace, name=action.pod_name)
    metrics.PODS_DELETED.labels(ctx.namespace, ctx.name, action.reason).inc()
    observed = ctx.observed.get(action.pod_name)
    if observed is not None and observed.drain is not None:
        metrics.DRAIN_DURATION.labels(ctx.namespace, ctx.name, action.reason).observe(
            max(0.0, ctx.now - observed.drain.started_at)
        )
    kind = "Warning" if action.reason in ("deadline", "failed") else "Normal"
    kopf.event(
        ctx.cr,
        type=kind,
        reason="PodDeleted",
        message=f"deleted MC pod {action.pod_name} ({action.reason})",
    )


def _meetings(n: int) -> str:
    return f"{n} meeting" if n == 1 else f"{n} meetings"


async def _drain(ctx: _Context, action: planner.StartDrain) -> None:
    if not action.resend:
        mark = planner.DrainMark(started_at=ctx.now, deadline=action.deadline, reason=action.reason)
        await kube.patch_pod(
            namespace=ctx.namespace,
            name=action.pod_name,
            patch={
                "metadata": {
                    "annotations": {planner.DRAIN_ANNOTATION: planner.encode_drain_mark(mark)}
                }
            },
        )
        metrics.DRAINS_STARTED.labels(ctx.namespace, ctx.name, action.reason).inc()
        observed = ctx.observed.get(action.pod_name)
        meetings = observed.mc.meetings if observed and observed.mc else 0
        # kopf.event, not kopf.info: the handlers post only warnings through kopf's level
        # filter, which kopf.info obeys, and this Event must reach `kubectl describe`.
        kopf.event(
            ctx.cr,
            type="Normal",
            reason="DrainStarted",
            message=f"draining MC pod {action.pod_name} ({action.reason}, "
            f"{_meetings(meetings)} left to move, "
            f"deadline in {max(0, round(action.deadline - ctx.now))} s)",
        )
    pod = ctx.pods.get(action.pod_name)
    target = _grpc_target(pod, default_port=ctx.fleet.ports.grpc) if pod else None
    if target is None or ctx.admin_token is None:
        return  # the mark is written; the call is resent on a later pass
    try:
        await mc_client.drain(
            target,
            admin_token=ctx.admin_token,
            deadline_unix_ms=int(action.deadline * 1000),
            reason=action.reason,
        )
    except mc_client.DrainRefused as error:
        kopf.warn(ctx.cr, reason="DrainRefused", message=str(error))


async def _create(ctx: _Context, action: planner.CreatePod) -> None:
    for _ in range(3):  # a suffix collision is unlikely; retry a couple of times anyway
        name = resources.pod_name(ctx.name, suffix=_suffix())
        body = resources.get_pod(
            ctx.cr,
            name=name,
            revision=action.revision,
            fleet=ctx.fleet,
            cluster_domain=SETTINGS.cluster_domain,
        )
        try:
            await kube.create_pod(body)
        except kube.KubeError as error:
            if error.status == 409:
                continue
            raise
        metrics.PODS_CREATED.labels(ctx.namespace, ctx.name).inc()
        kopf.event(
            ctx.cr,
            type="Normal",
            reason="PodCreated",
            message=f"created MC pod {name} (revision {action.revision})",
        )
        return


async def _execute(ctx: _Context, actions: Sequence[planner.Action]) -> None:
    """Carry out the plan's actions concurrently (the planner promises they are independent)."""
    coroutines = []
    for action in actions:
        if isinstance(action, planner.DeletePod):
            coroutines.append(_delete(ctx, action))
        elif isinstance(action, planner.StartDrain):
            coroutines.append(_drain(ctx, action))
        else:
            coroutines.append(_create(ctx, action))
    results = await asyncio.gather(*coroutines, return_exceptions=True)
    errors = [r for r in results if isinstance(r, BaseException)]
    if errors:
        raise errors[0]


# -- report ---------------------------------------------------------------------------------


def _rfc3339(now: float) -> str:
    return (
        datetime.datetime.fromtimestamp(now, tz=datetime.UTC)
        .replace(microsecond=0)
        .isoformat()
        .replace("+00:00", "Z")
    )


def build_status(
    *,
    cr: Mapping[str, Any],
    plan: planner.Plan,
    observed: Sequence[planner.ObservedPod],
    now: float,
) -> dict[str, Any]:
    """The resource's ``status`` for this pass (pure). A condition keeps its
    ``lastTransitionTime`` while its status stays the same."""
    previous = {c.get("type"): c for c in ((cr.get("status") or {}).get("conditions") or [])}
    generation = int(cr["metadata"].get("generation") or 0)
    summary = plan.summary
    conditions = []
    for condition in summary.conditions:
        status = "True" if condition.status else "False"
        before = previous.get(condition.type) or {}
        since = before.get("lastTransitionTime") if before.get("status") == status else None
        conditions.append(
            {
                "type": condition.type,
                "status": status,
                "reason": condition.reason,
                "message": condition.message,
                "lastTransitionTime": since or _rfc3339(now),
                "observedGeneration": generation,
            }
        )
    pods = [
        {
            "name": pod.name,
            "ready": pod.ready,
            "registered": bool(pod.mc and pod.mc.registered),
            "draining": pod.drain is not None
            or bool(pod.mc and pod.mc.state in ("draining", "drained", "shutting_down")),
            "meetings": pod.mc.meetings if pod.mc else 0,
            "participants": pod.mc.participants if pod.mc else 0,
            "revision": pod.revision,
        }
        for pod in sorted(observed, key=lambda p: p.name)
        if not pod.deleting
    ]
    return {
        "replicas": summary.replicas,
        "readyReplicas": summary.ready,
        "updatedReplicas": summary.updated,
        "drainingReplicas": summary.draining,
        "currentMeetings": summary.meetings,
        "currentParticipants": summary.participants,
        "migrationsPending": summary.meetings_to_move,
        "selector": resources.selector_string(cr["metadata"]["name"]),
        "observedGeneration": generation,
        "conditions": conditions,
        "pods": pods,
    }


def _status_changed(old: Mapping[str, Any] | None, new: Mapping[str, Any]) -> bool:
    old = old or {}
    return any(old.get(key) != value for key, value in new.items())


async def _write_status(ctx: _Context, status: dict[str, Any]) -> None:
    if not _status_changed(ctx.cr.get("status"), status):
        return
    await kube.patch_status(
        group=resources.GROUP,
        version=resources.VERSION,
        plural=resources.PLURAL,
        namespace=ctx.namespace,
        name=ctx.name,
        status=status,
    )


# -- the passes -----------------------------------------------------------------------------


async def _pass(cr: kopf.Body, *, teardown: bool, force_ensure: bool) -> planner.Plan:
    meta = cr["metadata"]
    namespace, name = meta["namespace"], meta["name"]
    fleet = resources.parse_spec(cr.get("spec") or {})
    now = time.time()
    if not teardown:
        await _ensure_fleet_objects(cr, fleet, force=force_ensure)
    pods, observed = await _observe(namespace=namespace, cr_name=name, fleet=fleet, now=now)
    if teardown:
        plan = planner.plan_teardown(observed, now=now, drain_timeout_s=fleet.drain_timeout_s)
    else:
        desired = planner.DesiredState(
            replicas=fleet.replicas,
            revision=resources.get_revision(
                cr, fleet=fleet, cluster_domain=SETTINGS.cluster_domain
            ),
            max_surge=fleet.max_surge,
            drain_timeout_s=fleet.drain_timeout_s,
        )
        plan = planner.plan(desired, observed, now=now)
    ctx = _Context(
        cr=cr,
        fleet=fleet,
        namespace=namespace,
        name=name,
        pods={p["metadata"]["name"]: p for p in pods},
        observed={p.name: p for p in observed},
        admin_token=(
            await _admin_token(namespace, resources.admin_token_ref(name, fleet))
            if plan.drains
            else None
        ),
        now=now,
    )
    await _execute(ctx, plan.actions)
    metrics.DRAINS_IN_PROGRESS.labels(namespace, name).set(plan.summary.draining)
    if not teardown or plan.summary.replicas:
        await _write_status(ctx, build_status(cr=cr, plan=plan, observed=observed, now=now))
    return plan


async def reconcile(cr: kopf.Body, *, force_ensure: bool = False) -> planner.Plan | None:
    """One pass towards the spec; ``None`` when the resource is being deleted (the finalizer's
    :func:`teardown` owns it then) or its spec is unusable (reported as Degraded)."""
    meta = cr["metadata"]
    if meta.get("deletionTimestamp"):
        return None
    namespace, name = meta["namespace"], meta["name"]
    started = time.monotonic()
    async with _lock(namespace, name):
        try:
            return await _pass(cr, teardown=False, force_ensure=force_ensure)
        except resources.SpecError as error:
            kopf.warn(cr, reason="InvalidSpec", message=str(error))
            return None
        except Exception:
            metrics.RECONCILE_ERRORS.labels(namespace, name).inc()
            raise
        finally:
            metrics.RECONCILE_DURATION.labels(namespace, name).observe(time.monotonic() - started)


async def teardown(cr: kopf.Body) -> int:
    """One pass of deleting the fleet: drain every pod, delete the drained ones.

    Returns how many live pods are left; the finalizer may go once it is 0.
    """
    meta = cr["metadata"]
    async with _lock(meta["namespace"], meta["name"]):
        plan = await _pass(cr, teardown=True, force_ensure=False)
    left = plan.summary.replicas
    if left == 0:
        forget(namespace=meta["namespace"], name=meta["name"])
    return left
