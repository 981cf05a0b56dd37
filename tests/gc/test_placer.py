"""Assigning meetings over real gRPC to three scripted MCs on 127.0.0.1."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator

import pytest

from meeting_controller.gc import directory, placer, registry
from meeting_controller.protocol import internal_pb2 as pb
from tests.gc.support import FakeClock, ScriptedMc, free_port, register, scripted_mcs

FAST = 1.0  # window 3 s on the fake clock


class World:
    def __init__(self, mcs: dict[str, ScriptedMc]) -> None:
        self.mcs = mcs
        self.clock = FakeClock()
        self.registry = registry.Registry(fast_interval_s=FAST)
        self.directory = directory.MeetingDirectory()
        self.clients = placer.McClients()
        self.placer = placer.Placer(
            registry=self.registry,
            directory=self.directory,
            clients=self.clients,
            clock=self.clock,
            rng=random.Random(1),
            gc_id="gc-test",
            rpc_timeout_s=0.3,
        )
        for mc_id, mc in mcs.items():
            register(self.registry, mc_id, now=self.clock(), endpoint=mc.endpoint)

    def load(self, **meetings: int) -> None:
        """Heartbeat every MC with the given meeting counts (of 10)."""
        for mc_id, count in meetings.items():
            assert self.registry.heartbeat(
                mc_id=mc_id,
                current_meetings=count,
                current_participants=0,
                health=registry.Health.HEALTHY,
                state=registry.McState.ACTIVE,
                now=self.clock(),
            )

    def calls(self) -> dict[str, int]:
        return {mc_id: len(mc.assign_calls) for mc_id, mc in self.mcs.items()}

    async def place(self, meeting_id: str = "m1") -> tuple[directory.MeetingEntry, bool]:
        return await self.placer.ensure_placed(meeting_id=meeting_id, region="eu")


@pytest.fixture
async def world() -> AsyncIterator[World]:
    async with scripted_mcs("a", "b", "c") as mcs:
        state = World(mcs)
        try:
            yield state
        finally:
            await state.clients.close()


async def test_places_on_the_mc_with_the_most_free_capacity(world: World) -> None:
    world.load(a=5, b=2, c=8)
    entry, created = await world.place()
    assert created
    assert (entry.mc_id, entry.generation, entry.region) == ("b", 1, "eu")
    assert world.calls() == {"a": 0, "b": 1, "c": 0}
    request = world.mcs["b"].assign_calls[0]
    assert (request.meeting_id, request.generation, request.requesting_gc_id) == (
        "m1",
        0,
        "gc-test",
    )
    assert request.settings.estimated_participants == 1
    assert world.directory.get("m1") == entry
    assert world.registry.get("b").current_meetings == 3  # type: ignore[union-attr]


async def test_an_already_placed_meeting_is_answered_without_asking_any_mc(world: World) -> None:
    first, _ = await world.place()
    again, created = await world.place()
    assert again == first
    assert not created
    assert sum(world.calls().values()) == 1


async def test_concurrent_creations_of_one_meeting_place_it_once(world: World) -> None:
    results = await asyncio.gather(*(world.place() for _ in range(5)))
    assert len({entry.mc_id for entry, _ in results}) == 1
    assert [created for _, created in results].count(True) == 1
    assert sum(world.calls().values()) == 1


async def test_placements_spread_over_equally_free_mcs(world: World) -> None:
    for i in range(6):
        await world.place(f"m{i}")
    assert world.calls() == {"a": 2, "b": 2, "c": 2}


async def test_never_asks_an_mc_known_to_be_draining(world: World) -> None:
    world.load(a=5, b=0, c=8)
    world.registry.mark_draining("b")
    entry, _ = await world.place()
    assert entry.mc_id == "a"
    assert world.calls() == {"a": 1, "b": 0, "c": 0}


async def test_an_mc_answering_draining_is_marked_draining_and_never_asked_again(
    world: World,
) -> None:
    world.load(a=5, b=0, c=8)
    world.mcs["b"].rejection = pb.REJECTION_REASON_DRAINING
    entry, _ = await world.place("m1")
    assert entry.mc_id == "a"
    assert world.registry.get("b").state is registry.McState.DRAINING  # type: ignore[union-attr]
    world.load(a=5, b=0, c=8)  # even a stale ACTIVE heartbeat does not undo it
    await world.place("m2")
    assert world.calls() == {"a": 2, "b": 1, "c": 0}


@pytest.mark.parametrize(
    "rejection",
    [
        pb.REJECTION_REASON_AT_CAPACITY,
        pb.REJECTION_REASON_UNHEALTHY,
        pb.REJECTION_REASON_SHUTTING_DOWN,
        pb.REJECTION_REASON_UNSPECIFIED,
    ],
)
async def test_a_refusal_moves_on_to_the_next_mc(world: World, rejection: int) -> None:
    world.load(a=5, b=0, c=8)
    world.mcs["b"].rejection = rejection
    entry, _ = await world.place("m1")
    assert entry.mc_id == "a"
    assert world.calls() == {"a": 1, "b": 1, "c": 0}
    # The refusal is remembered until b's next heartbeat: the next meeting does not ask b.
    await world.place("m2")
    assert world.calls()["b"] == 1


async def test_an_unreachable_mc_is_skipped(world: World) -> None:
    register(world.registry, "gone", now=world.clock(), endpoint=f"127.0.0.1:{free_port()}")
    world.load(a=5, b=3, c=8)  # "gone" is empty, so it is asked first
    entry, _ = await world.place()
    assert entry.mc_id == "b"
    assert world.calls() == {"a": 0, "b": 1, "c": 0}


async def test_a_slow_mc_times_out_and_the_next_is_asked(world: World) -> None:
    world.load(a=5, b=0, c=8)
    world.mcs["b"].delay_s = 2.0  # the placer waits 0.3 s
    loop = asyncio.get_running_loop()
    started = loop.time()
    entry, _ = await world.place()
    assert entry.mc_id == "a"
    assert loop.time() - started < 1.5


async def test_no_capacity_when_every_mc_refuses_lists_each_answer(world: World) -> None:
    register(world.registry, "gone", now=world.clock(), endpoint=f"127.0.0.1:{free_port()}")
    world.mcs["a"].rejection = pb.REJECTION_REASON_AT_CAPACITY
    world.mcs["b"].rejection = pb.REJECTION_REASON_UNHEALTHY
    world.mcs["c"].rejection = pb.REJECTION_REASON_DRAINING
    with pytest.raises(placer.PlacementFailed) as info:
        await world.place()
    outcomes = {a.mc_id: a.outcome for a in info.value.attempts}
    assert outcomes == {
        "a": "at_capacity",
        "b": "unhealthy",
        "c": "draining",
        "gone": "unreachable",
    }
    message = str(info.value)
    assert "region 'eu'" in message
    assert "a: at_capacity (a says" in message
    assert world.directory.get("m1") is None


async def test_no_capacity_without_any_candidate(world: World) -> None:
    with pytest.raises(placer.PlacementFailed, match="none is alive, active and has free"):
        await world.placer.ensure_placed(meeting_id="m1", region="mars")
    assert sum(world.calls().values()) == 0


async def test_a_meeting_on_a_dead_mc_is_placed_again_with_its_generation(world: World) -> None:
    world.load(a=0, b=5, c=5)
    entry, _ = await world.place()
    assert (entry.mc_id, entry.generation) == ("a", 1)
    world.clock.advance(2.0)  # a misses three heartbeats; b and c keep beating
    world.load(b=5, c=5)
    world.clock.advance(1.5)
    world.load(b=5, c=4)
    moved = await world.placer.resolve_orphans()
    assert moved == [("m1", "c")]
    request = world.mcs["c"].assign_calls[0]
    assert request.generation == 1  # the new MC takes over from generation 1
    now = world.directory.get("m1")
    assert now is not None
    assert (now.mc_id, now.generation) == ("c", 2)
    again, created = await world.place()  # a client asking now is sent to c
    assert again.mc_id == "c"
    assert not created


async def test_a_meeting_of_a_drained_mc_is_found_where_it_migrated(world: World) -> None:
    world.load(a=0, b=5, c=5)
    await world.place()
    world.mcs["b"].meetings["m1"] = 2  # a migrated it to b (generation + 1) while draining
    world.registry.mark_draining("a")
    assert await world.placer.resolve_orphans() == []  # a draining MC still hosts it
    world.registry.mark_drained("a")
    assert await world.placer.resolve_orphans() == [("m1", "b")]
    entry = world.directory.get("m1")
    assert entry is not None
    assert (entry.mc_id, entry.generation) == ("b", 2)
    assert world.calls() == {"a": 1, "b": 0, "c": 0}  # located, not assigned again


async def test_a_meeting_the_gc_forgot_is_located_after_a_stale_refusal(world: World) -> None:
    """E.g. the GC restarted: the MCs' shared store knows the meeting under generation 4."""
    world.load(a=0, b=5, c=5)
    world.mcs["a"].rejection = pb.REJECTION_REASON_STALE_GENERATION
    world.mcs["c"].meetings["m1"] = 4
    entry, created = await world.place()
    assert not created  # it existed: whoever asks is not its creator
    assert (entry.mc_id, entry.generation) == ("c", 4)
    assert world.calls() == {"a": 1, "b": 0, "c": 0}


async def test_an_orphan_nobody_can_take_stays_recorded_and_is_retried(world: World) -> None:
    await world.place()
    holder = world.directory.get("m1")
    assert holder is not None
    for mc in world.mcs.values():
        mc.rejection = pb.REJECTION_REASON_AT_CAPACITY
    world.registry.mark_drained(holder.mc_id)
    (result,) = await world.placer.resolve_orphans()
    assert result[0] == "m1"
    assert "no MC" in result[1]
    assert world.directory.get("m1") == holder


async def test_a_meeting_of_an_mc_that_restarted_is_placed_again(world: World) -> None:
    """The new process registered under the old id has none of its predecessor's meetings."""
    world.load(a=0, b=5, c=5)
    entry, _ = await world.place()
    assert entry.mc_id == "a"
    world.clock.advance(2.0)
    world.load(b=5, c=5)
    world.clock.advance(1.5)  # a died ...
    world.load(b=5, c=4)
    world.mcs["a"].meetings.clear()  # ... and came back empty
    register(world.registry, "a", now=world.clock(), endpoint=world.mcs["a"].endpoint)
    again, created = await world.place()
    assert not created
    assert (again.mc_id, again.generation) == ("c", 2)
    assert world.mcs["c"].assign_calls[0].generation == 1
