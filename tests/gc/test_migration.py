"""Live migration at the GC: choosing a target (pure and over gRPC) and moved notices."""

from __future__ import annotations

import asyncio
import collections
import random
from collections.abc import AsyncIterator

import grpc.aio
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from meeting_controller.gc import directory, placement, registry, service
from meeting_controller.protocol import internal_pb2 as pb
from meeting_controller.protocol import internal_pb2_grpc
from tests.gc.support import FakeClock, register
from tests.gc.test_placement import NOW, WINDOW, mc

H = registry.Health
S = registry.McState
SOURCE = mc("src", state=S.DRAINING)


def target_of(
    records: list[registry.McRecord],
    *,
    participants: int = 5,
    exclude: tuple[str, ...] = (),
    requester: registry.McRecord = SOURCE,
    seed: int = 0,
) -> str | None:
    chosen = placement.migration_target(
        [requester, *records],
        requester=requester,
        participants=participants,
        now=NOW,
        liveness_window=WINDOW,
        rng=random.Random(seed),
        exclude=exclude,
    )
    return chosen.mc_id if chosen is not None else None


# --- choosing a target (pure) -----------------------------------------------------------------

# Each row: the fleet besides the requester, the request, and the MC that must be chosen.
TABLE = [
    pytest.param([mc("a", meetings=5), mc("b", meetings=2)], {}, "b", id="most-free"),
    pytest.param(
        [mc("a", meetings=2), mc("b", participants=90)], {}, "a", id="participants-fuller"
    ),
    pytest.param(
        [mc("a", meetings=9)],
        {"requester": mc("src")},
        "a",
        id="never-the-requester-even-if-it-still-says-active-and-is-emptier",
    ),
    pytest.param([mc("a"), mc("b", meetings=5)], {"exclude": ("a",)}, "b", id="excluded"),
    pytest.param([mc("us", region="us"), mc("a", meetings=9)], {}, "a", id="other-region"),
    pytest.param([mc("x", state=S.DRAINING), mc("a", meetings=9)], {}, "a", id="draining"),
    pytest.param([mc("x", state=S.DRAINED), mc("a", meetings=9)], {}, "a", id="drained"),
    pytest.param([mc("x", state=S.SHUTTING_DOWN), mc("a", meetings=9)], {}, "a", id="stopping"),
    pytest.param([mc("x", state=S.STARTING), mc("a", meetings=9)], {}, "a", id="starting"),
    pytest.param(
        [mc("x", last_beat=NOW - WINDOW - 0.001), mc("a", meetings=9)], {}, "a", id="dead"
    ),
    pytest.param([mc("x", health=H.UNHEALTHY), mc("a", meetings=9)], {}, "a", id="unhealthy"),
    pytest.param([mc("x", health=H.DEGRADED), mc("a", meetings=9)], {}, "x", id="degraded-ok"),
    pytest.param(
        [mc("x", participants=96), mc("a", meetings=9)], {}, "a", id="no-room-for-participants"
    ),
    pytest.param(
        [mc("x", participants=95), mc("a", meetings=9, participants=10)],
        {},
        "a",  # x has exactly 5 free of 100 (5 %), a has 1 of 10 meetings (10 %)
        id="exactly-enough-room-but-less-free",
    ),
    pytest.param([mc("x", participants=95)], {}, "x", id="exactly-enough-room"),
    pytest.param([mc("x", participants=100)], {"participants": 0}, "x", id="no-participants"),
    pytest.param([mc("x", meetings=10)], {"participants": 0}, None, id="no-meeting-slot"),
    pytest.param([], {}, None, id="alone"),
]


@pytest.mark.parametrize(("fleet", "request_", "expected"), TABLE)
def test_target_selection(
    fleet: list[registry.McRecord], request_: dict[str, object], expected: str | None
) -> None:
    for seed in range(5):
        assert target_of(fleet, seed=seed, **request_) == expected  # type: ignore[arg-type]


def test_equally_free_targets_are_chosen_at_random() -> None:
    fleet = [mc("a"), mc("b"), mc("c"), mc("busier", meetings=1)]
    chosen = collections.Counter(target_of(fleet, seed=seed) for seed in range(300))
    assert set(chosen) == {"a", "b", "c"}
    assert min(chosen.values()) > 60


