"""A real MC process drains: by the operator's admin call, and on SIGTERM."""

from __future__ import annotations

import asyncio
import signal
import time

import grpc

from meeting_controller.client.meeting import MeetingClient
from meeting_controller.protocol import internal_pb2, internal_pb2_grpc
from meeting_controller.protocol import signaling_pb2 as sig
from tests.e2e.conftest import ADMIN_TOKEN, Fleet
from tests.support.waiting import eventually


async def next_of(
    client: MeetingClient, payload: str, *, timeout: float = 10.0
) -> sig.ServerMessage:
    async with asyncio.timeout(timeout):
        while True:
            event = await client.next_event(timeout=timeout)
            if event.WhichOneof("payload") == payload:
                return event


async def test_an_admin_drain_refuses_new_meetings_closes_at_the_deadline_and_exits(
    fleet: Fleet,
) -> None:
    mc = fleet.start_mc("mc-1")
    hana = await fleet.participant("hana")
    channel = grpc.aio.insecure_channel(f"127.0.0.1:{mc.ports['grpc']}")
    stub = internal_pb2_grpc.MeetingControllerServiceStub(channel)
    try:
        with_token = (("authorization", "Bearer " + ADMIN_TOKEN.decode()),)
        deadline = int((time.time() + 2) * 1000)
        answer = await stub.Drain(
            internal_pb2.DrainRequest(deadline_unix_ms=deadline, reason="test"),
            metadata=with_token,
        )
        assert answer.state == internal_pb2.MC_STATE_DRAINING
        refused = await stub.AssignMeeting(internal_pb2.AssignMeetingRequest(meeting_id="new"))
        assert refused.rejection_reason == internal_pb2.REJECTION_REASON_DRAINING
        status = await stub.GetStatus(internal_pb2.GetStatusRequest())
        assert (status.state, status.current_meetings) == (internal_pb2.MC_STATE_DRAINING, 1)
        assert mc.get("/readyz").status == 503

        ended = await next_of(hana, "meeting_ended")
        assert ended.meeting_ended.reason == sig.MEETING_END_REASON_DRAIN_DEADLINE
        assert time.time() * 1000 >= deadline - 50
        assert await asyncio.to_thread(mc.wait, timeout=15) == 0
        stderr = mc.stderr()
        assert "drain finished: 0 ended, 0 migrated, 1 closed at the deadline" in stderr
        [record] = [r for r in fleet.gc.fleet() if r["mc_id"] == "mc-1"]
        assert record["state"] == "drained"
    finally:
        await hana.close()
        await channel.close(None)


async def test_sigterm_drains_within_the_drain_timeout(fleet: Fleet) -> None:
    mc = fleet.start_mc("mc-1", MC_DRAIN_TIMEOUT_SECONDS="2")
    hana = await fleet.participant("hana")
    try:
        mc.process.send_signal(signal.SIGTERM)
        ended = await next_of(hana, "meeting_ended")
        assert ended.meeting_ended.reason == sig.MEETING_END_REASON_DRAIN_DEADLINE
        assert await asyncio.to_thread(mc.wait, timeout=15) == 0
        assert "SIGTERM: draining before shutdown" in mc.stderr()
    finally:
        await hana.close()


async def test_meetings_that_cannot_move_are_closed_at_the_deadline_and_reported(
    fleet: Fleet,
) -> None:
    source = fleet.start_mc("mc-1")
    hana = await fleet.participant("hana")
    bob = await fleet.participant("bob", meeting_id=hana.ticket.meeting_id)
    fleet.start_mc("mc-2", MC_MAX_PARTICIPANTS="1")  # no room for a meeting of two
    channel = grpc.aio.insecure_channel(f"127.0.0.1:{source.ports['grpc']}")
    try:
        await internal_pb2_grpc.MeetingControllerServiceStub(channel).Drain(
            internal_pb2.DrainRequest(deadline_unix_ms=int((time.time() + 3) * 1000), reason="t"),
            metadata=(("authorization", "Bearer " + ADMIN_TOKEN.decode()),),
        )
        counted = 'mc_migrations_total{result="no_target"} 1.0'
        await eventually(
            lambda: counted in source.get("/metrics").body.decode(),
            timeout=3,
            what="the failed migration in the source's metrics",
        )
        ended = await next_of(hana, "meeting_ended")
        assert ended.meeting_ended.reason == sig.MEETING_END_REASON_DRAIN_DEADLINE
        assert "drain deadline" in ended.meeting_ended.message
        assert await asyncio.to_thread(source.wait, timeout=15) == 0
        assert "0 migrated, 1 closed at the deadline" in source.stderr()
        [record] = [r for r in fleet.gc.fleet() if r["mc_id"] == "mc-1"]
        assert record["last_drain"] == {"migrated": 0, "closed": 1, "ended": 0}
    finally:
        await hana.close()
        await bob.close()
        await channel.close(None)
