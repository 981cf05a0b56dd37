"""A real Redis-protocol server for the tests: re-exports :mod:`meeting_controller.localdev`.

The project tests against real servers, never mocks of them (ARCHITECTURE.md): the fencing
guarantees live in Lua scripts that only a real server runs. The launcher lives in the package
so that ``meeting-controller demo`` can use it too; see that module for how the binary is found
and how the process is started and stopped (by its PID only, every wait bounded).
"""

from __future__ import annotations

from meeting_controller.localdev import (
    START_TIMEOUT_S,
    STOP_TIMEOUT_S,
    RedisServer,
    RedisServerError,
    answers_ping,
    find_server_binary,
    free_port,
    start_redis_server,
)

__all__ = [
    "START_TIMEOUT_S",
    "STOP_TIMEOUT_S",
    "RedisServer",
    "RedisServerError",
    "answers_ping",
    "find_server_binary",
    "free_port",
    "start_redis_server",
]
