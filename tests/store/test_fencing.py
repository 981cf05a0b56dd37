"""Claims and fencing: a newer owner's generation refuses every write of an older one."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import pytest
from redis.asyncio import Redis

from meeting_controller.errors import FencedOut, StaleGeneration
from meeting_controller.store import FencedRedisClient
from tests.store.helpers import fenced_out_count, keyspace

MEETING = "m-1"

#: Every write of the store, as the previous owner would attempt it with its old generation.
Write = Callable[[FencedRedisClient, int], Awaitable[object]]
WRITES: dict[str, Write] = {
    "assign": lambda store, generation: store.assign(
        MEETING, generation=generation, mh_assignment_json='{"mh": "old"}', state={"by": "old"}
    ),
    "unassign": lambda store, generation: store.unassign(MEETING, generation=generation),
    "update_state": lambda store, generation: store.update_state(
        MEETING, generation=generation, fields={"by": "old"}
    ),
    "add_participant": lambda store, generation: store.add_participant(
        MEETING, generation=generation, participant_id="p-old"
    ),
    "remove_participant": lambda store, generation: store.remove_participant(
        MEETING, generation=generation, participant_id="p-new"
    ),
    "refresh": lambda store, generation: store.refresh(MEETING, generation=generation),
    "delete_meeting": lambda store, generation: store.delete_meeting(
        MEETING, generation=generation
    ),
    "put_session": lambda store, generation: store.put_session(
        MEETING, generation=generation, session_id="s-new", data={"by": "old"}, ttl_ms=60_000
    ),
    "delete_session": lambda store, generation: store.delete_session(
        MEETING, generation=generation, session_id="s-new"
    ),
}


async def test_the_first_claim_of_a_meeting_returns_generation_1(store: FencedRedisClient) -> None:
    assert await store.get_generation(MEETING) == 0
    assert await store.claim_meeting(MEETING) == 1
    assert await store.get_generation(MEETING) == 1


async def test_every_claim_moves_the_generation_to_the_next_number(
    store: FencedRedisClient, other_store: FencedRedisClient
) -> None:
    first = await store.claim_meeting(MEETING)
    second = await other_store.claim_meeting(MEETING)
    third = await store.claim_meeting(MEETING)
    assert (first, second, third) == (1, 2, 3)
    assert await other_store.get_generation(MEETING) == 3


async def test_claims_of_different_meetings_are_independent(store: FencedRedisClient) -> None:
    assert await store.claim_meeting("a") == 1
    assert await store.claim_meeting("a") == 2
    assert await store.claim_meeting("b") == 1


async def test_concurrent_claims_from_two_mcs_each_get_a_distinct_generation(
    store: FencedRedisClient, other_store: FencedRedisClient
) -> None:
    claims = [s.claim_meeting(MEETING) for s in (store, other_store) for _ in range(20)]
    generations = await asyncio.gather(*claims)
    assert sorted(generations) == list(range(1, 41))


async def test_a_claim_expecting_an_older_generation_than_stored_is_stale_and_changes_nothing(
    store: FencedRedisClient,
) -> None:
    await store.claim_meeting(MEETING)
    await store.claim_meeting(MEETING)
    with pytest.raises(StaleGeneration) as caught:
        await store.claim_meeting(MEETING, expected_generation=1)
    assert (caught.value.meeting_id, caught.value.offered, caught.value.current) == (MEETING, 1, 2)
    assert await store.get_generation(MEETING) == 2


async def test_a_claim_expecting_the_stored_generation_moves_it_on(
    store: FencedRedisClient,
) -> None:
    assert await store.claim_meeting(MEETING, expected_generation=0) == 1
    assert await store.claim_meeting(MEETING, expected_generation=1) == 2
    # An assignment that knows a newer generation than the store (e.g. after expiry) is not
    # stale: the claim still takes the stored generation + 1.
    assert await store.claim_meeting(MEETING, expected_generation=10) == 3


async def test_the_owner_can_write_with_its_generation(store: FencedRedisClient) -> None:
    generation = await store.claim_meeting(MEETING)
    await store.assign(MEETING, generation=generation, mh_assignment_json="{}", state={"a": "1"})
    await store.update_state(MEETING, generation=generation, fields={"b": "2"})
    record = await store.load_meeting(MEETING)
    assert record is not None
    assert dict(record.state) == {"a": "1", "b": "2"}


@pytest.mark.parametrize("operation", sorted(WRITES))
async def test_after_a_takeover_every_write_of_the_previous_owner_is_fenced_out(
    operation: str, store: FencedRedisClient, other_store: FencedRedisClient, raw: Redis
) -> None:
    old = await store.claim_meeting(MEETING)
    await store.assign(MEETING, generation=old, mh_assignment_json='{"mh": "old"}', state={})
    new = await other_store.claim_meeting(MEETING)
    assert new == old + 1
    await other_store.assign(
        MEETING, generation=new, mh_assignment_json='{"mh": "new"}', state={"by": "new"}
    )
    await other_store.add_participant(MEETING, generation=new, participant_id="p-new")
    await other_store.put_session(
        MEETING, generation=new, session_id="s-new", data={"by": "new"}, ttl_ms=60_000
    )
    before = await keyspace(raw)
    counted = fenced_out_count("newer_owner")

    with pytest.raises(FencedOut) as caught:
        await WRITES[operation](store, old)

    assert (caught.value.meeting_id, caught.value.held, caught.value.current) == (MEETING, 1, 2)
    assert caught.value.operation == operation
    assert await keyspace(raw) == before
    assert fenced_out_count("newer_owner") == counted + 1


async def test_the_stored_state_is_the_new_owners_after_the_old_owner_tried_every_write(
    store: FencedRedisClient, other_store: FencedRedisClient
) -> None:
    old = await store.claim_meeting(MEETING)
    await store.assign(MEETING, generation=old, mh_assignment_json='{"mh": "old"}', state={})
    new = await other_store.claim_meeting(MEETING)
    await other_store.assign(
        MEETING, generation=new, mh_assignment_json='{"mh": "new"}', state={"by": "new"}
    )
    await other_store.add_participant(MEETING, generation=new, participant_id="p-new")
    await other_store.put_session(
        MEETING, generation=new, session_id="s-new", data={"by": "new"}, ttl_ms=60_000
    )
    counted = fenced_out_count("newer_owner")

    for write in WRITES.values():
        with pytest.raises(FencedOut):
            await write(store, old)

    assert fenced_out_count("newer_owner") == counted + len(WRITES)
    record = await other_store.load_meeting(MEETING)
    assert record is not None
    assert (record.generation, record.mh_assignment_json) == (new, '{"mh": "new"}')
    assert (dict(record.state), record.participants) == ({"by": "new"}, frozenset({"p-new"}))
    assert await store.get_session("s-new") == {"by": "new"}


async def test_a_deleted_meeting_fences_out_every_former_owner_until_claimed_again(
    store: FencedRedisClient,
) -> None:
    generation = await store.claim_meeting(MEETING)
    await store.delete_meeting(MEETING, generation=generation)
    counted = fenced_out_count("meeting_gone")

    with pytest.raises(FencedOut) as caught:
        await store.add_participant(MEETING, generation=generation, participant_id="p")

    assert (caught.value.held, caught.value.current) == (generation, 0)
    assert fenced_out_count("meeting_gone") == counted + 1
    assert await store.load_meeting(MEETING) is None


async def test_a_write_to_a_meeting_nobody_claimed_is_fenced_out(store: FencedRedisClient) -> None:
    with pytest.raises(FencedOut) as caught:
        await store.refresh(MEETING, generation=1)
    assert caught.value.current == 0


@pytest.mark.parametrize("generation", [0, -1, True])
async def test_a_generation_below_1_is_a_caller_bug(
    generation: int, store: FencedRedisClient
) -> None:
    with pytest.raises(ValueError, match="fencing generation"):
        await store.refresh(MEETING, generation=generation)