def test_the_reason_names_each_other_mc_of_the_region_and_why() -> None:
    fleet = [
        SOURCE,
        mc("mc-f", participants=97),
        mc("mc-b", meetings=10),
        mc("mc-c", state=S.DRAINING),
        mc("mc-d"),
        mc("mc-e", last_beat=NOW - 31),
        mc("mc-g", health=H.UNHEALTHY),
        mc("mc-h", state=S.SHUTTING_DOWN),
        mc("us-1", region="us"),  # another region: not worth naming
    ]
    reason = placement.no_target_reason(
        fleet,
        requester=SOURCE,
        participants=5,
        now=NOW,
        liveness_window=WINDOW,
        exclude=("mc-d",),
    )
    assert reason == (
        "no MC in region 'eu' has room for 5 participants ("
        "mc-b: at capacity (10/10 meetings), "
        "mc-c: draining, "
        "mc-d: already tried, "
        "mc-e: not alive (no heartbeat for 31.0s), "
        "mc-f: at capacity (room for 3 of 5 participants), "
        "mc-g: unhealthy, "
        "mc-h: shutting down)"
    )


def test_the_reason_when_the_requester_is_alone_in_its_region() -> None:
    reason = placement.no_target_reason(
        [SOURCE, mc("us-1", region="us")],
        requester=SOURCE,
        participants=1,
        now=NOW,
        liveness_window=WINDOW,
    )
    assert reason == (
        "no MC in region 'eu' has room for 1 participant (no other MC is registered in region 'eu')"
    )


@st.composite
def mc_records(draw: st.DrawFn) -> registry.McRecord:
    return mc(
        f"mc-{draw(st.integers(0, 30))}",
        region=draw(st.sampled_from(["eu", "us"])),
        meetings=draw(st.integers(0, 12)),
        max_meetings=draw(st.integers(1, 10)),
        participants=draw(st.integers(0, 60)),
        max_participants=draw(st.integers(1, 50)),
        state=draw(st.sampled_from(list(S))),
        health=draw(st.sampled_from(list(H))),
        last_beat=NOW - draw(st.floats(0, 2 * WINDOW)),
    )


def fleets() -> st.SearchStrategy[list[registry.McRecord]]:
    return st.lists(mc_records(), min_size=1, max_size=12, unique_by=lambda r: r.mc_id)


@settings(max_examples=300, deadline=None)
@given(
    records=fleets(),
    data=st.data(),
    participants=st.integers(0, 20),
    seed=st.integers(0, 2**32),
)
def test_the_target_is_never_the_requester_excluded_leaving_dead_or_remote_and_the_freest(
    records: list[registry.McRecord],
    data: st.DataObject,
    participants: int,
    seed: int,
) -> None:
    requester = data.draw(st.sampled_from(records), label="requester")
    exclude = data.draw(
        st.lists(st.sampled_from([r.mc_id for r in records] + ["unknown"]), max_size=4),
        label="exclude",
    )
    chosen = placement.migration_target(
        records,
        requester=requester,
        participants=participants,
        now=NOW,
        liveness_window=WINDOW,
        rng=random.Random(seed),
        exclude=exclude,
    )
    # Brute force, independently of placement's own filter.
    eligible = [
        r
        for r in records
        if r.mc_id != requester.mc_id
        and r.mc_id not in exclude
        and r.region == requester.region
        and NOW - r.last_fast_heartbeat_at <= WINDOW
        and r.state is S.ACTIVE
        and r.health is not H.UNHEALTHY
        and r.current_meetings < r.max_meetings
        and r.max_participants - r.current_participants >= participants
    ]
    if not eligible:
        assert chosen is None
        reason = placement.no_target_reason(
            records,
            requester=requester,
            participants=participants,
            now=NOW,
            liveness_window=WINDOW,
            exclude=exclude,
        )
        assert reason.startswith(f"no MC in region {requester.region!r} has room for")
        assert "a candidate" not in reason
        for other in records:
            named = f"{other.mc_id}: " in reason
            assert named == (other.region == requester.region and other is not requester)
        return
    assert chosen is not None
    assert chosen.mc_id != requester.mc_id
    assert chosen.mc_id not in exclude
    assert chosen.region == requester.region
    assert registry.is_alive(chosen, now=NOW, window=WINDOW)
    assert chosen.state is S.ACTIVE
    assert chosen.health is not H.UNHEALTHY
    assert chosen.max_participants - chosen.current_participants >= participants
    assert placement.free_capacity(chosen) == max(placement.free_capacity(r) for r in eligible)


