"""What each operation stores, removes and returns, read back from the real server."""

from __future__ import annotations

from redis.asyncio import Redis

from meeting_controller.store import FencedRedisClient, MeetingRecord
from tests.store.helpers import all_keys, keyspace, pttl

MEETING = "m-1"
GEN, MH, STATE, PARTICIPANTS = (
    f"meeting:{{{MEETING}}}:{part}" for part in ("generation", "mh", "state", "participants")
)


async def test_assign_stores_the_mh_json_verbatim_and_the_state_as_a_hash(
    store: FencedRedisClient, raw: Redis
) -> None:
    generation = await store.claim_meeting(MEETING)
    mh = '{"media_handlers": [{"id": "mh-1", "endpoint": "10.0.0.1:4000"}]}'
    await store.assign(
        MEETING, generation=generation, mh_assignment_json=mh, state={"code": "abc", "n": "1"}
    )
    assert await keyspace(raw) == {GEN: "1", MH: mh, STATE: {"code": "abc", "n": "1"}}


async def test_a_new_assignment_replaces_the_state_while_update_state_merges_into_it(
    store: FencedRedisClient,
) -> None:
    generation = await store.claim_meeting(MEETING)
    await store.assign(MEETING, generation=generation, mh_assignment_json="1", state={"a": "1"})
    await store.assign(MEETING, generation=generation, mh_assignment_json="2", state={"b": "2"})
    await store.update_state(MEETING, generation=generation, fields={"c": "3", "b": "4"})
    assert await store.load_meeting(MEETING) == MeetingRecord(
        meeting_id=MEETING,
        generation=generation,
        mh_assignment_json="2",
        state={"b": "4", "c": "3"},
        participants=frozenset(),
    )


async def test_a_repeated_assignment_is_idempotent(store: FencedRedisClient, raw: Redis) -> None:
    generation = await store.claim_meeting(MEETING)
    await store.assign(MEETING, generation=generation, mh_assignment_json="{}", state={"a": "1"})
    once = await keyspace(raw)
    await store.assign(MEETING, generation=generation, mh_assignment_json="{}", state={"a": "1"})
    assert await keyspace(raw) == once


async def test_participants_are_added_and_removed_as_a_set(store: FencedRedisClient) -> None:
    generation = await store.claim_meeting(MEETING)
    assert await store.add_participant(MEETING, generation=generation, participant_id="p1")
    assert not await store.add_participant(MEETING, generation=generation, participant_id="p1")
    assert await store.add_participant(MEETING, generation=generation, participant_id="p2")
    assert await store.remove_participant(MEETING, generation=generation, participant_id="p1")
    assert not await store.remove_participant(MEETING, generation=generation, participant_id="p1")
    record = await store.load_meeting(MEETING)
    assert record is not None
    assert record.participants == {"p2"}


async def test_load_meeting_returns_none_for_a_meeting_that_was_never_claimed(
    store: FencedRedisClient,
) -> None:
    assert await store.load_meeting(MEETING) is None
    assert await store.get_generation(MEETING) == 0


async def test_a_claimed_but_unassigned_meeting_loads_with_its_generation_only(
    store: FencedRedisClient,
) -> None:
    await store.claim_meeting(MEETING)
    assert await store.load_meeting(MEETING) == MeetingRecord(
        meeting_id=MEETING,
        generation=1,
        mh_assignment_json=None,
        state={},
        participants=frozenset(),
    )


async def test_a_takeover_loads_the_previous_owners_state_under_the_new_generation(
    store: FencedRedisClient, other_store: FencedRedisClient
) -> None:
    old = await store.claim_meeting(MEETING)
    await store.assign(MEETING, generation=old, mh_assignment_json='{"x":1}', state={"k": "v"})
    await store.add_participant(MEETING, generation=old, participant_id="p1")
    new = await other_store.claim_meeting(MEETING)
    record = await other_store.load_meeting(MEETING)
    assert record == MeetingRecord(
        meeting_id=MEETING,
        generation=new,
        mh_assignment_json='{"x":1}',
        state={"k": "v"},
        participants=frozenset({"p1"}),
    )


