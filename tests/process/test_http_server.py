"""The observability HTTP server, in-process over real loopback sockets.

Probes and scrapers are the friendly clients; the tests also play the unfriendly ones (garbage,
oversized heads, silent connections) and check the server answers them and keeps serving.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import pytest
from prometheus_client import CONTENT_TYPE_LATEST

import meeting_controller.metrics  # noqa: F401  (registers the mc_* metrics being served)
from meeting_controller.adapters.http import MAX_HEADERS, MAX_LINE_BYTES, HttpServer

Answer = tuple[int, dict[str, str], bytes]


class Probes:
    """Mutable liveness/readiness the tests flip while the server runs."""

    def __init__(self) -> None:
        self.alive = True
        self.ready: tuple[bool, str] = (True, "ready")
        self.readiness_error: Exception | None = None

    def liveness(self) -> bool:
        return self.alive

    def readiness(self) -> tuple[bool, str]:
        if self.readiness_error is not None:
            raise self.readiness_error
        return self.ready


@pytest.fixture
def probes() -> Probes:
    return Probes()


@pytest.fixture
async def server(probes: Probes) -> AsyncIterator[HttpServer]:
    http = HttpServer(liveness=probes.liveness, readiness=probes.readiness, read_timeout=0.3)
    await http.start("127.0.0.1", 0)
    try:
        yield http
    finally:
        await http.stop()


async def exchange(port: int, raw: bytes, *, timeout: float = 2.0) -> Answer:
    """Send ``raw`` bytes, read the whole answer until the server closes, parse it."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(raw)
        await writer.drain()
        async with asyncio.timeout(timeout):
            data = await reader.read()
    finally:
        writer.close()
    return parse(data)


def parse(data: bytes) -> Answer:
    head, _, body = data.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("ascii").split("\r\n")
    version, status, _reason = status_line.split(" ", 2)
    assert version == "HTTP/1.1"
    headers = {}
    for line in header_lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    assert int(headers["content-length"]) == len(body)
    return int(status), headers, body


async def get(port: int, path: str) -> Answer:
    return await exchange(port, f"GET {path} HTTP/1.1\r\nHost: mc\r\n\r\n".encode())


async def assert_still_serving(server: HttpServer) -> None:
    status, _, body = await get(server.port, "/healthz")
    assert (status, body) == (200, b"ok\n")


# -- the three endpoints --------------------------------------------------------------------------


async def test_healthz_answers_ok_while_alive_and_503_when_not(
    server: HttpServer, probes: Probes
) -> None:
    status, headers, body = await get(server.port, "/healthz")
    assert (status, body) == (200, b"ok\n")
    assert headers["connection"] == "close"

    probes.alive = False
    status, _, body = await get(server.port, "/healthz")
    assert (status, body) == (503, b"unhealthy\n")


async def test_readyz_answers_200_with_json_when_ready(server: HttpServer) -> None:
    status, headers, body = await get(server.port, "/readyz")
    assert status == 200
    assert headers["content-type"] == "application/json"
    assert json.loads(body) == {"ready": True, "reason": "ready"}


async def test_readyz_answers_503_with_the_reason_when_not_ready(
    server: HttpServer, probes: Probes
) -> None:
    probes.ready = (False, "not registered with the GC")
    status, _, body = await get(server.port, "/readyz")
    assert status == 503
    assert json.loads(body) == {"ready": False, "reason": "not registered with the GC"}


async def test_a_failing_readiness_check_means_not_ready_and_the_server_survives(
    server: HttpServer, probes: Probes
) -> None:
    probes.readiness_error = RuntimeError("boom")
    status, _, body = await get(server.port, "/readyz")
    assert status == 503
    assert json.loads(body) == {"ready": False, "reason": "readiness check failed: RuntimeError"}
    await assert_still_serving(server)


async def test_metrics_serves_the_prometheus_exposition(server: HttpServer) -> None:
    status, headers, body = await get(server.port, "/metrics")
    assert status == 200
    assert headers["content-type"] == CONTENT_TYPE_LATEST
    text = body.decode()
    assert "# TYPE mc_meetings_active gauge" in text
    assert 'mc_actor_failures_total{actor="meeting"}' in text


async def test_a_query_string_does_not_change_the_route(server: HttpServer) -> None:
    status, _, _ = await get(server.port, "/healthz?verbose=1")
    assert status == 200


# -- everything else ------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/", "/health", "/metrics/x", "/readyz/"])
async def test_unknown_paths_get_404(server: HttpServer, path: str) -> None:
    status, _, _ = await get(server.port, path)
    assert status == 404


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "HEAD"])
async def test_other_methods_get_405_with_allow_get(server: HttpServer, method: str) -> None:
    status, headers, _ = await exchange(
        server.port, f"{method} /healthz HTTP/1.1\r\nContent-Length: 0\r\n\r\n".encode()
    )
    assert status == 405
    assert headers["allow"] == "GET"


