"""Crash failover and live migration through the assembled GC, with a fake clock.

The GC's own sweeper is parked (a one-hour interval); each test sweeps by hand, so "within
three missed heartbeats and one sweep" is checked exactly, not by sleeping. The MCs are
scripted real gRPC servers on 127.0.0.1, and clients ask over real HTTP.
"""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from typing import Any

import grpc.aio
import pytest

from meeting_controller import tokens
from meeting_controller.gc import registry, server
from meeting_controller.protocol import internal_pb2 as pb
from meeting_controller.protocol import internal_pb2_grpc
from tests.gc.support import FakeClock, ScriptedMc, http, scripted_mcs

FAST_MS = 1000  # liveness window: 3 s


class Fleet:
    def __init__(
        self,
        gc: server.GlobalController,
        clock: FakeClock,
        stub: internal_pb2_grpc.GlobalControllerServiceAsyncStub,
        mcs: dict[str, ScriptedMc],
    ) -> None:
        self.gc = gc
        self.clock = clock
        self.stub = stub
        self.mcs = mcs

    async def register(self, mc_id: str) -> None:
        answer = await self.stub.RegisterMc(
            pb.RegisterMcRequest(
                mc_id=mc_id,
                region="eu",
                grpc_endpoint=self.mcs[mc_id].endpoint,
                webtransport_endpoint=f"https://{mc_id}.test:4433/",
                max_meetings=10,
                max_participants=100,
            ),
            timeout=5,
        )
        assert answer.accepted, answer.reason

    async def beat(self, **meetings: int) -> None:
        for mc_id, count in meetings.items():
            answer = await self.stub.FastHeartbeat(
                pb.FastHeartbeatRequest(
                    mc_id=mc_id,
                    current_meetings=count,
                    health=pb.HEALTH_HEALTHY,
                    state=pb.MC_STATE_ACTIVE,
                ),
                timeout=5,
            )
            assert answer.status == pb.HEARTBEAT_STATUS_OK, mc_id

    async def create(self, meeting_id: str) -> str:
        answer = await http(
            self.gc.http_url, "POST", "/v1/meetings", {"meeting_id": meeting_id, "user_id": "u"}
        )
        assert answer.status == 201, answer.body
        mc_id: str = answer.json()["mc_id"]
        return mc_id

    async def where(self, meeting_id: str) -> dict[str, Any]:
        answer = await http(self.gc.http_url, "GET", f"/v1/meetings/{meeting_id}")
        assert answer.status == 200, answer.body
        document: dict[str, Any] = answer.json()
        return document

    def assigns(self) -> dict[str, list[tuple[str, int]]]:
        return {
            mc_id: [(call.meeting_id, call.generation) for call in mc.assign_calls]
            for mc_id, mc in self.mcs.items()
        }


@pytest.fixture
async def fleet() -> AsyncIterator[Fleet]:
    clock = FakeClock()
    async with scripted_mcs("a", "b", "c") as mcs:
        gc = server.GlobalController(
            grpc_listen="127.0.0.1:0",
            http_listen="127.0.0.1:0",
            signing_key=tokens.generate_signing_key(),
            fast_heartbeat_ms=FAST_MS,
            sweep_interval_s=3600,  # parked: the tests sweep by hand
            clock=clock,
            rng=random.Random(3),
        )
        await gc.start()
        try:
            async with grpc.aio.insecure_channel(gc.grpc_address) as channel:
                state = Fleet(
                    gc, clock, internal_pb2_grpc.GlobalControllerServiceStub(channel), mcs
                )
                for mc_id in mcs:
                    await state.register(mc_id)
                yield state
        finally:
            await gc.stop()


async def host_on_a(fleet: Fleet, *meeting_ids: str) -> None:
    """Create the meetings on a (b and c look busier), then a falls silent."""
    await fleet.beat(a=0, b=5, c=5)
    for meeting_id in meeting_ids:
        assert await fleet.create(meeting_id) == "a"


async def a_dies(fleet: Fleet, *, b: int = 5, c: int = 4) -> None:
    """a misses its heartbeats past the window while b and c keep beating; nothing swept."""
    for _ in range(3):
        fleet.clock.advance(1.0)
        await fleet.beat(b=b, c=c)
    fleet.clock.advance(0.01)
    await fleet.beat(b=b, c=c)


