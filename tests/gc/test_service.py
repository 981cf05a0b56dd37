"""GlobalControllerService over a real gRPC connection on 127.0.0.1, with a fake clock."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator

import grpc.aio
import pytest

from meeting_controller.gc import directory, placement, registry, service
from meeting_controller.protocol import internal_pb2, internal_pb2_grpc
from tests.gc.support import FakeClock

FAST_MS = 1000  # window: 3 s
pb = internal_pb2


class Gc:
    def __init__(self) -> None:
        self.clock = FakeClock()
        self.registry = registry.Registry(fast_interval_s=FAST_MS / 1000)
        self.directory = directory.MeetingDirectory()
        self.stub: internal_pb2_grpc.GlobalControllerServiceAsyncStub


@pytest.fixture
async def gc() -> AsyncIterator[Gc]:
    state = Gc()
    servicer = service.GlobalControllerServicer(
        registry=state.registry,
        directory=state.directory,
        clock=state.clock,
        fast_heartbeat_ms=FAST_MS,
        comprehensive_heartbeat_ms=4000,
    )
    server = grpc.aio.server()
    internal_pb2_grpc.add_GlobalControllerServiceServicer_to_server(servicer, server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    channel = grpc.aio.insecure_channel(f"127.0.0.1:{port}")
    state.stub = internal_pb2_grpc.GlobalControllerServiceStub(channel)
    try:
        yield state
    finally:
        await channel.close(None)
        await server.stop(None)


def registration(mc_id: str = "mc-1", **kw: object) -> internal_pb2.RegisterMcRequest:
    fields: dict[str, object] = {
        "mc_id": mc_id,
        "region": "eu",
        "grpc_endpoint": f"{mc_id}:50052",
        "webtransport_endpoint": f"https://{mc_id}:4433/",
        "max_meetings": 10,
        "max_participants": 100,
    }
    fields.update(kw)
    return pb.RegisterMcRequest(**fields)  # type: ignore[arg-type]


def fast(mc_id: str = "mc-1", **kw: object) -> internal_pb2.FastHeartbeatRequest:
    fields: dict[str, object] = {
        "mc_id": mc_id,
        "health": pb.HEALTH_HEALTHY,
        "state": pb.MC_STATE_ACTIVE,
    }
    fields.update(kw)
    return pb.FastHeartbeatRequest(**fields)  # type: ignore[arg-type]


async def test_registration_returns_the_configured_intervals(gc: Gc) -> None:
    answer = await gc.stub.RegisterMc(registration(), timeout=5)
    assert answer.accepted
    assert answer.reason == ""
    assert (answer.fast_heartbeat_interval_ms, answer.comprehensive_heartbeat_interval_ms) == (
        FAST_MS,
        4000,
    )
    record = gc.registry.get("mc-1")
    assert record is not None
    assert record.webtransport_endpoint == "https://mc-1:4433/"


async def test_zero_intervals_are_handed_out_as_zero_meaning_mc_defaults() -> None:
    servicer = service.GlobalControllerServicer(
        registry=registry.Registry(fast_interval_s=registry.DEFAULT_FAST_HEARTBEAT_SECONDS),
        directory=directory.MeetingDirectory(),
        clock=FakeClock(),
    )
    answer = await servicer.RegisterMc(registration(), context=None)
    assert answer.accepted
    assert answer.fast_heartbeat_interval_ms == answer.comprehensive_heartbeat_interval_ms == 0


async def test_a_duplicate_alive_id_is_rejected_with_a_reason_naming_it(gc: Gc) -> None:
    assert (await gc.stub.RegisterMc(registration(), timeout=5)).accepted
    await gc.stub.FastHeartbeat(fast(), timeout=5)
    gc.clock.advance(1)
    answer = await gc.stub.RegisterMc(registration(grpc_endpoint="elsewhere:1"), timeout=5)
    assert not answer.accepted
    assert "'mc-1'" in answer.reason
    assert "already registered and alive" in answer.reason
    assert answer.fast_heartbeat_interval_ms == 0


async def test_the_same_id_is_accepted_after_it_died(gc: Gc) -> None:
    assert (await gc.stub.RegisterMc(registration(), timeout=5)).accepted
    await gc.stub.FastHeartbeat(fast(), timeout=5)
    gc.clock.advance(3.001)  # three fast heartbeats missed
    answer = await gc.stub.RegisterMc(registration(grpc_endpoint="new-pod:50052"), timeout=5)
    assert answer.accepted
    assert gc.registry.get("mc-1").grpc_endpoint == "new-pod:50052"  # type: ignore[union-attr]


async def test_invalid_registration_is_rejected_with_the_reason(gc: Gc) -> None:
    answer = await gc.stub.RegisterMc(registration(max_meetings=0), timeout=5)
    assert not answer.accepted
    assert "max_meetings" in answer.reason


async def test_heartbeats_from_an_unknown_id_answer_unknown_mc(gc: Gc) -> None:
    answer = await gc.stub.FastHeartbeat(fast("ghost"), timeout=5)
    assert answer.status == pb.HEARTBEAT_STATUS_UNKNOWN_MC
    comprehensive = await gc.stub.ComprehensiveHeartbeat(
        pb.ComprehensiveHeartbeatRequest(mc_id="ghost"), timeout=5
    )
    assert comprehensive.status == pb.HEARTBEAT_STATUS_UNKNOWN_MC


async def test_heartbeats_record_counts_and_usage(gc: Gc) -> None:
    await gc.stub.RegisterMc(registration(), timeout=5)
    answer = await gc.stub.FastHeartbeat(
        fast(current_meetings=2, current_participants=9, health=pb.HEALTH_DEGRADED), timeout=5
    )
    assert answer.status == pb.HEARTBEAT_STATUS_OK
    record = gc.registry.get("mc-1")
    assert record is not None
    assert (record.current_meetings, record.current_participants, record.health) == (
        2,
        9,
        registry.Health.DEGRADED,
    )
    answer = await gc.stub.ComprehensiveHeartbeat(
        pb.ComprehensiveHeartbeatRequest(
            mc_id="mc-1",
            current_meetings=3,
            current_participants=11,
            health=pb.HEALTH_HEALTHY,
            state=pb.MC_STATE_ACTIVE,
            cpu_usage_percent=55.5,
            memory_usage_percent=20.0,
        ),
        timeout=5,
    )
    assert answer.status == pb.HEARTBEAT_STATUS_OK
    record = gc.registry.get("mc-1")
    assert record is not None
    assert (record.current_meetings, record.cpu_usage_percent, record.memory_usage_percent) == (
        3,
        55.5,
        20.0,
    )


async def test_three_missed_fast_heartbeats_make_an_mc_unhealthy_and_unplaceable(
    gc: Gc,
) -> None:
    await gc.stub.RegisterMc(registration("a"), timeout=5)
    await gc.stub.RegisterMc(registration("b"), timeout=5)
    await gc.stub.FastHeartbeat(fast("b", current_meetings=9), timeout=5)  # b: nearly full

    def ranked() -> list[str]:
        return [
            r.mc_id
            for r in placement.rank(
                gc.registry,
                region="eu",
                now=gc.clock(),
                liveness_window=gc.registry.window,
                rng=random.Random(0),
            )
        ]

    assert ranked() == ["a", "b"]
    for _ in range(3):  # b keeps beating, a stays silent
        gc.clock.advance(1.0)
        assert (await gc.stub.FastHeartbeat(fast("b", current_meetings=9), timeout=5)).status == (
            pb.HEARTBEAT_STATUS_OK
        )
    assert ranked() == ["a", "b"]  # exactly 3 intervals: still within the window
    gc.clock.advance(0.5)
    await gc.stub.FastHeartbeat(fast("b", current_meetings=9), timeout=5)
    assert ranked() == ["b"]
    assert [r.mc_id for r in gc.registry.sweep(now=gc.clock())] == ["a"]
    # Its late heartbeat is answered UNKNOWN_MC: it must register again.
    late = await gc.stub.FastHeartbeat(fast("a"), timeout=5)
    assert late.status == pb.HEARTBEAT_STATUS_UNKNOWN_MC
    assert (await gc.stub.RegisterMc(registration("a"), timeout=5)).accepted
    assert ranked() == ["a", "b"]


async def test_a_heartbeat_state_of_draining_stops_placement(gc: Gc) -> None:
    await gc.stub.RegisterMc(registration(), timeout=5)
    await gc.stub.FastHeartbeat(fast(state=pb.MC_STATE_DRAINING), timeout=5)
    assert gc.registry.get("mc-1").state is registry.McState.DRAINING  # type: ignore[union-attr]


async def test_drain_notifications_update_the_registry(gc: Gc) -> None:
    unknown = await gc.stub.NotifyDraining(pb.DrainingNotification(mc_id="ghost"), timeout=5)
    assert not unknown.acknowledged
    await gc.stub.RegisterMc(registration(), timeout=5)
    ack = await gc.stub.NotifyDraining(
        pb.DrainingNotification(mc_id="mc-1", current_meetings=2, deadline_unix_ms=99, reason="x"),
        timeout=5,
    )
    assert ack.acknowledged
    record = gc.registry.get("mc-1")
    assert record is not None
    assert (record.state, record.drain_deadline_unix_ms) == (registry.McState.DRAINING, 99)
    ack = await gc.stub.NotifyDrained(
        pb.DrainedNotification(mc_id="mc-1", meetings_migrated=2), timeout=5
    )
    assert ack.acknowledged
    assert gc.registry.get("mc-1").state is registry.McState.DRAINED  # type: ignore[union-attr]
    assert not (
        await gc.stub.NotifyDrained(pb.DrainedNotification(mc_id="x"), timeout=5)
    ).acknowledged


async def test_meeting_ended_removes_the_meeting_only_from_its_mc(gc: Gc) -> None:
    gc.directory.record(meeting_id="m1", mc_id="mc-2", generation=3, now=gc.clock())
    stale = await gc.stub.NotifyMeetingEnded(
        pb.MeetingEndedNotification(mc_id="mc-1", meeting_id="m1", reason="empty"), timeout=5
    )
    assert not stale.acknowledged
    assert gc.directory.get("m1") is not None
    ended = await gc.stub.NotifyMeetingEnded(
        pb.MeetingEndedNotification(mc_id="mc-2", meeting_id="m1", reason="empty"), timeout=5
    )
    assert ended.acknowledged
    assert gc.directory.get("m1") is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (pb.HEALTH_UNSPECIFIED, registry.Health.HEALTHY),
        (pb.HEALTH_HEALTHY, registry.Health.HEALTHY),
        (pb.HEALTH_DEGRADED, registry.Health.DEGRADED),
        (pb.HEALTH_UNHEALTHY, registry.Health.UNHEALTHY),
    ],
)
def test_health_translation(value: int, expected: registry.Health) -> None:
    assert service.health_from_proto(value) is expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (pb.MC_STATE_UNSPECIFIED, registry.McState.ACTIVE),
        (pb.MC_STATE_STARTING, registry.McState.STARTING),
        (pb.MC_STATE_ACTIVE, registry.McState.ACTIVE),
        (pb.MC_STATE_DRAINING, registry.McState.DRAINING),
        (pb.MC_STATE_DRAINED, registry.McState.DRAINED),
        (pb.MC_STATE_SHUTTING_DOWN, registry.McState.SHUTTING_DOWN),
    ],
)
def test_state_translation(value: int, expected: registry.McState) -> None:
    assert service.state_from_proto(value) is expected