async def test_bare_newlines_are_accepted(server: HttpServer) -> None:
    status, _, _ = await exchange(server.port, b"GET /healthz HTTP/1.0\n\n")
    assert status == 200


@pytest.mark.parametrize(
    "raw",
    [
        b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03garbage\r\n\r\n",  # a TLS ClientHello
        b"hello\r\n\r\n",
        b"GET /healthz\r\n\r\n",
        b"GET /healthz HTTP/2.0\r\n\r\n",
        b"GET healthz HTTP/1.1\r\n\r\n",
        b"G(T /healthz HTTP/1.1\r\n\r\n",
        b"GET /healthz HTTP/1.1\r\nno colon here\r\n\r\n",
        b"GET /healthz HTTP/1.1\r\nX-Bytes: \xff\xfe\r\n\r\n",
        b"GET /healthz HTTP/1.1\r\nHost: mc\r\n",  # the client gives up mid-head
    ],
)
async def test_garbage_gets_400_and_the_server_keeps_serving(
    server: HttpServer, raw: bytes
) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    writer.write(raw)
    writer.write_eof()
    async with asyncio.timeout(2.0):
        status, _, _ = parse(await reader.read())
    writer.close()

    assert status == 400
    await assert_still_serving(server)


async def test_an_overlong_request_line_gets_431(server: HttpServer) -> None:
    path = "/" + "a" * (MAX_LINE_BYTES + 10)
    status, _, _ = await exchange(server.port, f"GET {path} HTTP/1.1\r\n\r\n".encode())
    assert status == 431
    await assert_still_serving(server)


async def test_too_many_headers_get_431(server: HttpServer) -> None:
    headers = "".join(f"X-{i}: v\r\n" for i in range(MAX_HEADERS + 1))
    status, _, _ = await exchange(server.port, f"GET /healthz HTTP/1.1\r\n{headers}\r\n".encode())
    assert status == 431
    await assert_still_serving(server)


async def test_a_silent_client_is_answered_408_after_the_read_timeout_without_blocking_others(
    server: HttpServer,
) -> None:
    loop = asyncio.get_running_loop()
    started = loop.time()
    silent_reader, silent_writer = await asyncio.open_connection("127.0.0.1", server.port)

    await assert_still_serving(server)  # served while the silent client holds its connection
    async with asyncio.timeout(2.0):
        status, _, _ = parse(await silent_reader.read())
    silent_writer.close()

    assert status == 408
    assert 0.25 <= loop.time() - started < 1.5


async def test_a_client_that_connects_and_leaves_does_no_harm(server: HttpServer) -> None:
    for _ in range(5):
        _, writer = await asyncio.open_connection("127.0.0.1", server.port)
        writer.close()
    await assert_still_serving(server)


async def test_connections_beyond_the_cap_get_503_at_once(probes: Probes) -> None:
    http = HttpServer(
        liveness=probes.liveness, readiness=probes.readiness, read_timeout=5.0, max_connections=1
    )
    await http.start("127.0.0.1", 0)
    try:
        _, holder = await asyncio.open_connection("127.0.0.1", http.port)
        await asyncio.sleep(0.05)  # let the server register the first connection
        status, _, body = await get(http.port, "/healthz")
        assert (status, body) == (503, b"too many connections\n")
        holder.close()
    finally:
        await http.stop()


# -- lifecycle ------------------------------------------------------------------------------------


def _never() -> bool:
    return True


def _always_ready() -> tuple[bool, str]:
    return True, "ready"


async def test_port_zero_binds_a_free_port_that_the_server_reports() -> None:
    http = HttpServer(liveness=_never, readiness=_always_ready)
    with pytest.raises(RuntimeError, match="not started"):
        _ = http.port
    await http.start("127.0.0.1", 0)
    try:
        assert http.port > 0
        status, _, _ = await get(http.port, "/healthz")
        assert status == 200
    finally:
        await http.stop()


async def test_stop_returns_promptly_with_an_idle_connection_open_and_closes_the_port() -> None:
    http = HttpServer(liveness=_never, readiness=_always_ready, read_timeout=30.0)
    await http.start("127.0.0.1", 0)
    port = http.port
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    await asyncio.sleep(0.05)

    async with asyncio.timeout(1.0):
        await http.stop()

    assert await reader.read() == b""  # the idle connection was closed, not left hanging
    writer.close()
    with pytest.raises(ConnectionRefusedError):
        await asyncio.open_connection("127.0.0.1", port)


async def test_binding_a_taken_port_raises_oserror() -> None:
    first = HttpServer(liveness=_never, readiness=_always_ready)
    await first.start("127.0.0.1", 0)
    try:
        second = HttpServer(liveness=_never, readiness=_always_ready)
        with pytest.raises(OSError, match="in use"):
            await second.start("127.0.0.1", first.port)
    finally:
        await first.stop()