# --- the directory ----------------------------------------------------------------------------

M = directory.MoveOutcome


@pytest.mark.parametrize(
    ("recorded", "notice", "outcome", "after"),
    [
        pytest.param(None, ("a", "b", 4), M.MOVED, ("b", 4), id="unknown-meeting"),
        pytest.param(("a", 3), ("a", "b", 4), M.MOVED, ("b", 4), id="from-owner-newer"),
        pytest.param(("a", 3), ("a", "b", 3), M.MOVED, ("b", 3), id="from-owner-same"),
        pytest.param(("a", 3), ("a", "b", 0), M.MOVED, ("b", 3), id="from-owner-unsaid"),
        pytest.param(("a", 3), ("x", "b", 5), M.MOVED, ("b", 5), id="newer-from-elsewhere"),
        pytest.param(("a", 0), ("x", "b", 1), M.MOVED, ("b", 1), id="any-beats-unknown"),
        pytest.param(("a", 5), ("a", "b", 4), M.STALE, ("a", 5), id="from-owner-older"),
        pytest.param(("c", 4), ("a", "b", 4), M.STALE, ("c", 4), id="overtaken-by-failover"),
        pytest.param(("c", 4), ("a", "b", 2), M.STALE, ("c", 4), id="old-from-elsewhere"),
        pytest.param(("c", 4), ("a", "b", 0), M.STALE, ("c", 4), id="unsaid-from-elsewhere"),
        pytest.param(("b", 4), ("a", "b", 4), M.DUPLICATE, ("b", 4), id="repeated"),
        pytest.param(("b", 4), ("a", "b", 0), M.DUPLICATE, ("b", 4), id="repeated-unsaid"),
    ],
)
def test_moved_notices(
    recorded: tuple[str, int] | None,
    notice: tuple[str, str, int],
    outcome: directory.MoveOutcome,
    after: tuple[str, int],
) -> None:
    meetings = directory.MeetingDirectory()
    if recorded is not None:
        meetings.record(
            meeting_id="m", mc_id=recorded[0], generation=recorded[1], now=1.0, region="eu"
        )
    from_mc, to_mc, generation = notice
    got = meetings.move(
        meeting_id="m",
        from_mc_id=from_mc,
        to_mc_id=to_mc,
        generation=generation,
        now=2.0,
        region="us",
    )
    assert got is outcome
    entry = meetings.get("m")
    assert entry is not None
    assert (entry.mc_id, entry.generation) == after
    # A known meeting keeps the region it was asked for; an unknown one takes the given one.
    assert entry.region == ("eu" if recorded is not None else "us")
    assert entry.placed_at == (2.0 if outcome is M.MOVED else 1.0)


def test_moves_reported_out_of_order_end_where_the_meeting_is() -> None:
    meetings = directory.MeetingDirectory()
    meetings.record(meeting_id="m", mc_id="a", generation=3, now=1.0)
    # a -> b (generation 4), then b -> c (generation 5); the notices arrive reversed.
    assert meetings.move(meeting_id="m", from_mc_id="b", to_mc_id="c", generation=5, now=2.0) is (
        M.MOVED
    )
    assert meetings.move(meeting_id="m", from_mc_id="a", to_mc_id="b", generation=4, now=3.0) is (
        M.STALE
    )
    entry = meetings.get("m")
    assert entry is not None
    assert (entry.mc_id, entry.generation) == ("c", 5)


# --- over gRPC --------------------------------------------------------------------------------


