"""Grace period, leaving, the end of a meeting, and what Redis holds along the way."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable
from typing import cast

import pytest
import redis.asyncio as redis
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from meeting_controller.actors import controller
from meeting_controller.actors.meeting import MeetingServices
from meeting_controller.protocol import signaling_pb2 as sig
from meeting_controller.signaling import GatewayConfig, SignalingGateway
from meeting_controller.store.fenced import FencedRedisClient
from tests.signaling.conftest import SECRET, Clock, Stack
from tests.support.waiting import eventually


@pytest.mark.looptime
async def test_a_vanished_participant_leaves_with_timeout_after_the_grace_period(
    stack: Stack, looptime: float
) -> None:
    await stack.mc.create_meeting("m", generation=1)
    host_t, _ = await stack.join("m", "hana", role="host")
    bob_t, bob = await stack.join("m", "bob")
    await host_t.next()
    start = float(looptime)
    bob_t.client_hang_up()
    assert (await host_t.next(timeout=1)).connection_changed.connected is False

    left = await host_t.next(timeout=60)

    assert left.participant_left.participant_id == bob.participant_id
    assert left.participant_left.reason == sig.LEAVE_REASON_TIMEOUT
    assert float(looptime) - start == pytest.approx(30, abs=0.01)


@pytest.mark.looptime
async def test_a_resume_within_the_grace_period_cancels_the_timeout(
    stack: Stack, looptime: float
) -> None:
    await stack.mc.create_meeting("m", generation=1)
    host_t, _ = await stack.join("m", "hana", role="host")
    bob_t, bob = await stack.join("m", "bob")
    await host_t.next()
    bob_t.client_hang_up()
    await host_t.next()
    _, answer = await stack.connect(
        sig.JoinRequest(
            meeting_id="m",
            join_token=stack.token("m", user="bob"),
            session_token=bob.session_token,
            last_sequence_number=1,
        )
    )
    assert answer.join_response.resumed
    assert (await host_t.next()).connection_changed.connected
    with pytest.raises(TimeoutError):
        await host_t.next(timeout=120)  # no TIMEOUT leave ever comes
    snapshot = await stack.mc.get_meeting("m")
    assert snapshot is not None
    assert snapshot.participants == 2


async def test_the_last_participant_leaving_ends_the_meeting(stack: Stack) -> None:
    await stack.mc.create_meeting("m", generation=1)
    host_t, _ = await stack.join("m", "hana", role="host")
    bob_t, _bob = await stack.join("m", "bob")
    await host_t.next()
    bob_t.client_send(sig.ClientMessage(leave=sig.LeaveRequest()))
    left = await host_t.next()
    assert left.participant_left.reason == sig.LEAVE_REASON_LEFT
    assert stack.ended == []
    host_t.client_send(sig.ClientMessage(leave=sig.LeaveRequest()))

    await eventually(lambda: stack.ended == [("m", "last_participant_left")], what="the end")
    status = stack.mc.get_status()
    assert (status.meetings, status.participants, status.connections) == (0, 0, 0)


@pytest.fixture
async def store(redis_url: str) -> AsyncIterator[FencedRedisClient]:
    client = FencedRedisClient(redis_url)
    await client.connect()
    yield client
    await client.close()


async def test_sessions_and_host_mutes_are_stored_and_the_keys_go_with_the_meeting(
    store: FencedRedisClient, redis_url: str
) -> None:
    key = Ed25519PrivateKey.generate()
    clock = Clock()
    ended: list[tuple[str, str]] = []
    mc = controller.spawn_controller(
        mc_id="mc",
        region="r",
        max_meetings=10,
        max_participants=100,
        services=MeetingServices(store=store, session_secret=SECRET, wall_clock=clock),
        on_meeting_ended=lambda m, r: ended.append((m, r)),
    )
    stack = Stack(
        mc=mc,
        gateway=SignalingGateway(
            controller=mc,
            config=GatewayConfig(
                join_token_key=key.public_key(), session_secret=SECRET, wall_clock=clock
            ),
        ),
        key=key,
        clock=clock,
        ended=ended,
    )
    raw = redis.Redis.from_url(redis_url, decode_responses=True)
    try:
        generation = await store.claim_meeting("m")
        await store.assign("m", generation=generation, mh_assignment_json="[]", state={"k": "v"})
        await mc.create_meeting("m", generation=generation)
        host_t, host = await stack.join("m", "hana", role="host")
        bob_t, bob = await stack.join("m", "bob")
        await host_t.next()

        host_t.client_send(
            sig.ClientMessage(
                host_mute=sig.HostMuteRequest(target_participant_id=bob.participant_id, muted=True)
            )
        )
        update = await bob_t.next()
        assert update.mute_update.is_host_muted
        # written before it was announced
        sessions = [k async for k in raw.scan_iter("session:*")]
        stored = {k: await cast("Awaitable[dict[str, str]]", raw.hgetall(k)) for k in sessions}
        bob_session = next(v for v in stored.values() if v["participant_id"] == bob.participant_id)
        assert bob_session["is_host_muted"] == "1"
        assert bob_session["role"] == "ROLE_PARTICIPANT"
        assert await cast("Awaitable[set[str]]", raw.smembers("meeting:{m}:participants")) == {
            host.participant_id,
            bob.participant_id,
        }
        for k in [k async for k in raw.scan_iter("*")]:
            assert await raw.pttl(k) > 0, k

        bob_t.client_send(sig.ClientMessage(leave=sig.LeaveRequest()))
        host_t.client_send(sig.ClientMessage(leave=sig.LeaveRequest()))
        await eventually(lambda: ended == [("m", "last_participant_left")], what="the end")
        remaining = [k async for k in raw.scan_iter("*")]
        assert remaining == []  # meeting keys and both sessions
    finally:
        await raw.aclose()
        await mc.shutdown()


@pytest.mark.looptime
async def test_a_participant_of_a_long_meeting_can_still_resume(looptime: float) -> None:
    """Session tokens are refreshed while connected; the join token may have run out."""
    loop = asyncio.get_running_loop()
    key = Ed25519PrivateKey.generate()
    clock = Clock()
    start = loop.time()

    def wall() -> float:
        return clock.now + (loop.time() - start)

    mc = controller.spawn_controller(
        mc_id="mc",
        region="r",
        max_meetings=10,
        max_participants=100,
        services=MeetingServices(session_secret=SECRET, session_ttl_s=300, wall_clock=wall),
    )
    stack = Stack(
        mc=mc,
        gateway=SignalingGateway(
            controller=mc,
            config=GatewayConfig(
                join_token_key=key.public_key(), session_secret=SECRET, wall_clock=wall
            ),
        ),
        key=key,
        clock=clock,
        ended=[],
    )
    try:
        await mc.create_meeting("m", generation=1)
        join_token = stack.token("m", user="bob")  # valid for 600 s
        bob_t, bob = await stack.join("m", "bob")
        await asyncio.sleep(20 * 60 + 1)  # a long meeting
        refreshes = [m for m in bob_t.drain() if m.WhichOneof("payload") == "session_refresh"]
        assert len(refreshes) == 8  # every half TTL
        newest = refreshes[-1]
        assert newest.session_refresh.expiry_timestamp > int(wall() * 1000)
        bob_t.client_hang_up()
        await asyncio.sleep(1)

        _, expired_first = await stack.connect(
            sig.JoinRequest(
                meeting_id="m",
                join_token=join_token,
                session_token=bob.session_token,  # issued at the join: long expired
                last_sequence_number=newest.sequence_number,
            )
        )
        assert expired_first.error.code == sig.ERROR_CODE_SESSION_EXPIRED
        _, resumed = await stack.connect(
            sig.JoinRequest(
                meeting_id="m",
                join_token=join_token,  # also expired by now: a resume does not need it fresh
                session_token=newest.session_refresh.session_token,
                last_sequence_number=newest.sequence_number,
            )
        )
        assert resumed.join_response.resumed
    finally:
        await mc.shutdown()
        await asyncio.gather(*stack.sessions)