def test_three_missed_heartbeats_plus_one_sweep_stay_within_four_fast_intervals() -> None:
    """The sweeper's default period keeps the worst case at about one extra heartbeat."""
    for fast_s in (0.05, 0.1, 0.5, 1.0, 5.0, 10.0, 30.0):
        window = registry.liveness_window(fast_s)
        assert window == pytest.approx(3 * fast_s)
        assert window + server.sweep_interval(window) <= 4 * fast_s + 1e-9


async def test_failover_happens_on_the_first_sweep_after_three_missed_heartbeats(
    fleet: Fleet,
) -> None:
    await host_on_a(fleet, "m1", "m2")
    for _ in range(3):  # up to exactly 3 intervals after a's last beat: a still counts alive
        fleet.clock.advance(1.0)
        await fleet.beat(b=5, c=4)
        await fleet.gc.sweep()
        assert (await fleet.where("m1"))["mc_id"] == "a"
    assert fleet.assigns() == {"a": [("m1", 0), ("m2", 0)], "b": [], "c": []}

    fleet.clock.advance(0.01)  # the window has passed ...
    await fleet.gc.sweep()  # ... and one sweep fails both meetings over
    placed = {
        meeting_id: (where["mc_id"], where["generation"], where["mc_alive"], where["mc_endpoint"])
        for meeting_id in ("m1", "m2")
        for where in [await fleet.where(meeting_id)]
    }
    for mc_id, generation, alive, endpoint in placed.values():
        assert mc_id in ("b", "c")
        assert (generation, alive, endpoint) == (2, True, f"https://{mc_id}.test:4433/")
    # Each was offered to the new MC with the generation the GC last saw (1).
    assert sorted(fleet.assigns()["b"] + fleet.assigns()["c"]) == [("m1", 1), ("m2", 1)]
    # A participant joining now is sent to the new MC as well, without another assignment.
    joined = await http(
        fleet.gc.http_url, "POST", "/v1/meetings", {"meeting_id": "m1", "user_id": "late"}
    )
    assert (joined.status, joined.json()["mc_id"], joined.json()["role"]) == (
        200,
        placed["m1"][0],
        "participant",
    )
    assert sum(len(calls) for calls in fleet.assigns().values()) == 4


async def test_a_meeting_refused_everywhere_is_retried_on_later_sweeps(fleet: Fleet) -> None:
    await host_on_a(fleet, "m1")
    fleet.mcs["b"].rejection = pb.REJECTION_REASON_AT_CAPACITY
    fleet.mcs["c"].rejection = pb.REJECTION_REASON_UNHEALTHY
    await a_dies(fleet)
    await fleet.gc.sweep()
    assert {mc_id: len(calls) for mc_id, calls in fleet.assigns().items()} == {
        "a": 1,
        "b": 1,
        "c": 1,
    }
    where = await fleet.where("m1")
    assert (where["mc_id"], where["mc_alive"], where["generation"]) == ("a", False, 1)

    # Until b and c heartbeat again their refusals stand: a sweep does not hammer them.
    await fleet.gc.sweep()
    assert {mc_id: len(calls) for mc_id, calls in fleet.assigns().items()} == {
        "a": 1,
        "b": 1,
        "c": 1,
    }

    fleet.mcs["c"].rejection = None  # c recovered
    fleet.clock.advance(1.0)
    await fleet.beat(b=10, c=4)
    await fleet.gc.sweep()
    where = await fleet.where("m1")
    assert (where["mc_id"], where["mc_alive"], where["generation"]) == ("c", True, 2)
    assert fleet.assigns()["c"] == [("m1", 1), ("m1", 1)]  # still from the generation it had


