"""A Kubernetes stand-in for the operator's acceptance test: kmock's API emulator plus a kubelet.

* :class:`Cluster` is kmock's :class:`KubernetesEmulator` with the bookkeeping a real API
  server does and the operator relies on: ``uid``, ``creationTimestamp``, ``generation`` (bumped
  when the spec changes) and ``resourceVersion``. kmock merges JSON naively and does not filter
  label selectors; the operator copes with both (it filters again client-side).
* :class:`Api` is a tiny JSON client for the test's own reads and writes (over HTTP, so that
  kopf's watches see every change).
* :class:`Kubelet` plays the kubelet for every Pod in one namespace: it starts a **real**
  ``meeting-controller run`` process with the pod's environment (secrets mounted as files,
  ``valueFrom.secretKeyRef`` resolved), gives each pod its own loopback address (127.0.0.N, so
  every MC keeps the pod's container ports) and rewrites the advertised DNS names to it (our
  stand-in for cluster DNS), reports ``podIP``, ``phase`` and the ``Ready`` condition from the
  MC's ``/readyz``, and on deletion sends SIGTERM and removes its finalizer only once the
  process exited or the pod's grace period ran out (SIGKILL), as a kubelet would. It records a
  timeline that the test's assertions read.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import dataclasses
import datetime
import itertools
import signal
import subprocess
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import aiohttp
import kmock

from meeting_controller import tls
from meeting_operator import planner, resources
from tests.support.processes import CliProcess, ProcessGroup

KUBELET_FINALIZER = "kubelet.test/running"
IPS = [f"127.0.0.{n}" for n in range(20, 60)]


class Cluster(kmock.KubernetesEmulator):
    """kmock's emulator plus uid, creationTimestamp, generation, resourceVersion and
    generateName, and a record of the operator's calls (for the RBAC contract)."""

    _versions = itertools.count(1)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        #: (apiGroup, resource[/subresource], verb) of every call the operator made (kopf's
        #: and its own, told apart from the test's by the User-Agent): the RBAC contract test.
        self.operator_calls: set[tuple[str, str, str]] = set()

    def _record(self, request: Any) -> None:
        agent = str(request.headers.get("User-Agent", ""))
        if not (agent.startswith("kopf") or agent.startswith("meeting-operator")):
            return
        if request.resource is None or request.action is None:
            return
        resource = str(request.resource.plural)
        if request.subresource:
            resource += "/" + str(request.subresource)
        verb = {
            "LIST": "list",
            "WATCH": "watch",
            "FETCH": "get",
            "CREATE": "create",
            "UPDATE": "patch" if str(request.method).upper().endswith("PATCH") else "update",
            "DELETE": "delete",
        }.get(request.action.name, request.action.name.lower())
        self.operator_calls.add((str(request.resource.group or ""), resource, verb))

    async def _handle(self, request: Any) -> Any:
        self._record(request)
        data = request.data
        if request.action == kmock.action.CREATE and isinstance(data, dict):
            # Honour generateName as an API server does (kmock ignores it): kopf posts every
            # Event with a generated name, and without this only the first one is stored.
            generated = data.setdefault("metadata", {})
            if not generated.get("name") and generated.get("generateName"):
                generated["name"] = f"{generated['generateName']}{uuid.uuid4().hex[:10]}"
        if request.resource is not None and isinstance(data, dict):
            meta = data.setdefault("metadata", {})
            meta["resourceVersion"] = str(next(self._versions))
            if request.action == kmock.action.CREATE:
                meta.setdefault("uid", str(uuid.uuid4()))
                meta.setdefault(
                    "creationTimestamp",
                    datetime.datetime.now(datetime.UTC).isoformat().replace("+00:00", "Z"),
                )
                meta.setdefault("generation", 1)
            elif (
                request.action == kmock.action.UPDATE
                and request.subresource is None
                and "spec" in data
            ):
                for (resource, namespace, name), obj in list(self.objects.items()):
                    if (resource, namespace, name) == (
                        request.resource,
                        request.namespace,
                        request.name,
                    ) and not obj.deleted:
                        meta["generation"] = int(obj.raw["metadata"].get("generation", 1)) + 1
        return await super()._handle(request)