class Gc:
    def __init__(self) -> None:
        self.clock = FakeClock()
        self.registry = registry.Registry(fast_interval_s=1.0)
        self.directory = directory.MeetingDirectory()
        self.stub: internal_pb2_grpc.GlobalControllerServiceAsyncStub

    def register(self, mc_id: str, **kw: object) -> None:
        register(self.registry, mc_id, now=self.clock(), endpoint=f"{mc_id}:50052", **kw)  # type: ignore[arg-type]

    def beat(
        self, mc_id: str, *, meetings: int = 0, participants: int = 0, state: S = S.ACTIVE
    ) -> None:
        assert self.registry.heartbeat(
            mc_id=mc_id,
            current_meetings=meetings,
            current_participants=participants,
            health=H.HEALTHY,
            state=state,
            now=self.clock(),
        )

    def load(self, mc_id: str) -> tuple[int, int]:
        record = self.registry.get(mc_id)
        assert record is not None
        return record.current_meetings, record.current_participants

    async def find(
        self, meeting_id: str = "m1", *, participants: int = 5, exclude: tuple[str, ...] = ()
    ) -> pb.MigrationTargetResponse:
        return await self.stub.FindMigrationTarget(
            pb.MigrationTargetRequest(
                mc_id="src",
                meeting_id=meeting_id,
                participants=participants,
                exclude_mc_ids=exclude,
            ),
            timeout=5,
        )

    async def moved(
        self, from_mc: str, to_mc: str, generation: int, meeting_id: str = "m1"
    ) -> bool:
        ack = await self.stub.NotifyMeetingMoved(
            pb.MeetingMovedNotification(
                meeting_id=meeting_id,
                from_mc_id=from_mc,
                to_mc_id=to_mc,
                generation=generation,
            ),
            timeout=5,
        )
        return ack.acknowledged


