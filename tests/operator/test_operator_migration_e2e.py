"""Acceptance (issue 6, item 4): through the operator, a scale-down migrates live meetings.

The whole stack is real except Kubernetes: the operator (a kopf subprocess) against kmock's
API emulator, the test kubelet starting real ``meeting-controller run`` processes per pod,
the reference GC, a real Redis and real WebTransport participants. A fleet of 3 MCs with room
to spare and a **long** drain timeout hosts live meetings; ``spec.replicas`` goes 3 -> 2. The
least loaded MC is marked for a scale-down drain, moves its meetings live to its peers, exits,
and its pod is deleted within seconds - long before the 120 s deadline that a drain waiting
for meetings to end would need. Every participant is still reachable on its current
connection with a continuous event stream, nobody saw anybody leave, the GC's directory has
nothing left on the removed MC, and the MeetingController shows the migration: a status with
``migrationsPending`` = the meetings to move (and a ``Draining`` condition saying so) written
before the pod went, the Event ``DrainStarted`` "... N meetings left to move ...", then
``PodDeleted``; it ends with 2 ready replicas and nothing pending.

The drain takes about a second, shorter than two reconcile passes (0.5 s apart), so the
"left to move" numbers are caught from the recorded status writes, not by polling.
"""

from __future__ import annotations

import asyncio
import base64
import collections
import contextlib
import copy
import json
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
from meeting_controller.protocol import signaling_pb2 as sig
from meeting_operator import resources
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
CR_PATH = f"/apis/{resources.GROUP}/{resources.VERSION}/namespaces/{NS}/{resources.PLURAL}"
DRAIN_S = 120
"""Long on purpose: a drain that waited for meetings to end would fail every bound below."""
MIGRATED_WITHIN_S = 20.0
"""The drained pod must be deleted this soon after the scale-down was asked for."""
MEETINGS = 6
PER_MEETING = 3

STATUS_LOG: list[tuple[float, dict[str, Any]]] = []
"""Every status the operator wrote to a MeetingController: (wall time, status)."""


class StatusRecordingCluster(Cluster):
    """The test cluster, plus, for this test:

    every ``status`` write to a MeetingController is kept (:data:`STATUS_LOG`), so that a
    ``migrationsPending`` shown for a fraction of a second is not missed by polling
    (``metadata.generateName``, which kopf's Events need, is honoured by the shared cluster.)
    """

    async def _handle(self, request: Any) -> Any:
        if (
            request.resource is not None
            and request.resource.plural == resources.PLURAL
            and request.subresource == "status"
            and isinstance(request.data, dict)
        ):
            STATUS_LOG.append((time.time(), copy.deepcopy(request.data.get("status") or {})))
        return await super()._handle(request)


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
            # Room to spare: the two MCs that stay can take every meeting of the third.
            "capacity": {"maxMeetings": 10},
            "heartbeat": {"fastIntervalMs": 500},
            "drain": {"timeoutSeconds": DRAIN_S},
            "ports": ports,
        },
    }


def _gc_get(url: str) -> dict[str, Any]:
    with urllib.request.urlopen(url, timeout=2) as response:
        data: dict[str, Any] = json.loads(response.read())
        return data


async def settle(clients: list[MeetingClient], seen: dict[str, list[sig.ServerMessage]]) -> None:
    """Every client answers a ping on its current connection (nobody is lost).

    The pattern of ``tests/e2e/test_migration.py``, except that every event read on the way
    to the pong is kept in ``seen`` (by participant) for the test's later assertions.
    """

    async def pinged(client: MeetingClient, nonce: int) -> None:
        kept = seen.setdefault(client.participant_id, [])
        async with asyncio.timeout(20):
            while True:  # a ping sent while the client reconnects is lost: send it again
                with contextlib.suppress(ConnectionError, OSError):
                    await client.ping(nonce)
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(1.0):
                        while True:
                            event = await client.next_event(timeout=1.0)
                            if event.WhichOneof("payload") == "pong" and event.pong.nonce == nonce:
                                return
                            kept.append(event)

    nonce = int(time.monotonic() * 1000) % 1_000_000
    await asyncio.gather(*(pinged(c, nonce + i) for i, c in enumerate(clients)))