def register_resources(cluster: Any) -> None:
    """Make the emulator's discovery list what kopf and the operator use."""
    verbs = {"get", "list", "watch", "create", "update", "patch", "delete"}
    info = kmock.ResourceInfo
    cluster.resources[f"{resources.GROUP}/{resources.VERSION}/{resources.PLURAL}"] = info(
        kind=resources.KIND,
        singular="meetingcontroller",
        namespaced=True,
        verbs=verbs,
        shortnames={"mc"},
        subresources={"status", "scale"},
    )
    cluster.resources["apiextensions.k8s.io/v1/customresourcedefinitions"] = info(
        kind="CustomResourceDefinition", namespaced=False, verbs=verbs
    )
    cluster.resources["v1/namespaces"] = info(kind="Namespace", namespaced=False, verbs=verbs)
    for plural, kind in (
        ("pods", "Pod"),
        ("services", "Service"),
        ("secrets", "Secret"),
        ("events", "Event"),
    ):
        cluster.resources[f"v1/{plural}"] = info(kind=kind, namespaced=True, verbs=verbs)
    cluster.resources["policy/v1/poddisruptionbudgets"] = info(
        kind="PodDisruptionBudget", namespaced=True, verbs=verbs
    )
    cluster.resources["events.k8s.io/v1/events"] = info(kind="Event", namespaced=True, verbs=verbs)


class Api:
    """The test's JSON client of the emulator."""

    def __init__(self, url: str) -> None:
        self.url = url.rstrip("/")
        self.session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5))

    async def close(self) -> None:
        await self.session.close()

    async def call(
        self, method: str, path: str, body: Mapping[str, Any] | None = None
    ) -> dict[str, Any]:
        headers = {"Content-Type": "application/merge-patch+json"} if method == "PATCH" else {}
        async with self.session.request(
            method, self.url + path, json=body, headers=headers
        ) as response:
            data: dict[str, Any] = await response.json(content_type=None)
            if response.status >= 400:
                raise AssertionError(f"{method} {path}: {response.status} {data.get('message')}")
            return data

    async def get(self, path: str) -> dict[str, Any] | None:
        async with self.session.get(self.url + path) as response:
            if response.status == 404:
                return None
            data: dict[str, Any] = await response.json(content_type=None)
            return data

    async def items(self, path: str) -> list[dict[str, Any]]:
        return list((await self.call("GET", path)).get("items") or [])


@dataclasses.dataclass
class PodRecord:
    """What the kubelet saw of one pod, for the test's assertions."""

    name: str
    ip: str
    ports: dict[str, int]
    grace_s: float
    process: CliProcess
    started_at: float
    ready_at: float | None = None
    ready: bool = False
    marks: list[str] = dataclasses.field(default_factory=list)
    """Every distinct drain annotation value seen, in order."""
    deletion_at: float | None = None
    """When the pod was first seen being deleted (deletionTimestamp set, or gone)."""
    mark_at_deletion: str | None = None
    exited_before_deletion: int | None = None
    """The MC's exit code if it exited by itself before the pod was deleted (drained)."""
    terminated_at: float | None = None
    exit_code: int | None = None
    gone: bool = False

    @property
    def drain(self) -> planner.DrainMark | None:
        return planner.decode_drain_mark(self.marks[0]) if self.marks else None