async def test_the_old_mc_coming_back_gets_none_of_its_meetings_back(fleet: Fleet) -> None:
    await host_on_a(fleet, "m1")
    await a_dies(fleet)
    await fleet.gc.sweep()
    moved_to = (await fleet.where("m1"))["mc_id"]
    assert moved_to in ("b", "c")

    # a was partitioned, not killed: it comes back, registers again, is the emptiest MC, and
    # still believes it holds m1 under the old generation.
    assert fleet.mcs["a"].meetings == {"m1": 1}
    late = await fleet.stub.FastHeartbeat(pb.FastHeartbeatRequest(mc_id="a"), timeout=5)
    assert late.status == pb.HEARTBEAT_STATUS_UNKNOWN_MC
    await fleet.register("a")
    for _ in range(5):
        fleet.clock.advance(1.0)
        await fleet.beat(a=1, b=5, c=5)
        await fleet.gc.sweep()
    where = await fleet.where("m1")
    assert (where["mc_id"], where["generation"]) == (moved_to, 2)
    joined = await http(
        fleet.gc.http_url, "POST", "/v1/meetings", {"meeting_id": "m1", "user_id": "late"}
    )
    assert joined.json()["mc_id"] == moved_to
    assert fleet.assigns()["a"] == [("m1", 0)]  # never offered m1 again
    # Not because a is unusable: it is the freest MC and takes the next new meeting.
    assert await fleet.create("m-new") == "a"


async def test_a_meeting_still_orphaned_when_its_old_mc_returns_goes_elsewhere(
    fleet: Fleet,
) -> None:
    await host_on_a(fleet, "m1")
    for mc_id in ("b", "c"):
        fleet.mcs[mc_id].rejection = pb.REJECTION_REASON_AT_CAPACITY
    await a_dies(fleet)
    await fleet.gc.sweep()
    assert (await fleet.where("m1"))["mc_id"] == "a"
    # a restarts empty and registers again (emptiest MC); b has room again.
    fleet.mcs["a"].meetings.clear()
    await fleet.register("a")
    fleet.mcs["b"].rejection = None
    fleet.clock.advance(1.0)
    await fleet.beat(a=0, b=5, c=5)
    await fleet.gc.sweep()
    where = await fleet.where("m1")
    assert (where["mc_id"], where["generation"]) == ("b", 2)
    assert fleet.assigns()["a"] == [("m1", 0)]


async def test_a_live_migration_is_answered_by_the_directory_at_once(fleet: Fleet) -> None:
    await host_on_a(fleet, "m1")
    ack = await fleet.stub.NotifyDraining(
        pb.DrainingNotification(mc_id="a", current_meetings=1, reason="scale-down"), timeout=5
    )
    assert ack.acknowledged
    await fleet.beat(b=5, c=3)
    target = await fleet.stub.FindMigrationTarget(
        pb.MigrationTargetRequest(mc_id="a", meeting_id="m1", participants=3), timeout=5
    )
    assert (target.found, target.mc_id, target.webtransport_endpoint) == (
        True,
        "c",
        "https://c.test:4433/",
    )
    assert target.grpc_endpoint == fleet.mcs["c"].endpoint
    fleet.mcs["c"].meetings["m1"] = 2  # c accepted the migration under generation 2
    moved = await fleet.stub.NotifyMeetingMoved(
        pb.MeetingMovedNotification(meeting_id="m1", from_mc_id="a", to_mc_id="c", generation=2),
        timeout=5,
    )
    assert moved.acknowledged
    where = await fleet.where("m1")  # no sweep needed
    assert (where["mc_id"], where["generation"], where["mc_endpoint"]) == (
        "c",
        2,
        "https://c.test:4433/",
    )
    # A late, stale notice (say, a retried one about an earlier attempt towards b) is ignored.
    stale = await fleet.stub.NotifyMeetingMoved(
        pb.MeetingMovedNotification(meeting_id="m1", from_mc_id="a", to_mc_id="b", generation=2),
        timeout=5,
    )
    assert not stale.acknowledged
    # a finishes its drain and goes away: the meeting stays where it moved, nobody is asked.
    await fleet.stub.NotifyDrained(pb.DrainedNotification(mc_id="a", meetings_migrated=1))
    for _ in range(4):
        fleet.clock.advance(1.0)
        await fleet.beat(b=5, c=4)
        await fleet.gc.sweep()
    assert (await fleet.where("m1"))["mc_id"] == "c"
    assert fleet.assigns() == {"a": [("m1", 0)], "b": [], "c": []}
    # Its meeting ended on c: only c may say so, and then the GC forgets it.
    ended = await fleet.stub.NotifyMeetingEnded(
        pb.MeetingEndedNotification(mc_id="c", meeting_id="m1", reason="empty"), timeout=5
    )
    assert ended.acknowledged
    missing = await http(fleet.gc.http_url, "GET", "/v1/meetings/m1")
    assert missing.status == 404