@pytest.fixture
async def gc() -> AsyncIterator[Gc]:
    state = Gc()
    servicer = service.GlobalControllerServicer(
        registry=state.registry,
        directory=state.directory,
        clock=state.clock,
        fast_heartbeat_ms=1000,
        rng=random.Random(5),
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


async def test_the_target_is_answered_with_its_endpoints_and_counted_on_it(gc: Gc) -> None:
    for mc_id in ("src", "a", "b"):
        gc.register(mc_id)
    gc.beat("src", meetings=4, participants=20, state=S.DRAINING)
    gc.beat("a", meetings=3, participants=10)
    gc.beat("b", meetings=1, participants=10)
    answer = await gc.find(participants=7)
    assert answer.found
    assert (answer.mc_id, answer.grpc_endpoint, answer.webtransport_endpoint, answer.reason) == (
        "b",
        "b:50052",
        "https://b.example:4433/",
        "",
    )
    # Nothing is reserved, but the meeting counts on b until b's next heartbeat.
    assert gc.load("b") == (2, 17)
    assert gc.load("a") == (3, 10)
    assert gc.load("src") == (4, 20)
    gc.beat("b", meetings=1, participants=10)  # b never got it (say, its admission refused)
    assert gc.load("b") == (1, 10)


async def test_the_requester_and_the_excluded_mcs_are_never_answered(gc: Gc) -> None:
    for mc_id in ("src", "a", "b", "c"):
        gc.register(mc_id)
    gc.beat("a", meetings=1)
    gc.beat("b", meetings=2)
    gc.beat("c", meetings=9)
    # src is the emptiest and has not said it drains yet: still never its own target.
    answer = await gc.find(exclude=("a", "b"))
    assert (answer.found, answer.mc_id) == (True, "c")
    refused = await gc.find(exclude=("a", "b", "c"))
    assert not refused.found
    assert refused.reason == (
        "no MC in region 'eu' has room for 5 participants "
        "(a: already tried, b: already tried, c: already tried)"
    )


async def test_no_target_is_answered_with_a_reason_and_counts_nothing(gc: Gc) -> None:
    for mc_id in ("src", "mc-b", "mc-c"):
        gc.register(mc_id)
    gc.register("us-1", region="us")
    gc.beat("mc-b", meetings=10)
    gc.beat("mc-c", state=S.DRAINING)
    answer = await gc.find()
    assert not answer.found
    assert (answer.mc_id, answer.grpc_endpoint, answer.webtransport_endpoint) == ("", "", "")
    assert answer.reason == (
        "no MC in region 'eu' has room for 5 participants "
        "(mc-b: at capacity (10/10 meetings), mc-c: draining)"
    )
    assert gc.load("mc-b") == (10, 0)
    assert gc.load("us-1") == (0, 0)  # another region is never a target, however empty


async def test_an_unregistered_requester_is_told_to_register_again(gc: Gc) -> None:
    gc.register("a")
    answer = await gc.find()
    assert not answer.found
    assert "'src' is not registered with this GC" in answer.reason
    assert gc.load("a") == (0, 0)


async def test_concurrent_requests_spread_over_the_targets(gc: Gc) -> None:
    """20 meetings of one draining MC asked for at once, as a drain does."""
    for mc_id in ("src", "a", "b"):
        gc.register(mc_id, max_meetings=50, max_participants=500)
    gc.beat("src", meetings=20, participants=100, state=S.DRAINING)
    answers = await asyncio.gather(*(gc.find(f"m{i}") for i in range(20)))
    assert all(answer.found for answer in answers)
    assert collections.Counter(answer.mc_id for answer in answers) == {"a": 10, "b": 10}
    assert gc.load("a") == gc.load("b") == (10, 50)


async def test_concurrent_requests_fill_the_emptier_target_first(gc: Gc) -> None:
    for mc_id in ("src", "a", "b", "c"):
        gc.register(mc_id, max_meetings=50, max_participants=500)
    gc.beat("src", meetings=20, participants=100, state=S.DRAINING)
    gc.beat("a", meetings=8, participants=40)
    gc.beat("b", meetings=2, participants=10)
    answers = await asyncio.gather(*(gc.find(f"m{i}") for i in range(20)))
    counts = collections.Counter(answer.mc_id for answer in answers)
    assert sum(counts.values()) == 20
    assert counts["a"] < counts["b"] < counts["c"]
    loads = [gc.load(mc_id)[0] for mc_id in ("a", "b", "c")]
    assert max(loads) - min(loads) <= 1  # 30 meetings in all: 10 each
    assert sum(loads) == 30


async def test_a_fresh_moved_notice_points_the_directory_at_the_new_mc(gc: Gc) -> None:
    gc.register("a")
    gc.register("b")
    gc.directory.record(meeting_id="m1", mc_id="a", generation=3, now=gc.clock(), region="eu")
    gc.clock.advance(1)
    assert await gc.moved("a", "b", 4)
    entry = gc.directory.get("m1")
    assert entry is not None
    assert (entry.mc_id, entry.generation, entry.region, entry.placed_at) == (
        "b",
        4,
        "eu",
        gc.clock(),
    )
    assert await gc.moved("a", "b", 4)  # repeated: acknowledged, nothing changes


async def test_a_stale_moved_notice_is_ignored(gc: Gc) -> None:
    # The meeting failed over to c (generation 4) before a's late notice about b arrived.
    gc.directory.record(meeting_id="m1", mc_id="c", generation=4, now=gc.clock())
    assert not await gc.moved("a", "b", 4)
    assert not await gc.moved("a", "b", 3)
    entry = gc.directory.get("m1")
    assert entry is not None
    assert (entry.mc_id, entry.generation) == ("c", 4)


async def test_a_moved_notice_for_a_meeting_the_gc_forgot_is_recorded(gc: Gc) -> None:
    """E.g. the GC restarted during the drain: the notice is the best knowledge there is."""
    gc.register("b", region="us")
    assert await gc.moved("a", "b", 7)
    entry = gc.directory.get("m1")
    assert entry is not None
    assert (entry.mc_id, entry.generation, entry.region) == ("b", 7, "us")


async def test_a_moved_notice_without_meeting_or_target_is_refused(gc: Gc) -> None:
    assert not await gc.moved("a", "", 4)
    assert not await gc.moved("a", "b", 4, meeting_id="")
    assert len(gc.directory) == 0