async def chatter(hosts: list[MeetingClient], stop: asyncio.Event) -> int:
    """The meetings' hosts toggle their self-mute until told to stop (events in flight while
    meetings move); returns the requests sent."""
    sent, muted = 0, False
    while not stop.is_set():
        muted = not muted
        for host in hosts:
            with contextlib.suppress(ConnectionError, OSError):
                await host.mute(muted)
                sent += 1
        await asyncio.sleep(0.1)
    return sent


async def test_scale_down_migrates_live_meetings_instead_of_waiting(
    tmp_path: Path, redis_url: str
) -> None:
    cert = tls.generate_self_signed(
        cert_file=tmp_path / "cert.pem", key_file=tmp_path / "key.pem", names=IPS
    )
    trust = Trust(cafile=str(cert.cert_file))
    processes = ProcessGroup(workdir=tmp_path)
    clients: list[MeetingClient] = []
    operators: list[subprocess.Popen[bytes]] = []
    STATUS_LOG.clear()
    KUBELET_ERRORS.clear()
    test_started = time.monotonic()

    with ThreadedGc(fast_heartbeat_ms=500) as gc:
        async with StatusRecordingCluster() as cluster, kmock.Server(cluster):
            register_resources(cluster)
            kube_url = str(cluster.url)
            api = Api(kube_url)
            kubelet = Kubelet(
                api=api, namespace=NS, workdir=tmp_path, cert=cert, processes=processes
            )
            kubelet.errors = KUBELET_ERRORS
            log = tmp_path / "operator-0.log"
            stop_chatter = asyncio.Event()
            chatterer: asyncio.Task[int] | None = None

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

            async def status() -> dict[str, Any]:
                body = await api.get(f"{CR_PATH}/{CR}")
                return dict((body or {}).get("status") or {})

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
                operators.append(
                    start_operator(
                        kube_url=kube_url,
                        workdir=tmp_path,
                        liveness_port=free_port(),
                        metrics_port=free_port(),
                        index=0,
                    )
                )

                async def ready(n: int) -> bool:
                    s = await status()
                    return s.get("readyReplicas") == n and s.get("replicas") == n

                await wait_for(lambda: ready(3), timeout=30, what="3 ready MCs", operator_log=log)

                async def gc_sees_three() -> bool:
                    fleet = await asyncio.to_thread(gc.fleet)
                    placeable = {
                        mc["mc_id"] for mc in fleet if mc["alive"] and mc["state"] == "active"
                    }
                    return {p.name for p in kubelet.live()} <= placeable

                await wait_for(gc_sees_three, timeout=10, what="3 MCs the GC places on")

                # -- live meetings, spread over the three MCs -------------------------------
                meetings: dict[str, list[MeetingClient]] = {}

                # The hosts one after the other: a burst of placements is ranked against one
                # snapshot and spread at random, one by one they go to the freest MC.
                hosts = [await join(f"host-{i}") for i in range(MEETINGS)]

                async def fill(host: MeetingClient) -> None:
                    group = [host]
                    for n in range(1, PER_MEETING):
                        group.append(await join(f"{host.display_name}-{n}", host.ticket.meeting_id))
                    meetings[host.ticket.meeting_id] = group

                await asyncio.gather(*(fill(h) for h in hosts))
                placed = collections.Counter(g[0].ticket.mc_id for g in meetings.values())
                assert set(placed) == {p.name for p in kubelet.live()}, (
                    f"the GC did not spread the meetings over all three MCs: {placed}"
                )
                # Make an MC with at least two meetings unambiguously the least loaded (fewest
                # participants, what a scale-down drains first): the others get latecomers.
                light = min(
                    (mc for mc in placed if placed[mc] >= 2), key=lambda mc: (placed[mc], mc)
                )

                def load_of(mc: str) -> int:
                    return sum(len(g) for g in meetings.values() if g[0].ticket.mc_id == mc)

                for mc in placed:
                    groups = [g for g in meetings.values() if g[0].ticket.mc_id == mc]
                    n = 0
                    while mc != light and load_of(mc) <= load_of(light):
                        group = groups[n % len(groups)]
                        group.append(await join(f"late-{mc}-{n}", group[0].ticket.meeting_id))
                        n += 1
                load = collections.Counter({mc: load_of(mc) for mc in placed})
                assert all(load[mc] > load[light] for mc in load if mc != light), load
                moving = {m for m, g in meetings.items() if g[0].ticket.mc_id == light}
                participants = sum(load.values())
                # host-mute one participant per meeting: it must survive the move
                for group in meetings.values():
                    await group[0].host_mute(group[1].participant_id)
                before: dict[str, list[sig.ServerMessage]] = {}
                await settle(clients, before)

                async def observed_load() -> bool:
                    s = await status()
                    return (
                        s.get("currentMeetings") == MEETINGS
                        and s.get("currentParticipants") == participants
                    )

                await wait_for(
                    observed_load, timeout=10, what="the operator to see every participant"
                )
                for client in clients:
                    before[client.participant_id] += client.pending_events()

                # -- scale 3 -> 2 while the hosts keep talking ------------------------------
                chatterer = asyncio.create_task(
                    chatter([g[0] for g in meetings.values()], stop_chatter)
                )
                scaled_at = time.time()
                await api.call("PATCH", f"{CR_PATH}/{CR}", {"spec": {"replicas": 2}})
                await wait_for(
                    lambda: any(p.marks for p in kubelet.pods.values()),
                    timeout=10,
                    what="a drain mark",
                    operator_log=log,
                )
                marked = [p for p in kubelet.pods.values() if p.marks]
                assert [p.name for p in marked] == [light], "the least loaded MC must drain"
                record = kubelet.pods[light]
                drain = record.drain
                assert drain is not None
                assert drain.reason == "scale-down"
                assert drain.deadline - scaled_at > DRAIN_S - 10, drain
                await wait_for(
                    lambda: record.gone,
                    timeout=MIGRATED_WITHIN_S,
                    what="the drained pod to be deleted",
                    operator_log=log,
                )
                assert record.deletion_at is not None
                deleted_after = record.deletion_at - scaled_at
                stop_chatter.set()
                mutes_sent = await chatterer
                chatterer = None

                # The MC moved its meetings and exited by itself; the pod went long before
                # its drain deadline (a waiting drain would have kept it for 120 s).
                assert record.exited_before_deletion == 0, record
                assert deleted_after < MIGRATED_WITHIN_S
                assert record.deletion_at < drain.deadline - (DRAIN_S - MIGRATED_WITHIN_S)
                assert record.marks == [record.marks[0]], "one drain, one deadline"
                stderr = record.process.stderr()
                assert f"0 ended, {len(moving)} migrated, 0 closed" in stderr, stderr[-3000:]

                # -- every participant is still there, with a continuous stream -------------
                settle_started = time.monotonic()
                after: dict[str, list[sig.ServerMessage]] = {}
                await settle(clients, after)
                settled_after = time.monotonic() - settle_started
                for meeting_id, group in meetings.items():
                    for client in group:
                        pid = client.participant_id
                        events = after[pid] + client.pending_events()
                        kinds = collections.Counter(e.WhichOneof("payload") for e in events)
                        earlier = collections.Counter(e.WhichOneof("payload") for e in before[pid])
                        # to everyone else a migrating participant stays present
                        assert earlier["participant_left"] == 0, (pid, earlier)
                        assert kinds["participant_left"] == 0, (pid, kinds)
                        assert kinds["participant_joined"] == 0, (pid, kinds)
                        assert kinds["meeting_ended"] == 0, (pid, kinds)
                        assert kinds["error"] == 0, (pid, kinds)
                        assert client.sequence_log == list(range(1, client.last_sequence + 1)), (
                            client.participant_id
                        )
                        if meeting_id in moving:
                            assert client.redirects >= 1, client.participant_id
                            assert client.resumes >= 1, client.participant_id
                            assert client.endpoint != group[0].ticket.mc_endpoint
                            assert client.join_response is not None
                            assert client.join_response.resumed
                            roster = {p.participant_id: p for p in client.join_response.roster}
                            assert len(roster) == len(group)
                            assert roster[group[0].participant_id].role == sig.ROLE_HOST
                            assert roster[group[1].participant_id].mute.is_host_muted
                        else:
                            assert client.redirects == 0, client.participant_id

                # -- the GC's directory: nothing on the removed MC --------------------------
                staying = {p.name for p in kubelet.live()}
                assert len(staying) == 2
                assert light not in staying
                for meeting_id in meetings:
                    where = await asyncio.to_thread(
                        _gc_get, f"{gc.http_url}/v1/meetings/{meeting_id}"
                    )
                    assert where["mc_id"] in staying, (meeting_id, where)
                fleet = await asyncio.to_thread(gc.fleet)
                recorded = {mc["mc_id"]: mc["meetings_recorded"] for mc in fleet}
                assert recorded.get(light, 0) == 0, recorded
                assert sum(recorded.values()) == MEETINGS, recorded

                # -- the MeetingController's status and Events ------------------------------
                async def settled_status() -> bool:
                    s = await status()
                    return (
                        s.get("replicas") == 2
                        and s.get("readyReplicas") == 2
                        and s.get("drainingReplicas") == 0
                        and s.get("migrationsPending") == 0
                        and s.get("currentMeetings") == MEETINGS
                        and s.get("currentParticipants") == participants
                    )

                await wait_for(
                    settled_status, timeout=10, what="the final status", operator_log=log
                )
                final = await status()
                assert {c["type"]: c["status"] for c in final["conditions"]} == {
                    "Ready": "True",
                    "Progressing": "False",
                    "Draining": "False",
                    "Degraded": "False",
                }
                pending_at = [
                    (t, s["migrationsPending"])
                    for t, s in STATUS_LOG
                    if t >= scaled_at and "migrationsPending" in s
                ]
                pending = [(round(t - scaled_at, 2), n) for t, n in pending_at]
                assert any(n == len(moving) and t < record.deletion_at for t, n in pending_at), (
                    f"no status showed the {len(moving)} meetings left to move: {pending}"
                )
                draining_messages = [
                    c["message"]
                    for _, s in STATUS_LOG
                    for c in s.get("conditions") or []
                    if c.get("type") == "Draining" and c.get("status") == "True"
                ]
                left = f"{len(moving)} meeting{'' if len(moving) == 1 else 's'} left to move"
                assert any(left in m for m in draining_messages), draining_messages

                kube_events: list[dict[str, Any]] = []

                async def events_posted() -> bool:
                    kube_events[:] = await api.items(f"/api/v1/namespaces/{NS}/events")
                    reasons = {e.get("reason") for e in kube_events}
                    return {"DrainStarted", "PodDeleted"} <= reasons

                await wait_for(events_posted, timeout=10, what="the drain's Events")
                messages = [(e.get("reason"), e.get("message", "")) for e in kube_events]
                assert (
                    "DrainStarted",
                    f"draining MC pod {light} (scale-down, {left}, deadline in {DRAIN_S} s)",
                ) in messages, messages
                assert all(e["involvedObject"]["name"] == CR for e in kube_events), kube_events
                deleted = [m for r, m in messages if r == "PodDeleted" and light in m]
                assert deleted in (
                    [f"deleted MC pod {light} (drained)"],
                    [f"deleted MC pod {light} (exited)"],  # the MC exited before a pass saw it
                ), messages
                assert not kubelet.errors, kubelet.errors

                print(
                    f"\nscale 3 -> 2: {light} drained {len(moving)} meetings "
                    f"({load[light]} participants) live; pod deleted {deleted_after:.2f} s "
                    f"after the scale (deadline was {DRAIN_S} s); {mutes_sent} mute changes "
                    f"during the move; everyone answered {settled_after:.2f} s later; "
                    f"migrationsPending over time: {pending}; "
                    f"test took {time.monotonic() - test_started:.1f} s"
                )
                for reason, message in messages:
                    print(f"event {reason}: {message}")
            finally:
                stop_chatter.set()
                if chatterer is not None:
                    with contextlib.suppress(Exception):
                        await chatterer
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