class Kubelet:
    """Runs the MC pods of one namespace as real processes; see the module docstring."""

    def __init__(
        self,
        *,
        api: Api,
        namespace: str,
        workdir: Path,
        cert: tls.CertificateInfo,
        processes: ProcessGroup,
    ) -> None:
        self.api = api
        self.namespace = namespace
        self.workdir = workdir
        self.cert = cert
        self.processes = processes
        self.pods: dict[str, PodRecord] = {}
        self.samples: list[tuple[float, int, int]] = []
        """(time, serving pods, pods draining for a rollout and not yet deleted) per sync."""
        self._ips: Iterator[str] = iter(IPS)
        self._task: asyncio.Task[None] | None = None
        self.errors: list[BaseException] = []

    def by_ip(self, ip: str) -> PodRecord:
        return next(p for p in self.pods.values() if p.ip == ip)

    def live(self) -> list[PodRecord]:
        return [p for p in self.pods.values() if not p.gone and p.deletion_at is None]

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        for pod in self.pods.values():
            pod.process.stop(timeout=5)

    async def _run(self) -> None:
        while True:
            try:
                await self.sync()
            except Exception as error:  # keep the kubelet alive; the test reports it
                self.errors.append(error)
            await asyncio.sleep(0.1)

    def _pods_path(self, name: str | None = None) -> str:
        path = f"/api/v1/namespaces/{self.namespace}/pods"
        return f"{path}/{name}" if name else path

    async def sync(self) -> None:
        pods = await self.api.items(self._pods_path())
        seen = set()
        for pod in pods:
            name = pod["metadata"]["name"]
            seen.add(name)
            record = self.pods.get(name)
            if record is None:
                await self._start(pod)
            else:
                await self._update(record, pod)
        for name, record in self.pods.items():
            if name not in seen and not record.gone:
                self._note_deletion(record, None)
                record.process.stop(timeout=1)
                record.gone = True
        serving = sum(
            1
            for p in pods
            if self.pods.get(p["metadata"]["name"])
            and self.pods[p["metadata"]["name"]].ready
            and not p["metadata"].get("deletionTimestamp")
            and planner.DRAIN_ANNOTATION not in (p["metadata"].get("annotations") or {})
        )
        rollout_draining = sum(
            1
            for p in pods
            if not p["metadata"].get("deletionTimestamp")
            and '"rollout"'
            in (p["metadata"].get("annotations") or {}).get(planner.DRAIN_ANNOTATION, "")
        )
        self.samples.append((time.time(), serving, rollout_draining))

    async def _secret(self, name: str) -> dict[str, bytes]:
        secret = await self.api.get(f"/api/v1/namespaces/{self.namespace}/secrets/{name}")
        assert secret is not None, f"secret {name} does not exist"
        return {k: base64.b64decode(v) for k, v in (secret.get("data") or {}).items()}

    async def _start(self, pod: dict[str, Any]) -> None:
        meta, spec = pod["metadata"], pod["spec"]
        name = meta["name"]
        if meta.get("deletionTimestamp"):
            return
        ip = next(self._ips)
        container = spec["containers"][0]
        ports = {p["name"]: int(p["containerPort"]) for p in container["ports"]}
        poddir = self.workdir / name
        mounts: dict[str, Path] = {}
        volumes = {v["name"]: v for v in spec.get("volumes") or []}
        for mount in container.get("volumeMounts") or []:
            volume = volumes[mount["name"]]
            target = poddir / mount["name"]
            target.mkdir(parents=True, exist_ok=True)
            if "secret" in volume:
                data = await self._secret(volume["secret"]["secretName"])
                for item in volume["secret"]["items"]:
                    (target / item["path"]).write_bytes(data[item["key"]])
            mounts[mount["mountPath"]] = target
        env: dict[str, str] = {}
        for entry in container["env"]:
            if "value" in entry:
                value = entry["value"]
            else:
                ref = entry["valueFrom"]["secretKeyRef"]
                value = (await self._secret(ref["name"]))[ref["key"]].decode()
            for mount_path, target in mounts.items():
                if value.startswith(mount_path + "/"):
                    value = str(target) + value[len(mount_path) :]
            env[entry["name"]] = value
        # Our "cluster network": the pod's own loopback address; our "DNS": the advertised
        # names resolved to it by hand.
        for key in ("MC_GRPC_LISTEN", "MC_WEBTRANSPORT_LISTEN", "MC_HTTP_LISTEN"):
            env[key] = env[key].replace("0.0.0.0", ip)
        env["MC_GRPC_ADVERTISE"] = f"{ip}:{ports['grpc']}"
        env["MC_WEBTRANSPORT_ADVERTISE"] = f"https://{ip}:{ports['webtransport']}/signaling"
        env["MC_TLS_CERT_FILE"] = str(self.cert.cert_file)
        env["MC_TLS_KEY_FILE"] = str(self.cert.key_file)
        env["MC_LOG_FORMAT"] = "text"
        process = self.processes.start(["run"], env=env)
        process.ports.update(ports)
        record = PodRecord(
            name=name,
            ip=ip,
            ports=ports,
            grace_s=float(spec.get("terminationGracePeriodSeconds", 30)),
            process=process,
            started_at=time.time(),
        )
        self.pods[name] = record
        await self.api.call(
            "PATCH", self._pods_path(name), {"metadata": {"finalizers": [KUBELET_FINALIZER]}}
        )
        await self._write_status(record, phase="Running", ready=False)
        await self._update(record, pod)

    async def _write_status(self, record: PodRecord, *, phase: str, ready: bool) -> None:
        status = {
            "phase": phase,
            "podIP": record.ip,
            "conditions": [{"type": "Ready", "status": "True" if ready else "False"}],
        }
        if record.gone:
            return
        await self.api.call("PATCH", self._pods_path(record.name) + "/status", {"status": status})

    def _note_deletion(self, record: PodRecord, pod: Mapping[str, Any] | None) -> None:
        if record.deletion_at is not None:
            return
        record.deletion_at = time.time()
        record.mark_at_deletion = record.marks[-1] if record.marks else None
        code = record.process.process.poll()
        if code is not None:
            record.exited_before_deletion = code

    async def _readyz(self, record: PodRecord) -> bool:
        url = f"http://{record.ip}:{record.ports['http']}/readyz"
        try:
            async with self.api.session.get(
                url, timeout=aiohttp.ClientTimeout(total=0.5)
            ) as response:
                return response.status == 200
        except (aiohttp.ClientError, TimeoutError):
            return False

    async def _update(self, record: PodRecord, pod: dict[str, Any]) -> None:
        meta = pod["metadata"]
        mark = (meta.get("annotations") or {}).get(planner.DRAIN_ANNOTATION)
        if mark and (not record.marks or record.marks[-1] != mark):
            record.marks.append(mark)
        code = record.process.process.poll()
        if meta.get("deletionTimestamp"):
            self._note_deletion(record, pod)
            if code is None and record.terminated_at is None:
                record.process.process.send_signal(signal.SIGTERM)
                record.terminated_at = time.time()
            elif code is None and time.time() > (record.terminated_at or 0) + record.grace_s:
                record.process.kill()
            elif code is not None:
                record.exit_code = code
                await self.api.call(
                    "PATCH", self._pods_path(record.name), {"metadata": {"finalizers": None}}
                )
                record.gone = True
            return
        if code is not None:
            if record.exit_code is None:
                record.exit_code = code
                record.ready = False
                await self._write_status(
                    record, phase="Succeeded" if code == 0 else "Failed", ready=False
                )
            return
        ready = await self._readyz(record)
        if ready != record.ready:
            record.ready = ready
            if ready and record.ready_at is None:
                record.ready_at = time.time()
            await self._write_status(record, phase="Running", ready=ready)


