"""Fixtures of the store tests: connected stores (one per "MC") and a raw inspection client."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from meeting_controller.store import FencedRedisClient


@pytest.fixture
async def store(redis_url: str) -> AsyncIterator[FencedRedisClient]:
    """The store of one MC, connected to this test's Redis."""
    client = FencedRedisClient(redis_url)
    await client.connect()
    try:
        yield client
    finally:
        await client.close()


@pytest.fixture
async def other_store(redis_url: str) -> AsyncIterator[FencedRedisClient]:
    """The store of a second MC, sharing the same Redis (for takeovers and fencing)."""
    client = FencedRedisClient(redis_url)
    await client.connect()
    try:
        yield client
    finally:
        await client.close()


@pytest.fixture
async def raw(redis_url: str) -> AsyncIterator[Redis]:
    """A plain redis-py client to look at (and tamper with) what the store wrote."""
    client = Redis.from_url(redis_url, decode_responses=True)
    try:
        yield client
    finally:
        await client.aclose()
