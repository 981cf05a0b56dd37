"""Invalid ids and arguments are refused with a clear error before anything reaches Redis."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest
from redis.asyncio import Redis

from meeting_controller.store import FencedRedisClient, InvalidId
from tests.store.helpers import all_keys

BAD_IDS = ["", "a}b", "{a", "a b", "a\tb", "a\nb", "a\x00b", "a\x07", "x" * 257]

Call = Callable[[FencedRedisClient, str], Awaitable[object]]
#: Every operation, with the id under test in the meeting id position.
MEETING_ID_CALLS: dict[str, Call] = {
    "claim_meeting": lambda store, bad: store.claim_meeting(bad),
    "get_generation": lambda store, bad: store.get_generation(bad),
    "assign": lambda store, bad: store.assign(
        bad, generation=1, mh_assignment_json="{}", state={"a": "1"}
    ),
    "unassign": lambda store, bad: store.unassign(bad, generation=1),
    "update_state": lambda store, bad: store.update_state(bad, generation=1, fields={"a": "1"}),
    "add_participant": lambda store, bad: store.add_participant(
        bad, generation=1, participant_id="p"
    ),
    "remove_participant": lambda store, bad: store.remove_participant(
        bad, generation=1, participant_id="p"
    ),
    "refresh": lambda store, bad: store.refresh(bad, generation=1),
    "load_meeting": lambda store, bad: store.load_meeting(bad),
    "delete_meeting": lambda store, bad: store.delete_meeting(bad, generation=1),
    "put_session": lambda store, bad: store.put_session(
        bad, generation=1, session_id="s", data={"a": "1"}, ttl_ms=1000
    ),
    "delete_session": lambda store, bad: store.delete_session(bad, generation=1, session_id="s"),
}
#: Every operation that takes a session id, with the id under test there.
SESSION_ID_CALLS: dict[str, Call] = {
    "put_session": lambda store, bad: store.put_session(
        "m", generation=1, session_id=bad, data={"a": "1"}, ttl_ms=1000
    ),
    "get_session": lambda store, bad: store.get_session(bad),
    "delete_session": lambda store, bad: store.delete_session("m", generation=1, session_id=bad),
}
#: Every operation that takes a participant id, with the id under test there.
PARTICIPANT_ID_CALLS: dict[str, Call] = {
    "add_participant": lambda store, bad: store.add_participant(
        "m", generation=1, participant_id=bad
    ),
    "remove_participant": lambda store, bad: store.remove_participant(
        "m", generation=1, participant_id=bad
    ),
}


@pytest.fixture
async def owned(store: FencedRedisClient, raw: Redis) -> set[str]:
    """Meeting ``m`` claimed (generation 1) and a session of it stored; returns the keyspace."""
    await store.claim_meeting("m")
    await store.put_session("m", generation=1, session_id="s", data={"a": "1"}, ttl_ms=60_000)
    return await all_keys(raw)


@pytest.mark.parametrize("operation", sorted(MEETING_ID_CALLS))
async def test_an_invalid_meeting_id_is_rejected_and_nothing_is_written(
    operation: str, store: FencedRedisClient, raw: Redis
) -> None:
    for bad in BAD_IDS:
        with pytest.raises(InvalidId, match="invalid meeting id") as caught:
            await MEETING_ID_CALLS[operation](store, bad)
        assert caught.value.value == bad
    assert await all_keys(raw) == set()


@pytest.mark.parametrize("operation", sorted(SESSION_ID_CALLS))
async def test_an_invalid_session_id_is_rejected_and_nothing_is_written(
    operation: str, store: FencedRedisClient, raw: Redis, owned: set[str]
) -> None:
    for bad in BAD_IDS:
        with pytest.raises(InvalidId, match="invalid session id"):
            await SESSION_ID_CALLS[operation](store, bad)
    assert await all_keys(raw) == owned


@pytest.mark.parametrize("operation", sorted(PARTICIPANT_ID_CALLS))
async def test_an_invalid_participant_id_is_rejected_and_nothing_is_written(
    operation: str, store: FencedRedisClient, raw: Redis, owned: set[str]
) -> None:
    for bad in BAD_IDS:
        with pytest.raises(InvalidId, match="invalid participant id"):
            await PARTICIPANT_ID_CALLS[operation](store, bad)
    assert await all_keys(raw) == owned


async def test_the_error_for_a_brace_explains_that_it_would_break_the_hash_tag(
    store: FencedRedisClient,
) -> None:
    with pytest.raises(InvalidId) as caught:
        await store.claim_meeting("room}1")
    assert str(caught.value) == (
        "invalid meeting id 'room}1': must not contain '}' (position 4): braces would break "
        "the Redis Cluster hash tag that keeps a meeting's keys in one slot"
    )


async def test_empty_session_data_is_rejected_because_redis_has_no_empty_hash(
    store: FencedRedisClient, raw: Redis, owned: set[str]
) -> None:
    with pytest.raises(ValueError, match="data must not be empty"):
        await store.put_session("m", generation=1, session_id="s2", data={}, ttl_ms=1000)
    assert await all_keys(raw) == owned


@pytest.mark.parametrize("expected", [-1, True])
async def test_a_negative_expected_generation_is_a_caller_bug(
    expected: int, store: FencedRedisClient, raw: Redis
) -> None:
    with pytest.raises(ValueError, match="expected_generation"):
        await store.claim_meeting("m", expected_generation=expected)
    assert await all_keys(raw) == set()