def start_operator(
    *, kube_url: str, workdir: Path, liveness_port: int, metrics_port: int, index: int
) -> subprocess.Popen[bytes]:
    """``python -m meeting_operator.cli`` with the chart's flags, against the emulator."""
    import sys

    from tests.support.processes import base_environment

    env = {
        **base_environment(),
        "MC_OPERATOR_KUBE_URL": kube_url,
        "MC_OPERATOR_RECONCILE_INTERVAL_SECONDS": "0.5",
    }
    log = workdir / f"operator-{index}.log"
    with log.open("wb") as out:
        return subprocess.Popen(
            [
                sys.executable,
                "-m",
                "meeting_operator.cli",
                "--standalone",
                "--all-namespaces",
                f"--liveness=http://127.0.0.1:{liveness_port}/healthz",
                f"--metrics-listen=127.0.0.1:{metrics_port}",
                "--log-format=json",
                "--log-level=info",
            ],
            env=env,
            cwd=workdir,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


#: What the test kubelet failed at (shown when a wait times out); cleared by each test.
KUBELET_ERRORS: list[BaseException] = []


async def wait_for(
    predicate: Callable[[], Awaitable[bool]] | Callable[[], bool],
    *,
    timeout: float,
    what: str,
    operator_log: Path | None = None,
) -> None:
    """Poll ``predicate`` (sync or async); on timeout fail with the kubelet's errors and the
    operator's last log lines."""
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if not isinstance(result, bool):
            result = await result
        if result:
            return
        if time.monotonic() > deadline:
            log = "\n".join(f"kubelet error: {e!r}" for e in KUBELET_ERRORS)
            if operator_log is not None:
                log += "\n" + operator_tail(operator_log)
            raise AssertionError(f"timed out after {timeout} s waiting for {what}\n{log}")
        await asyncio.sleep(0.05)


def operator_tail(path: Path) -> str:
    """The operator's last log lines, without the timer's heartbeat lines."""
    if not path.exists():
        return ""
    lines = [line for line in path.read_text().splitlines() if "Timer 'poll'" not in line]
    return "\n".join(lines[-40:])
