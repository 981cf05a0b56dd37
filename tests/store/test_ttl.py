"""Every key the store writes has a TTL, and the owner can keep a live meeting's keys alive."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from redis.asyncio import Redis

from meeting_controller.store import DEFAULT_MEETING_TTL_MS, FencedRedisClient
from tests.store.helpers import all_keys, pttl

TTL_MS = 60_000


@pytest.fixture
async def short_store(redis_url: str) -> AsyncIterator[FencedRedisClient]:
    """A store configured with a one-minute meeting TTL."""
    client = FencedRedisClient(redis_url, meeting_ttl_ms=TTL_MS)
    await client.connect()
    try:
        yield client
    finally:
        await client.close()


async def assert_every_key_has_a_ttl(raw: Redis) -> set[str]:
    """SCAN the whole keyspace and assert that every key expires; return the keys."""
    found = await all_keys(raw)
    ttls = {key: await pttl(raw, key) for key in found}
    assert all(ttl > 0 for ttl in ttls.values()), ttls
    return found


async def test_every_key_written_by_any_operation_has_a_ttl(
    store: FencedRedisClient, other_store: FencedRedisClient, raw: Redis
) -> None:
    # The whole keyspace is checked after every single operation: a later operation that
    # re-extends all of a meeting's keys must not hide an earlier one that forgot its PEXPIRE.
    # Each kind of key is first created by a different operation.
    steps: list[Callable[[], Awaitable[object]]] = [
        lambda: store.claim_meeting("assigned"),  # creates :generation
        lambda: store.assign("assigned", generation=1, mh_assignment_json="{}", state={"k": "v"}),
        lambda: store.put_session(
            "assigned", generation=1, session_id="s1", data={"k": "v"}, ttl_ms=1000
        ),
        lambda: store.put_session(
            "assigned", generation=1, session_id="s2", data={"k": "v"}, ttl_ms=1000
        ),
        lambda: store.delete_session("assigned", generation=1, session_id="s2"),
        lambda: store.refresh("assigned", generation=1),
        lambda: store.claim_meeting("built-up"),
        lambda: store.update_state("built-up", generation=1, fields={"k": "v"}),  # :state
        lambda: store.add_participant("built-up", generation=1, participant_id="p1"),
        lambda: store.add_participant("built-up", generation=1, participant_id="p2"),
        lambda: store.remove_participant("built-up", generation=1, participant_id="p2"),
        lambda: store.claim_meeting("taken-over"),
        lambda: store.assign("taken-over", generation=1, mh_assignment_json="{}", state={}),
        lambda: other_store.claim_meeting("taken-over"),
        lambda: other_store.unassign("taken-over", generation=2),  # keeps :generation
        lambda: store.claim_meeting("ended"),
        lambda: store.assign("ended", generation=1, mh_assignment_json="{}", state={"k": "v"}),
        lambda: store.delete_meeting("ended", generation=1),
        lambda: store.claim_meeting("rolled-back"),
        lambda: store.unassign("rolled-back", generation=1),
    ]
    for step in steps:
        await step()
        await assert_every_key_has_a_ttl(raw)

    assert await all_keys(raw) == {
        "meeting:{assigned}:generation",
        "meeting:{assigned}:mh",
        "meeting:{assigned}:state",
        "session:{s1}",
        "meeting:{built-up}:generation",
        "meeting:{built-up}:state",
        "meeting:{built-up}:participants",
        "meeting:{taken-over}:generation",
    }


async def test_meeting_keys_get_the_configured_ttl_and_sessions_the_ttl_of_the_call(
    short_store: FencedRedisClient, raw: Redis
) -> None:
    generation = await short_store.claim_meeting("m")
    await short_store.assign("m", generation=generation, mh_assignment_json="{}", state={"a": "1"})
    await short_store.add_participant("m", generation=generation, participant_id="p")
    await short_store.put_session(
        "m", generation=generation, session_id="s", data={"a": "1"}, ttl_ms=5_000
    )
    for part in ("generation", "mh", "state", "participants"):
        assert TTL_MS - 5_000 < await pttl(raw, f"meeting:{{m}}:{part}") <= TTL_MS
    assert 0 < await pttl(raw, "session:{s}") <= 5_000


async def test_the_default_meeting_ttl_is_an_hour(store: FencedRedisClient, raw: Redis) -> None:
    assert DEFAULT_MEETING_TTL_MS == store.meeting_ttl_ms == 3_600_000
    await store.claim_meeting("m")
    assert 3_500_000 < await pttl(raw, "meeting:{m}:generation") <= 3_600_000


async def test_refresh_gives_every_key_of_the_meeting_its_full_ttl_again(
    short_store: FencedRedisClient, raw: Redis
) -> None:
    generation = await short_store.claim_meeting("m")
    await short_store.assign("m", generation=generation, mh_assignment_json="{}", state={"a": "1"})
    await short_store.add_participant("m", generation=generation, participant_id="p")
    meeting_keys = [
        f"meeting:{{m}}:{part}" for part in ("generation", "mh", "state", "participants")
    ]
    for key in meeting_keys:
        await raw.pexpire(key, 500)

    await short_store.refresh("m", generation=generation)

    for key in meeting_keys:
        assert await pttl(raw, key) > TTL_MS - 5_000


Write = Callable[[FencedRedisClient, int], Awaitable[object]]
#: The writes that keep a meeting alive (the deletes and rollbacks remove keys instead).
MEETING_WRITES: dict[str, Write] = {
    "assign": lambda store, g: store.assign(
        "m", generation=g, mh_assignment_json="", state={"a": "1"}
    ),
    "update_state": lambda store, g: store.update_state("m", generation=g, fields={"a": "1"}),
    "add_participant": lambda store, g: store.add_participant(
        "m", generation=g, participant_id="p2"
    ),
    "remove_participant": lambda store, g: store.remove_participant(
        "m", generation=g, participant_id="p1"
    ),
    "refresh": lambda store, g: store.refresh("m", generation=g),
    "claim_meeting": lambda store, g: store.claim_meeting("m"),
}


@pytest.mark.parametrize("operation", sorted(MEETING_WRITES))
async def test_every_write_gives_all_keys_of_the_meeting_a_fresh_ttl(
    operation: str, short_store: FencedRedisClient, raw: Redis
) -> None:
    # Keys written at different times still expire together: a generation key that expired
    # before the data would fence the owner out of its own meeting.
    generation = await short_store.claim_meeting("m")
    await short_store.assign("m", generation=generation, mh_assignment_json="{}", state={"a": "1"})
    await short_store.add_participant("m", generation=generation, participant_id="p1")
    await short_store.add_participant("m", generation=generation, participant_id="p3")
    meeting_keys = [
        f"meeting:{{m}}:{part}" for part in ("generation", "mh", "state", "participants")
    ]
    for key in meeting_keys:
        await raw.pexpire(key, 500)

    await MEETING_WRITES[operation](short_store, generation)

    for key in meeting_keys:
        assert await pttl(raw, key) > TTL_MS - 5_000, key


@pytest.mark.parametrize("ttl_ms", [0, -1])
async def test_a_ttl_below_1_ms_is_rejected_because_pexpire_would_delete_the_key(
    ttl_ms: int, redis_url: str, store: FencedRedisClient, raw: Redis
) -> None:
    with pytest.raises(ValueError, match="meeting_ttl_ms"):
        FencedRedisClient(redis_url, meeting_ttl_ms=ttl_ms)
    generation = await store.claim_meeting("m")
    with pytest.raises(ValueError, match="ttl_ms"):
        await store.put_session(
            "m", generation=generation, session_id="s", data={"a": "1"}, ttl_ms=ttl_ms
        )
    assert await all_keys(raw) == {"meeting:{m}:generation"}
