"""Fixtures shared by the whole suite.

Servers the tests need (Redis, the reference GC, MC processes) are real, listen on 127.0.0.1
only, on free ports, and are stopped by the fixture that started them (by PID).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.redis_server import RedisServer, start_redis_server


@pytest.fixture
def redis_server() -> Iterator[RedisServer]:
    """A real Redis-protocol server of this test's own, stopped (by PID) when the test ends.

    Function-scoped so tests can stop, restart and flush it freely; starting one takes a few
    milliseconds.
    """
    server = start_redis_server()
    try:
        yield server
    finally:
        server.cleanup()


@pytest.fixture
def redis_url(redis_server: RedisServer) -> str:
    """The ``redis://127.0.0.1:<port>/0`` URL of this test's Redis server."""
    return redis_server.url
