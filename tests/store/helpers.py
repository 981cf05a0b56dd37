"""Helpers of the store tests: reading the whole keyspace and the fencing counter."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import cast

from prometheus_client import REGISTRY
from redis.asyncio import Redis


async def all_keys(raw: Redis) -> set[str]:
    """Every key in the database, found with SCAN (never KEYS)."""
    return {str(key) async for key in raw.scan_iter(count=1000)}


async def keyspace(raw: Redis) -> dict[str, object]:
    """Every key with its value, read according to its type: a comparable picture of Redis."""
    picture: dict[str, object] = {}
    for key in sorted(await all_keys(raw)):
        kind = await cast("Awaitable[str]", raw.type(key))
        if kind == "string":
            picture[key] = await cast("Awaitable[str]", raw.get(key))
        elif kind == "hash":
            picture[key] = await cast("Awaitable[dict[str, str]]", raw.hgetall(key))
        elif kind == "set":
            picture[key] = await cast("Awaitable[set[str]]", raw.smembers(key))
        else:
            raise AssertionError(f"the store never writes a {kind} ({key})")
    return picture


async def pttl(raw: Redis, key: str) -> int:
    """The remaining TTL of ``key`` in ms (-1: none, -2: no such key)."""
    return int(await cast("Awaitable[int]", raw.pttl(key)))


def fenced_out_count(reason: str) -> float:
    """The current value of ``mc_fenced_out_total{reason=...}`` (tests compare deltas)."""
    value = REGISTRY.get_sample_value("mc_fenced_out_total", {"reason": reason})
    return value or 0.0
