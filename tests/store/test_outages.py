"""Redis unreachable, stopped, restarted, stalled or flushed: clear errors, then recovery."""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import Awaitable, Callable

import pytest
from redis.asyncio import Redis

from meeting_controller.errors import ConfigError, StoreError
from meeting_controller.store import FencedRedisClient, redact_url
from tests.support.redis_server import RedisServer, free_port

MEETING = "m-1"

Operation = Callable[[FencedRedisClient], Awaitable[object]]
#: One call of every operation (generation 1 held), to run while Redis is away.
OPERATIONS: dict[str, Operation] = {
    "claim_meeting": lambda store: store.claim_meeting(MEETING),
    "get_generation": lambda store: store.get_generation(MEETING),
    "assign": lambda store: store.assign(MEETING, generation=1, mh_assignment_json="{}", state={}),
    "unassign": lambda store: store.unassign(MEETING, generation=1),
    "update_state": lambda store: store.update_state(MEETING, generation=1, fields={"a": "1"}),
    "add_participant": lambda store: store.add_participant(
        MEETING, generation=1, participant_id="p"
    ),
    "remove_participant": lambda store: store.remove_participant(
        MEETING, generation=1, participant_id="p"
    ),
    "refresh": lambda store: store.refresh(MEETING, generation=1),
    "load_meeting": lambda store: store.load_meeting(MEETING),
    "delete_meeting": lambda store: store.delete_meeting(MEETING, generation=1),
    "put_session": lambda store: store.put_session(
        MEETING, generation=1, session_id="s", data={"a": "1"}, ttl_ms=1000
    ),
    "get_session": lambda store: store.get_session("s"),
    "delete_session": lambda store: store.delete_session(MEETING, generation=1, session_id="s"),
}


async def test_connect_to_an_unreachable_redis_fails_with_a_store_error_naming_the_url() -> None:
    port = free_port()
    store = FencedRedisClient(f"redis://:hunter2@127.0.0.1:{port}/0", connect_timeout_s=0.5)
    try:
        with pytest.raises(StoreError) as caught:
            await store.connect()
        message = str(caught.value)
        assert f"cannot connect to Redis at redis://:***@127.0.0.1:{port}/0" in message
        assert "hunter2" not in message
        assert type(caught.value) is StoreError
        assert await store.ping() is False
    finally:
        await store.close()


async def test_connect_loads_every_script_so_the_first_calls_need_no_reload(
    store: FencedRedisClient, raw: Redis
) -> None:
    shas = list(store.scripts.shas.values())
    assert await raw.script_exists(*shas) == [True] * len(shas)
    await store.claim_meeting(MEETING)
    assert store.scripts.reloads == 0


async def test_a_flushed_script_cache_is_reloaded_on_noscript_and_the_operation_succeeds(
    store: FencedRedisClient, raw: Redis
) -> None:
    claim_sha = store.scripts.shas["claim"]
    await raw.script_flush()
    assert await raw.script_exists(claim_sha) == [False]

    assert await store.claim_meeting(MEETING) == 1

    assert await raw.script_exists(claim_sha) == [True]
    assert store.scripts.reloads == 1
    assert await store.claim_meeting(MEETING) == 2
    assert store.scripts.reloads == 1


async def test_every_operation_fails_with_a_store_error_while_redis_is_down(
    store: FencedRedisClient, redis_server: RedisServer
) -> None:
    redis_server.stop()
    for operation, call in OPERATIONS.items():
        with pytest.raises(StoreError, match=rf"unreachable at {redis_server.url} \({operation}\)"):
            await call(store)


async def test_the_same_client_works_again_after_redis_restarts_on_the_same_port(
    store: FencedRedisClient, redis_server: RedisServer
) -> None:
    generation = await store.claim_meeting(MEETING)
    await store.add_participant(MEETING, generation=generation, participant_id="p")
    assert await store.ping() is True

    redis_server.stop()
    assert await store.ping() is False
    with pytest.raises(StoreError):
        await store.add_participant(MEETING, generation=generation, participant_id="q")

    redis_server.start()
    assert await store.ping() is True
    # Nothing is persisted, so the restarted Redis is empty and has no scripts: the claim
    # works only because the client reconnects and reloads the script on NOSCRIPT.
    reloads = store.scripts.reloads
    assert await store.claim_meeting(MEETING) == 1
    assert store.scripts.reloads == reloads + 1
    assert await store.add_participant(MEETING, generation=1, participant_id="p")


async def test_a_redis_restart_while_the_client_is_idle_goes_unnoticed_by_the_next_operation(
    store: FencedRedisClient, redis_server: RedisServer
) -> None:
    # The pooled connection died with the old server; it is replaced, not failed on. The
    # server is restarted from a thread so the event loop keeps running meanwhile and sees the
    # connection close, as it does in production.
    assert await store.claim_meeting(MEETING) == 1
    await asyncio.to_thread(redis_server.stop)
    await asyncio.to_thread(redis_server.start)
    assert await store.claim_meeting(MEETING) == 1
    assert await store.get_generation(MEETING) == 1


async def test_a_stalled_redis_times_out_into_a_store_error_and_ping_is_bounded(
    redis_server: RedisServer,
) -> None:
    pid = redis_server.pid
    assert pid is not None
    store = FencedRedisClient(redis_server.url, command_timeout_s=0.1, connect_timeout_s=0.1)
    await store.connect()
    try:
        os.kill(pid, signal.SIGSTOP)  # only the server this test started, by its PID
        try:
            with pytest.raises(StoreError, match=r"unreachable .*\(get_generation\)"):
                await store.get_generation(MEETING)
            assert await store.ping() is False
        finally:
            os.kill(pid, signal.SIGCONT)
        assert await store.ping() is True
    finally:
        await store.close()


async def test_an_error_reply_from_redis_becomes_a_store_error(
    store: FencedRedisClient, raw: Redis
) -> None:
    generation = await store.claim_meeting(MEETING)
    await raw.set(f"meeting:{{{MEETING}}}:state", "not a hash", px=60_000)
    with pytest.raises(StoreError, match=r"answered with an error \(update_state\): WRONGTYPE"):
        await store.update_state(MEETING, generation=generation, fields={"a": "1"})


def test_an_invalid_url_is_a_configuration_error_with_the_password_redacted() -> None:
    with pytest.raises(ConfigError, match=r"invalid Redis URL 'http://:\*\*\*@host/'") as caught:
        FencedRedisClient("http://:hunter2@host/")
    assert "hunter2" not in str(caught.value)


@pytest.mark.parametrize(
    ("url", "redacted"),
    [
        ("redis://127.0.0.1:6379/0", "redis://127.0.0.1:6379/0"),
        ("redis://:secret@h:1/0", "redis://:***@h:1/0"),
        ("redis://user:secret@h:1/0", "redis://user:***@h:1/0"),
        ("redis://user@h:1/0", "redis://user@h:1/0"),
        ("rediss://u:p%40ss@h:1", "rediss://u:***@h:1"),
        ("redis://u:pa:ss@h:1/0", "redis://u:***@h:1/0"),
        ("unix:///tmp/r.sock?db=1&password=secret", "unix:///tmp/r.sock?db=1&password=***"),
        ("redis://h/0?PASSWORD=secret#x", "redis://h/0?password=***#x"),
        ("not a url", "not a url"),
    ],
)
def test_urls_are_shown_with_their_password_redacted(url: str, redacted: str) -> None:
    assert redact_url(url) == redacted
