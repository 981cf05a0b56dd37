"""Hosted meetings are kept alive in Redis, and released when another MC takes them over."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import redis.asyncio as redis
from prometheus_client import REGISTRY

from meeting_controller.actors import controller
from meeting_controller.keeper import refresh_interval, refresh_once
from meeting_controller.store.fenced import FencedRedisClient
from tests.support.waiting import eventually


@pytest.fixture
async def store(redis_url: str) -> AsyncIterator[FencedRedisClient]:
    client = FencedRedisClient(redis_url, meeting_ttl_ms=60_000)
    await client.connect()
    yield client
    await client.close()


async def test_refresh_extends_the_ttl_of_every_hosted_meeting(
    store: FencedRedisClient, redis_url: str
) -> None:
    mc = controller.spawn_controller(mc_id="mc-a", region="r", max_meetings=5, max_participants=50)
    try:
        generation = await store.claim_meeting("m1")
        await store.assign("m1", generation=generation, mh_assignment_json="[]", state={"a": "b"})
        await mc.create_meeting("m1", generation=generation)
        raw = redis.Redis.from_url(redis_url)
        await raw.pexpire("meeting:{m1}:state", 1000)

        assert await refresh_once(controller=mc, store=store) == 0

        assert await raw.pttl("meeting:{m1}:state") > 30_000
        await raw.aclose()
    finally:
        await mc.shutdown()


async def test_a_meeting_taken_over_by_another_mc_is_released_without_a_fight(
    store: FencedRedisClient, redis_url: str
) -> None:
    other = FencedRedisClient(redis_url, meeting_ttl_ms=60_000)
    await other.connect()
    first = controller.spawn_controller(
        mc_id="mc-a", region="r", max_meetings=5, max_participants=50
    )
    fenced_before = REGISTRY.get_sample_value("mc_fenced_out_total", {"reason": "newer_owner"}) or 0
    try:
        g1 = await store.claim_meeting("m1")
        await store.assign("m1", generation=g1, mh_assignment_json="[]", state={"owner": "a"})
        await first.create_meeting("m1", generation=g1)

        g2 = await other.claim_meeting("m1")  # the second MC takes it over
        await other.assign("m1", generation=g2, mh_assignment_json="[]", state={"owner": "b"})

        assert await refresh_once(controller=first, store=store) == 1
        await eventually(lambda: first.get_status().meetings == 0, what="the release")
        record = await other.load_meeting("m1")
        assert record is not None
        assert (record.generation, dict(record.state)) == (2, {"owner": "b"})
        fenced_after = REGISTRY.get_sample_value("mc_fenced_out_total", {"reason": "newer_owner"})
        assert fenced_after == fenced_before + 1
    finally:
        await first.shutdown()
        await other.close()


def test_the_refresh_runs_three_times_per_ttl() -> None:
    assert refresh_interval(60_000) == 20.0
    assert refresh_interval(600) == 1.0
