"""The MC's gRPC ``MeetingControllerService`` over a real channel, with a real Redis behind it."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Mapping
from typing import cast

import grpc
import grpc.aio
import pytest
from redis.asyncio import Redis

from meeting_controller.actors.controller import McPhase
from meeting_controller.config import Secret
from meeting_controller.errors import StoreError
from meeting_controller.protocol import internal_pb2 as pb
from meeting_controller.store.fenced import FencedRedisClient
from tests.mc.support import RunningMc, running_mc
from tests.support.redis_server import RedisServer
from tests.support.waiting import eventually

ADMIN = Secret(b"s3cret-admin-token")


@pytest.fixture
async def raw(redis_url: str) -> AsyncIterator[Redis]:
    client = Redis.from_url(redis_url, decode_responses=True)
    try:
        yield client
    finally:
        await client.aclose()


@pytest.fixture
async def mc(redis_url: str) -> AsyncIterator[RunningMc]:
    async with running_mc(redis_url, max_meetings=2, max_participants=10) as started:
        yield started


async def keyspace(raw: Redis) -> list[str]:
    return sorted([key async for key in raw.scan_iter("*")])


def rejection(response: pb.AssignMeetingResponse) -> str:
    assert not response.accepted, response
    return pb.RejectionReason.Name(response.rejection_reason)


# --- accept / reject, in the specification's order ----------------------------------------------


async def test_a_draining_mc_at_capacity_answers_draining_first(mc: RunningMc) -> None:
    assert (await mc.assign("m-1")).accepted
    assert (await mc.assign("m-2")).accepted
    await mc.set_phase(McPhase.DRAINING)
    assert rejection(await mc.assign("m-3")) == "REJECTION_REASON_DRAINING"


async def test_an_mc_at_its_meeting_limit_answers_at_capacity(mc: RunningMc, raw: Redis) -> None:
    assert (await mc.assign("m-1")).accepted
    assert (await mc.assign("m-2")).accepted
    response = await mc.assign("m-3")
    assert rejection(response) == "REJECTION_REASON_AT_CAPACITY"
    assert "meeting limit" in response.message
    assert not [key for key in await keyspace(raw) if "m-3" in key]


async def test_estimated_participants_over_the_limit_answer_at_capacity(mc: RunningMc) -> None:
    response = await mc.assign("m-big", estimated_participants=11)
    assert rejection(response) == "REJECTION_REASON_AT_CAPACITY"
    assert "participant limit" in response.message
    assert (await mc.assign("m-fits", estimated_participants=10)).accepted


async def test_capacity_outranks_an_unhealthy_store(mc: RunningMc) -> None:
    mc.healthy[0] = False
    assert rejection(await mc.assign("m-big", estimated_participants=11)) == (
        "REJECTION_REASON_AT_CAPACITY"
    )
    assert rejection(await mc.assign("m-1")) == "REJECTION_REASON_UNHEALTHY"
    assert mc.controller.get_status().meetings == 0


async def test_a_retried_assignment_is_accepted_again_without_a_second_meeting(
    mc: RunningMc,
) -> None:
    first = await mc.assign("m-dup")
    again = await mc.assign("m-dup")
    assert first.accepted
    assert again.accepted
    assert first.generation == again.generation == 1
    assert mc.controller.get_status().meetings == 1


async def test_concurrent_duplicate_assignments_make_one_meeting_at_one_generation(
    mc: RunningMc, raw: Redis
) -> None:
    handles_before = mc.controller.get_status().meetings
    responses = await asyncio.gather(*(mc.assign("m-race") for _ in range(2)))
    assert [r.accepted for r in responses] == [True, True]
    assert {r.generation for r in responses} == {1}
    assert mc.controller.get_status().meetings == handles_before + 1
    assert await raw.get("meeting:{m-race}:generation") == "1"
    snapshot = await mc.controller.get_meeting("m-race")
    assert snapshot is not None
    assert snapshot.generation == 1


async def test_two_concurrent_assignments_cannot_both_take_the_last_slot(
    mc: RunningMc, raw: Redis
) -> None:
    assert (await mc.assign("m-1")).accepted
    responses = await asyncio.gather(mc.assign("m-x"), mc.assign("m-y"))
    assert sorted(r.accepted for r in responses) == [False, True]
    loser = next(r for r in responses if not r.accepted)
    assert rejection(loser) == "REJECTION_REASON_AT_CAPACITY"
    assert mc.controller.get_status().meetings == 2
    assert len([key for key in await keyspace(raw) if key.endswith(":generation")]) == 2


async def test_an_assignment_older_than_the_stored_generation_is_stale(
    mc: RunningMc, redis_url: str
) -> None:
    other = FencedRedisClient(redis_url)
    await other.connect()
    try:
        await other.claim_meeting("m-old")
        assert await other.claim_meeting("m-old") == 2
    finally:
        await other.close()
    response = await mc.assign("m-old", generation=1)
    assert rejection(response) == "REJECTION_REASON_STALE_GENERATION"
    assert mc.controller.get_status().meetings == 0
    assert await mc.controller.meeting("m-old") is None


async def test_assignment_with_mh_stores_the_mh_json_and_every_key_expires(
    mc: RunningMc, raw: Redis
) -> None:
    response = await mc.stub.AssignMeetingWithMh(
        pb.AssignMeetingWithMhRequest(
            meeting_id="m-mh",
            meeting_code="abc-def",
            settings=pb.MeetingSettings(estimated_participants=3),
            mh_assignments=[
                pb.MhAssignment(mh_id="mh-1", endpoint="mh1:4433", region="eu", role="primary"),
                pb.MhAssignment(mh_id="mh-2", endpoint="mh2:4433", region="eu", role="backup"),
            ],
            requesting_gc_id="gc-7",
        ),
        timeout=5,
    )
    assert response.accepted
    assert response.generation == 1
    assert json.loads(await raw.get("meeting:{m-mh}:mh")) == [
        {"mh_id": "mh-1", "endpoint": "mh1:4433", "region": "eu", "role": "primary"},
        {"mh_id": "mh-2", "endpoint": "mh2:4433", "region": "eu", "role": "backup"},
    ]
    assert await cast("Awaitable[dict[str, str]]", raw.hgetall("meeting:{m-mh}:state")) == {
        "meeting_code": "abc-def",
        "requesting_gc_id": "gc-7",
    }
    written = await keyspace(raw)
    assert "meeting:{m-mh}:generation" in written
    for key in written:
        assert await raw.pttl(key) > 0, key


@pytest.mark.parametrize("meeting_id", ["", "m{1}", "has space", "x" * 300])
async def test_an_invalid_meeting_id_is_invalid_argument_and_writes_nothing(
    mc: RunningMc, raw: Redis, meeting_id: str
) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await mc.assign(meeting_id)
    assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert (raised.value.details() or "").startswith("meeting_id: must")
    assert await keyspace(raw) == []
    assert mc.controller.get_status().meetings == 0


# --- failures in the middle of an assignment ----------------------------------------------------


class LosesConnectionAfterAssign(FencedRedisClient):
    """A store whose ``assign`` reaches Redis, then loses the connection before the reply."""

    async def assign(
        self,
        meeting_id: str,
        *,
        generation: int,
        mh_assignment_json: str,
        state: Mapping[str, str],
    ) -> None:
        await super().assign(
            meeting_id,
            generation=generation,
            mh_assignment_json=mh_assignment_json,
            state=state,
        )
        raise StoreError("Redis is unreachable (assign): connection lost after the write")


async def test_a_store_failure_after_the_write_leaves_no_keys_and_no_meeting(
    redis_url: str, raw: Redis
) -> None:
    store = LosesConnectionAfterAssign(redis_url)
    async with running_mc(redis_url, store=store) as mc:
        before = mc.controller.get_status()
        response = await mc.assign("m-lost")
        assert rejection(response) == "REJECTION_REASON_UNHEALTHY"
        assert "rolled back" in response.message
        assert await keyspace(raw) == []
        assert mc.controller.get_status().meetings == before.meetings
        assert mc.controller.get_status().participants == before.participants
        assert await mc.controller.meeting("m-lost") is None
        # The failure did not leak the capacity slot it reserved.
        assert mc.service._reserved == {}


async def test_redis_down_means_unhealthy_and_back_up_means_accepted_again(
    redis_server: RedisServer, mc: RunningMc
) -> None:
    assert (await mc.assign("m-before")).accepted
    redis_server.stop()
    mc.healthy[0] = await mc.store.ping()
    assert mc.healthy[0] is False
    assert rejection(await mc.assign("m-during")) == "REJECTION_REASON_UNHEALTHY"
    # Even a stale "healthy" flag cannot make the MC accept: the claim itself fails.
    mc.healthy[0] = True
    response = await mc.assign("m-during")
    assert rejection(response) == "REJECTION_REASON_UNHEALTHY"
    assert mc.controller.get_status().meetings == 1
    redis_server.start()  # an empty script cache: the store reloads on NOSCRIPT
    mc.healthy[0] = await mc.store.ping()
    assert mc.healthy[0] is True
    after = await mc.assign("m-after")
    assert after.accepted
    assert after.generation == 1
    assert mc.controller.get_status().meetings == 2


# --- queries ------------------------------------------------------------------------------------


async def test_get_status_reports_the_cached_counts_and_limits(mc: RunningMc) -> None:
    assert (await mc.assign("m-1")).accepted
    await mc.attach("m-1", "alice", "bob")
    await eventually(lambda: mc.controller.get_status().participants == 2, what="2 joined")
    status = await mc.stub.GetStatus(pb.GetStatusRequest(), timeout=5)
    assert (status.mc_id, status.region) == ("mc-1", "eu")
    assert status.state == pb.MC_STATE_ACTIVE
    assert status.health == pb.HEALTH_HEALTHY
    assert status.registered
    assert (status.current_meetings, status.current_participants) == (1, 2)
    assert (status.max_meetings, status.max_participants) == (2, 10)
    mc.healthy[0] = False
    assert (await mc.stub.GetStatus(pb.GetStatusRequest(), timeout=5)).health == (
        pb.HEALTH_UNHEALTHY
    )


async def test_get_meeting_reports_live_participants_and_the_fencing_generation(
    mc: RunningMc, redis_url: str
) -> None:
    other = FencedRedisClient(redis_url)
    await other.connect()
    try:
        assert await other.claim_meeting("m-moved") == 1  # an earlier owner
    finally:
        await other.close()
    assert (await mc.assign("m-moved", generation=1)).generation == 2
    await mc.attach("m-moved", "alice", "bob", "carol")
    answer = await mc.stub.GetMeeting(pb.GetMeetingRequest(meeting_id="m-moved"), timeout=5)
    assert answer.found
    assert (answer.meeting_id, answer.participant_count, answer.fencing_generation) == (
        "m-moved",
        3,
        2,
    )
    missing = await mc.stub.GetMeeting(pb.GetMeetingRequest(meeting_id="m-none"), timeout=5)
    assert not missing.found


# --- drain --------------------------------------------------------------------------------------


def drain_request() -> pb.DrainRequest:
    return pb.DrainRequest(deadline_unix_ms=1_900_000_000_000, reason="maintenance")


async def test_drain_is_refused_when_no_admin_token_is_configured(mc: RunningMc) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await mc.stub.Drain(
            drain_request(), metadata=(("authorization", "Bearer anything"),), timeout=5
        )
    assert raised.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert mc.controller.get_status().state is McPhase.ACTIVE


async def test_drain_with_the_admin_token_stops_new_assignments(redis_url: str) -> None:
    drains: list[tuple[int, str]] = []
    async with running_mc(
        redis_url, admin_token=ADMIN, on_drain=lambda deadline, why: drains.append((deadline, why))
    ) as mc:
        for metadata in ((), (("authorization", "Bearer wrong"),), (("authorization", "s3c"),)):
            with pytest.raises(grpc.aio.AioRpcError) as raised:
                await mc.stub.Drain(drain_request(), metadata=metadata, timeout=5)
            assert raised.value.code() == grpc.StatusCode.UNAUTHENTICATED
        assert mc.controller.get_status().state is McPhase.ACTIVE
        assert (await mc.assign("m-before")).accepted

        answer = await mc.stub.Drain(
            drain_request(),
            metadata=(("authorization", "Bearer s3cret-admin-token"),),
            timeout=5,
        )
        assert answer.accepted
        assert answer.state == pb.MC_STATE_DRAINING
        assert answer.current_meetings == 1
        assert drains == [(1_900_000_000_000, "maintenance")]
        assert rejection(await mc.assign("m-after")) == "REJECTION_REASON_DRAINING"
        status = await mc.stub.GetStatus(pb.GetStatusRequest(), timeout=5)
        assert status.state == pb.MC_STATE_DRAINING
        assert status.drain_deadline_unix_ms == 1_900_000_000_000
