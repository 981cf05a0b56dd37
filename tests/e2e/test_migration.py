"""Live migration on drain and crash failover, end to end.

Three real MC processes, the reference GC, a real Redis and 100 real WebTransport
participants (20 meetings of 5) changing mute state all along. The tests print how long the
drain and the recovery took; the assertions are about correctness, never about speed.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import random
import signal
import time

import grpc

from meeting_controller.client.meeting import MeetingClient
from meeting_controller.protocol import internal_pb2, internal_pb2_grpc
from meeting_controller.protocol import signaling_pb2 as sig
from tests.e2e.conftest import ADMIN_TOKEN, Fleet

MEETINGS = 20
PER_MEETING = 5


async def populate(fleet: Fleet) -> dict[str, list[MeetingClient]]:
    meetings: dict[str, list[MeetingClient]] = {}

    async def one(index: int) -> None:
        host = await fleet.participant(f"host-{index}")
        clients = [host]
        for n in range(1, PER_MEETING):
            clients.append(
                await fleet.participant(f"p{index}-{n}", meeting_id=host.ticket.meeting_id)
            )
        meetings[host.ticket.meeting_id] = clients

    await asyncio.gather(*(one(i) for i in range(MEETINGS)))
    return meetings


async def chatter(clients: list[MeetingClient], stop: asyncio.Event) -> int:
    """Participants toggle their self-mute until told to stop; returns requests sent."""
    rng = random.Random(7)
    sent = 0
    while not stop.is_set():
        client = rng.choice(clients)
        with contextlib.suppress(ConnectionError, OSError):
            await client.mute(rng.random() < 0.5)
            sent += 1
        await asyncio.sleep(0.02)
    return sent


async def settle(clients: list[MeetingClient]) -> None:
    """Every client answers a ping on its current connection (nobody is lost)."""

    async def pinged(client: MeetingClient, nonce: int) -> None:
        async with asyncio.timeout(30):
            while True:  # a ping sent while the client reconnects is lost: send it again
                with contextlib.suppress(ConnectionError, OSError):
                    await client.ping(nonce)
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(1.0):
                        while True:
                            event = await client.next_event(timeout=1.0)
                            if event.WhichOneof("payload") == "pong" and event.pong.nonce == nonce:
                                return

    await asyncio.gather(*(pinged(c, 10_000 + i) for i, c in enumerate(clients)))


def hosting(fleet: Fleet) -> collections.Counter[str]:
    return collections.Counter({r["mc_id"]: r["meetings_recorded"] for r in fleet.gc.fleet()})


async def test_draining_an_mc_moves_every_meeting_live_and_nobody_is_lost(fleet: Fleet) -> None:
    for i in (1, 2, 3):
        fleet.start_mc(f"mc-{i}")
    meetings = await populate(fleet)
    clients = [c for group in meetings.values() for c in group]
    # one host-mute per meeting, which must survive the move
    for group in meetings.values():
        await group[0].host_mute(group[1].participant_id)
    await settle(clients)
    source = hosting(fleet).most_common(1)[0][0]
    moving = {m for m, g in meetings.items() if g[0].ticket.mc_id == source}
    assert moving, "the GC placed nothing on the busiest MC?"

    stop = asyncio.Event()
    chatterers = [asyncio.create_task(chatter(g, stop)) for g in meetings.values()]
    mc = fleet.mcs[source]
    channel = grpc.aio.insecure_channel(f"127.0.0.1:{mc.ports['grpc']}")
    try:
        started = time.monotonic()
        await internal_pb2_grpc.MeetingControllerServiceStub(channel).Drain(
            internal_pb2.DrainRequest(
                deadline_unix_ms=int((time.time() + 60) * 1000), reason="test"
            ),
            metadata=(("authorization", "Bearer " + ADMIN_TOKEN.decode()),),
        )
        assert await asyncio.to_thread(mc.wait, timeout=60) == 0
        drained_after = time.monotonic() - started
        await settle(clients)
        print(f"\ndrain of {source} with {len(moving)} meetings took {drained_after:.2f} s")
    finally:
        stop.set()
        await asyncio.gather(*chatterers)
        await channel.close(None)

    assert f"{len(moving)} migrated, 0 closed" in mc.stderr()
    for meeting_id, group in meetings.items():
        for client in group:
            # continuous stream: every number once, none skipped, across the move
            assert client.sequence_log == list(range(1, client.last_sequence + 1)), (
                client.participant_id
            )
            events = client.pending_events()
            assert not [e for e in events if e.WhichOneof("payload") == "participant_left"]
            assert not [e for e in events if e.WhichOneof("payload") == "participant_joined"]
            if meeting_id in moving:
                assert client.resumes >= 1
                assert client.redirects >= 1
                assert client.join_response is not None
                assert client.join_response.resumed
                roster = {p.participant_id: p for p in client.join_response.roster}
                assert roster[group[0].participant_id].role == sig.ROLE_HOST
                assert roster[group[1].participant_id].mute.is_host_muted
                assert len(roster) == PER_MEETING
    where = hosting(fleet)
    assert where.get(source, 0) == 0
    assert sum(where.values()) == MEETINGS
    for client in clients:
        await client.close()


async def test_a_killed_mc_is_replaced_by_its_peers_and_everyone_resumes(fleet: Fleet) -> None:
    for i in (1, 2, 3):
        fleet.start_mc(f"mc-{i}")
    meetings = await populate(fleet)
    clients = [c for group in meetings.values() for c in group]
    for group in meetings.values():
        await group[0].host_mute(group[1].participant_id)
    await settle(clients)
    victim = hosting(fleet).most_common(1)[0][0]
    moving = {m for m, g in meetings.items() if g[0].ticket.mc_id == victim}

    killed_at = time.monotonic()
    fleet.mcs[victim].process.send_signal(signal.SIGKILL)
    fleet.mcs[victim].wait(timeout=10)
    await settle(clients)
    recovered_after = time.monotonic() - killed_at
    print(
        f"\nrecovery from SIGKILL of {victim} ({len(moving)} meetings) took {recovered_after:.2f} s"
    )

    for meeting_id, group in meetings.items():
        for client in group:
            assert client.sequence_log == list(range(1, client.last_sequence + 1))
            if meeting_id in moving:
                assert client.resumes >= 1
                assert client.endpoint != group[0].ticket.mc_endpoint
                assert client.join_response is not None
                roster = {p.participant_id: p for p in client.join_response.roster}
                assert roster[group[0].participant_id].role == sig.ROLE_HOST
                assert roster[group[1].participant_id].mute.is_host_muted
    assert hosting(fleet).get(victim, 0) == 0

    # The dead MC comes back with the same id: it holds nothing and its writes are fenced.
    revived = fleet.start_mc(victim)
    status_channel = grpc.aio.insecure_channel(f"127.0.0.1:{revived.ports['grpc']}")
    try:
        status = await internal_pb2_grpc.MeetingControllerServiceStub(status_channel).GetStatus(
            internal_pb2.GetStatusRequest()
        )
        assert status.current_meetings == 0
    finally:
        await status_channel.close(None)
    await settle(clients)
    for group in meetings.values():
        for client in group:
            await client.close()
