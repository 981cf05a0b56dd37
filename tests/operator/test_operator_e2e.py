"""Acceptance: the operator runs a drain-aware MC fleet, for real, end to end.

Everything is real except the Kubernetes API server and the kubelet: the operator is the
``meeting_operator.cli`` process (kopf) talking HTTP to kmock's emulator; every Pod it creates
becomes a real ``meeting-controller run`` process (:class:`tests.operator.cluster.Kubelet`)
that registers with the reference GC and keeps its state in a real Redis; participants are
real QUIC/WebTransport clients. One scenario, in the order a fleet lives, so that the MCs'
start-up cost is paid once:

1. a ``MeetingController`` with 3 replicas -> 3 pods, 3 MCs registered with the GC, the
   Service, PDB and generated Secret exist, the status reports 3 ready;
2. meetings on them; scale to 1 -> the two least-loaded MCs drain, the most loaded stays, and
   a pod that hosts a meeting is deleted only after its MC exited drained or its deadline
   passed;
3. scale to 2, then change the image -> a surge pod comes first, old pods drain one at a time,
   serving capacity never drops below 2; the operator is stopped in the middle of a drain and
   started again -> the drain continues with the same deadline (the pod annotation);
4. a pod deleted by hand is replaced;
5. deleting the ``MeetingController`` drains every pod, then lets it go.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path
from typing import Any

import kmock

from meeting_controller import tls
from meeting_controller.client import gc as gc_api
from meeting_controller.client.meeting import MeetingClient, Trust
from meeting_operator import planner, rbac, resources
from tests.operator.cluster import (
    IPS,
    KUBELET_ERRORS,
    Api,
    Cluster,
    Kubelet,
    register_resources,
    start_operator,
    wait_for,
)
from tests.support.gc_server import ThreadedGc
from tests.support.processes import ProcessGroup, free_port

NS = "meetings"
CR = "eu-west"
DRAIN_S = 6
CR_PATH = f"/apis/{resources.GROUP}/{resources.VERSION}/namespaces/{NS}/{resources.PLURAL}"


def _get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=2) as response:
        return str(response.read().decode())


def _cr(*, gc: ThreadedGc, redis_url: str, ports: dict[str, int]) -> dict[str, Any]:
    return {
        "apiVersion": resources.API_VERSION,
        "kind": resources.KIND,
        "metadata": {"name": CR, "namespace": NS},
        "spec": {
            "replicas": 3,
            "image": "registry.example/meeting-controller:1",
            "region": "test",
            "globalController": {"endpoint": gc.grpc_address},
            "redis": {"url": redis_url},
            "joinTokenPublicKeySecretRef": {"name": "gc-key", "key": "public.pem"},
            # One meeting per MC: the two meetings land on different MCs, and a draining MC
            # rarely finds room to migrate its meeting to (the live-migration scenario is
            # tests/operator/test_operator_migration_e2e.py).
            "capacity": {"maxMeetings": 1},
            "heartbeat": {"fastIntervalMs": 500},
            "drain": {"timeoutSeconds": DRAIN_S},
            "rollout": {"maxSurge": 1},
            "ports": ports,
        },
    }


async def test_operator_runs_a_drain_aware_fleet(tmp_path: Path, redis_url: str) -> None:
    cert = tls.generate_self_signed(
        cert_file=tmp_path / "cert.pem", key_file=tmp_path / "key.pem", names=IPS
    )
    trust = Trust(cafile=str(cert.cert_file))
    processes = ProcessGroup(workdir=tmp_path)
    clients: list[MeetingClient] = []
    operators: list[subprocess.Popen[bytes]] = []
    metrics_port = free_port()

    with ThreadedGc(fast_heartbeat_ms=500) as gc:
        async with Cluster() as cluster, kmock.Server(cluster):
            register_resources(cluster)
            kube_url = str(cluster.url)
            api = Api(kube_url)
            kubelet = Kubelet(
                api=api, namespace=NS, workdir=tmp_path, cert=cert, processes=processes
            )
            kubelet.errors = KUBELET_ERRORS
            KUBELET_ERRORS.clear()

            def operator(index: int) -> subprocess.Popen[bytes]:
                process = start_operator(
                    kube_url=kube_url,
                    workdir=tmp_path,
                    liveness_port=free_port(),
                    metrics_port=metrics_port,
                    index=index,
                )
                operators.append(process)
                return process

            async def join(user: str, meeting_id: str | None = None) -> MeetingClient:
                ticket = await gc_api.request_join(
                    gc.http_url, user_id=user, meeting_id=meeting_id, display_name=user
                )
                client = MeetingClient(
                    ticket=ticket, display_name=user, trust=trust, gc_url=gc.http_url
                )
                await client.connect()
                clients.append(client)
                return client

            async def cr() -> dict[str, Any] | None:
                return await api.get(f"{CR_PATH}/{CR}")

            log = tmp_path / "operator-0.log"
            try:
                kubelet.start()
                key_pem = gc.write_public_key(tmp_path / "gc.pem").read_bytes()
                await api.call(
                    "POST",
                    f"/api/v1/namespaces/{NS}/secrets",
                    {
                        "metadata": {"name": "gc-key", "namespace": NS},
                        "data": {"public.pem": base64.b64encode(key_pem).decode()},
                    },
                )
                ports = {
                    "grpc": free_port(),
                    "http": free_port(),
                    "webtransport": free_port(socket.SOCK_DGRAM),
                }
                await api.call("POST", CR_PATH, _cr(gc=gc, redis_url=redis_url, ports=ports))
                operator(0)

                # -- 1. three replicas: three registered MCs ----------------------------------
                async def status_ready(n: int) -> bool:
                    body = await cr()
                    status = (body or {}).get("status") or {}
                    return status.get("readyReplicas") == n and status.get("replicas") == n

                await wait_for(
                    lambda: status_ready(3), timeout=30, what="3 ready MCs", operator_log=log
                )
                assert len(kubelet.live()) == 3
                registered = {mc["mc_id"] for mc in gc.fleet()}
                assert {p.name for p in kubelet.live()} <= registered
                body = await cr()
                assert body is not None
                status = body["status"]
                assert status["selector"] == resources.selector_string(CR)
                assert status["observedGeneration"] == body["metadata"]["generation"]
                assert {c["type"]: c["status"] for c in status["conditions"]} == {
                    "Ready": "True",
                    "Progressing": "False",
                    "Draining": "False",
                    "Degraded": "False",
                }
                for path in (
                    f"/api/v1/namespaces/{NS}/services/{resources.service_name(CR)}",
                    f"/apis/policy/v1/namespaces/{NS}/poddisruptionbudgets/"
                    f"{resources.pdb_name(CR)}",
                    f"/api/v1/namespaces/{NS}/secrets/{resources.generated_secret_name(CR)}",
                ):
                    assert await api.get(path) is not None, path

                # -- 2. meetings, then scale 3 -> 1: the least loaded drain first --------------
                big = await join("alice")
                for user in ("bob", "carol"):
                    await join(user, big.ticket.meeting_id)
                small = await join("dave")
                host_big = big.ticket.mc_id
                host_small = small.ticket.mc_id

                async def participants(n: int) -> bool:
                    body = await cr()
                    return ((body or {}).get("status") or {}).get("currentParticipants") == n

                await wait_for(lambda: participants(4), timeout=10, what="4 participants")
                await api.call("PATCH", f"{CR_PATH}/{CR}", {"spec": {"replicas": 1}})
                await wait_for(
                    lambda: sum(1 for p in kubelet.pods.values() if p.marks) == 2,
                    timeout=10,
                    what="two drains",
                    operator_log=log,
                )
                assert not kubelet.pods[host_big].marks, "the most loaded MC must stay"
                for record in kubelet.pods.values():
                    if record.marks:
                        assert record.drain is not None
                        assert record.drain.reason == "scale-down"
                await wait_for(
                    lambda: [p.name for p in kubelet.live()] == [host_big],
                    timeout=DRAIN_S + 10,
                    what="scale-down to the most loaded MC",
                    operator_log=log,
                )
                assert host_small != host_big
                record = kubelet.pods[host_small]
                assert record.drain is not None
                assert record.deletion_at is not None
                assert (
                    record.exited_before_deletion is not None
                    or record.deletion_at >= record.drain.deadline
                ), "a pod hosting a meeting was deleted before its drain ended"
                # Whether its meeting moved live (to the third MC, if that one was not yet
                # draining when the GC was asked) or waited for the deadline, the pod went only
                # after its MC had exited drained or its deadline had passed (asserted above).

                # -- 3. scale to 2, roll out a new image, restart the operator mid-drain -------
                await api.call("PATCH", f"{CR_PATH}/{CR}", {"spec": {"replicas": 2}})
                await wait_for(
                    lambda: status_ready(2), timeout=20, what="2 ready MCs", operator_log=log
                )
                old = {p.name for p in kubelet.live()}
                rollout_started = time.time()
                await api.call(
                    "PATCH",
                    f"{CR_PATH}/{CR}",
                    {"spec": {"image": "registry.example/meeting-controller:2"}},
                )
                await wait_for(
                    lambda: bool(kubelet.pods[host_big].marks),
                    timeout=30,
                    what="the loaded old MC to start draining",
                    operator_log=log,
                )
                first = operators[0]
                first.send_signal(signal.SIGTERM)
                assert first.wait(timeout=15) == 0
                mark_before = kubelet.pods[host_big].marks[0]
                await asyncio.sleep(1.0)
                operator(1)
                log = tmp_path / "operator-1.log"
                await wait_for(
                    lambda: kubelet.pods[host_big].deletion_at is not None,
                    timeout=DRAIN_S + 15,
                    what="the drain to continue after the restart",
                    operator_log=log,
                )
                record = kubelet.pods[host_big]
                assert record.marks == [mark_before], "the restarted operator kept the deadline"
                assert record.drain is not None
                assert record.drain.reason == "rollout"
                assert record.deletion_at is not None
                assert (
                    record.exited_before_deletion is not None
                    or record.deletion_at >= record.drain.deadline
                )

                async def rolled_out() -> bool:
                    return not (old & {p.name for p in kubelet.live()}) and await status_ready(2)

                await wait_for(
                    rolled_out,
                    timeout=20,
                    what="2 ready MCs of the new revision",
                    operator_log=log,
                )
                rollout = [s for s in kubelet.samples if s[0] >= rollout_started]
                assert min(s[1] for s in rollout) >= 2, "serving capacity dropped below 2"
                assert max(s[2] for s in rollout) <= 1, "old pods must drain one at a time"
                for name in old:
                    assert kubelet.pods[name].deletion_at is not None
                    assert kubelet.pods[name].marks, f"{name} was deleted without a drain"

                # -- 4. a pod deleted by hand is replaced -------------------------------------
                victim = kubelet.live()[0].name
                await api.call("DELETE", f"/api/v1/namespaces/{NS}/pods/{victim}")
                await wait_for(
                    lambda: (
                        len(kubelet.live()) == 2
                        and victim not in {p.name for p in kubelet.live()}
                        and all(p.ready for p in kubelet.live())
                    ),
                    timeout=20,
                    what="the deleted pod to be replaced",
                    operator_log=log,
                )

                # -- 5. deleting the MeetingController drains every pod -----------------------
                last = {p.name for p in kubelet.live()}
                await api.call("DELETE", f"{CR_PATH}/{CR}")

                async def all_gone() -> bool:
                    pods = await api.items(f"/api/v1/namespaces/{NS}/pods")
                    return not pods and await cr() is None

                await wait_for(
                    all_gone, timeout=DRAIN_S + 15, what="the fleet to go", operator_log=log
                )
                for name in last:
                    drain = kubelet.pods[name].drain
                    assert drain is not None, name
                    assert drain.reason == "delete", name

                exposition = await asyncio.to_thread(
                    _get, f"http://127.0.0.1:{metrics_port}/metrics"
                )
                for metric in (
                    "mc_operator_reconcile_duration_seconds",
                    "mc_operator_drains_in_progress",
                    "mc_operator_drain_duration_seconds",
                ):
                    assert metric in exposition
                assert not kubelet.errors, kubelet.errors
                # RBAC: exactly what the operator and kopf called, no more, no less.
                called = {c for c in cluster.operator_calls if c[1] != "None"}
                granted = {
                    (group, resource, verb)
                    for rule in rbac.REQUIRED_RULES
                    for group in rule["apiGroups"]
                    for resource in rule["resources"]
                    for verb in rule["verbs"]
                }
                assert called == granted, (
                    f"called but not granted: {sorted(called - granted)}; "
                    f"granted but never called: {sorted(granted - called)}"
                )
                for rec in kubelet.pods.values():  # the timeline, for -s runs and failures
                    print(
                        rec.name,
                        rec.drain,
                        f"started={rec.started_at:.1f} ready={rec.ready_at}",
                        f"deleted={rec.deletion_at} self-exit={rec.exited_before_deletion}",
                        f"exit={rec.exit_code}",
                    )
                print("host_big", host_big, "host_small", host_small)
            finally:
                for client in clients:
                    with contextlib.suppress(Exception):
                        await asyncio.wait_for(client.close(), 2)
                for process in operators:
                    if process.poll() is None:
                        process.send_signal(signal.SIGTERM)
                        try:
                            process.wait(timeout=10)
                        except subprocess.TimeoutExpired:
                            process.kill()
                            process.wait()
                await kubelet.stop()
                processes.close()
                await api.close()


def test_drain_marks_round_trip_through_the_pod_annotation() -> None:
    """The kubelet's record decodes exactly what the operator wrote (the restart relies on it)."""
    mark = planner.DrainMark(started_at=1.5, deadline=7.25, reason="rollout")
    assert planner.decode_drain_mark(planner.encode_drain_mark(mark)) == mark