async def test_unassign_after_the_first_claim_leaves_no_key_of_the_meeting(
    store: FencedRedisClient, raw: Redis
) -> None:
    await raw.set("unrelated", "stays")
    before = await keyspace(raw)
    generation = await store.claim_meeting(MEETING)
    await store.assign(MEETING, generation=generation, mh_assignment_json="{}", state={"a": "1"})
    await store.add_participant(MEETING, generation=generation, participant_id="p1")

    await store.unassign(MEETING, generation=generation)

    assert await keyspace(raw) == before
    assert await store.load_meeting(MEETING) is None


async def test_unassign_after_a_takeover_keeps_the_generation_so_the_old_owner_stays_fenced(
    store: FencedRedisClient, other_store: FencedRedisClient, raw: Redis
) -> None:
    old = await store.claim_meeting(MEETING)
    await store.assign(MEETING, generation=old, mh_assignment_json="{}", state={"a": "1"})
    await store.add_participant(MEETING, generation=old, participant_id="p1")
    new = await other_store.claim_meeting(MEETING)
    await other_store.assign(MEETING, generation=new, mh_assignment_json="{}", state={"b": "2"})
    await raw.pexpire(GEN, 500)

    await other_store.unassign(MEETING, generation=new)

    assert await keyspace(raw) == {GEN: str(new)}
    assert await pttl(raw, GEN) > other_store.meeting_ttl_ms - 60_000  # a fresh TTL
    # The next claim continues from the kept generation instead of starting over.
    assert await store.claim_meeting(MEETING) == new + 1


async def test_a_retried_unassign_or_delete_of_a_meeting_already_gone_is_a_no_op(
    store: FencedRedisClient, raw: Redis
) -> None:
    generation = await store.claim_meeting(MEETING)
    await store.unassign(MEETING, generation=generation)
    await store.unassign(MEETING, generation=generation)
    await store.delete_meeting(MEETING, generation=generation)
    assert await all_keys(raw) == set()


async def test_delete_meeting_removes_every_key_of_the_meeting_but_not_its_sessions(
    store: FencedRedisClient, raw: Redis
) -> None:
    generation = await store.claim_meeting(MEETING)
    await store.assign(MEETING, generation=generation, mh_assignment_json="{}", state={"a": "1"})
    await store.add_participant(MEETING, generation=generation, participant_id="p1")
    await store.put_session(
        MEETING, generation=generation, session_id="s1", data={"p": "p1"}, ttl_ms=60_000
    )
    await store.claim_meeting("other")

    await store.delete_meeting(MEETING, generation=generation)

    assert await all_keys(raw) == {"session:{s1}", "meeting:{other}:generation"}


async def test_a_session_is_stored_as_a_hash_and_put_replaces_it(
    store: FencedRedisClient, raw: Redis
) -> None:
    generation = await store.claim_meeting(MEETING)
    data = {"participant_id": "p1", "meeting_id": MEETING, "role": "host", "last_seq": "0"}
    await store.put_session(MEETING, generation=generation, session_id="s1", data=data, ttl_ms=1000)
    assert await raw.type("session:{s1}") == "hash"
    assert await store.get_session("s1") == data

    await store.put_session(
        MEETING, generation=generation, session_id="s1", data={"last_seq": "7"}, ttl_ms=1000
    )
    assert await store.get_session("s1") == {"last_seq": "7"}


async def test_a_missing_session_reads_as_none_and_delete_reports_whether_it_existed(
    store: FencedRedisClient,
) -> None:
    generation = await store.claim_meeting(MEETING)
    assert await store.get_session("s1") is None
    await store.put_session(
        MEETING, generation=generation, session_id="s1", data={"a": "b"}, ttl_ms=1000
    )
    assert await store.delete_session(MEETING, generation=generation, session_id="s1")
    assert not await store.delete_session(MEETING, generation=generation, session_id="s1")
    assert await store.get_session("s1") is None
