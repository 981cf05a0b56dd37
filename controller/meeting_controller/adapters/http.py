"""The MC's observability endpoint: ``/healthz``, ``/readyz`` and ``/metrics`` over HTTP/1.1.

Kubernetes probes and Prometheus scrapes need nothing more than a GET and a short answer, so
this is a deliberately small server on asyncio streams instead of a web framework dependency.
Small does not mean fragile: it faces whatever can reach the pod's port, so

* the request line and headers are size-limited and must arrive within a read timeout (a
  slow or silent client is dropped, it cannot pin a connection forever);
* garbage gets ``400 Bad Request`` and the server keeps serving;
* concurrent connections are capped (beyond the cap a client gets ``503`` at once);
* every response closes the connection (``Connection: close``): probes and scrapers open a
  new connection per request anyway, and it keeps the state machine trivial.

The server knows nothing about the MC: it is given ``liveness`` and ``readiness`` callables
and serves the process-wide Prometheus registry.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Callable
from typing import Final

from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest
from prometheus_client.registry import CollectorRegistry

logger = logging.getLogger(__name__)

#: Longest accepted request line or header line, in bytes.
MAX_LINE_BYTES: Final = 8 * 1024
#: Longest accepted request head (request line plus all headers), in bytes.
MAX_HEAD_BYTES: Final = 32 * 1024
#: Most header lines accepted in one request.
MAX_HEADERS: Final = 100

_REASONS: Final = {
    200: "OK",
    400: "Bad Request",
    404: "Not Found",
    405: "Method Not Allowed",
    408: "Request Timeout",
    431: "Request Header Fields Too Large",
    500: "Internal Server Error",
    503: "Service Unavailable",
}
#: How long, and for how many bytes, a connection is drained before it is closed.
_LINGER_SECONDS: Final = 1.0
_LINGER_MAX_BYTES: Final = 64 * 1024
_TEXT: Final = "text/plain; charset=utf-8"
_PATHS: Final = ("/healthz", "/readyz", "/metrics")
_TOKEN_CHARS: Final = frozenset(
    "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
)


class _BadRequest(Exception):
    """The peer sent something that is not a request we can answer; carries the status."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


class HttpServer:
    """Serves ``/healthz``, ``/readyz`` and ``/metrics``; see the module docstring.

    ``liveness()`` answers "should the kubelet restart me?" and ``readiness()`` "should traffic
    come to me?", with a human reason (``"shutting down"``, ``"not registered with the GC"``)
    that ends up in the ``/readyz`` body so an operator reading ``kubectl describe`` sees *why*.
    Both are called on the event loop for every probe, so they must be cheap and non-blocking
    (read cached state, never do I/O).
    """

    def __init__(
        self,
        *,
        liveness: Callable[[], bool],
        readiness: Callable[[], tuple[bool, str]],
        registry: CollectorRegistry = REGISTRY,
        read_timeout: float = 5.0,
        write_timeout: float = 5.0,
        max_connections: int = 64,
    ) -> None:
        self._liveness = liveness
        self._readiness = readiness
        self._registry = registry
        self._read_timeout = read_timeout
        self._write_timeout = write_timeout
        self._max_connections = max_connections
        self._server: asyncio.Server | None = None
        self._connections: set[asyncio.Task[None]] = set()
        self._host = ""
        self._port = 0

    @property
    def host(self) -> str:
        """The host the server is bound to (as given to :meth:`start`)."""
        return self._host

    @property
    def port(self) -> int:
        """The bound port; the real one when :meth:`start` was given port 0."""
        if self._server is None:
            raise RuntimeError("the HTTP server is not started")
        return self._port

    async def start(self, host: str, port: int) -> None:
        """Bind and start accepting. Raises ``OSError`` when the address cannot be bound."""
        if self._server is not None:
            raise RuntimeError("the HTTP server is already started")
        self._server = await asyncio.start_server(
            self._on_connection, host=host, port=port, limit=MAX_LINE_BYTES
        )
        self._host = host
        self._port = self._server.sockets[0].getsockname()[1]
        logger.info(
            "HTTP server listening on %s:%d",
            host,
            self._port,
            extra={"event": "http_listening", "http_port": self._port},
        )

    async def stop(self) -> None:
        """Stop accepting, abort in-flight connections and wait until all are gone."""
        server, self._server = self._server, None
        if server is None:
            return
        server.close()
        for task in list(self._connections):
            task.cancel()
        await asyncio.gather(*self._connections, return_exceptions=True)
        await server.wait_closed()
        logger.info("HTTP server stopped", extra={"event": "http_stopped"})

    async def _on_connection(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._connections.add(task)
        try:
            await self._serve(reader, writer)
        except asyncio.CancelledError:
            # Only stop() cancels connection tasks. Ending normally (instead of re-raising)
            # keeps asyncio's stream callback from logging each cancellation as an error.
            writer.transport.abort()
        finally:
            self._connections.discard(task)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            if len(self._connections) > self._max_connections:
                await self._respond(writer, 503, _TEXT, b"too many connections\n")
            else:
                status, content_type, body = await self._handle(reader)
                await self._respond(writer, status, content_type, body)
            await _close_after_answer(reader, writer)
        except (ConnectionError, TimeoutError):
            writer.transport.abort()  # The peer went away or would not read the answer.
        except Exception:  # The server must outlive any single request's bug.
            logger.exception("unexpected error in the HTTP server", extra={"event": "http_error"})
            writer.transport.abort()

    async def _handle(self, reader: asyncio.StreamReader) -> tuple[int, str, bytes]:
        """Read one request and compute the answer ``(status, content type, body)``."""
        try:
            async with asyncio.timeout(self._read_timeout):
                method, path = await _read_head(reader)
        except TimeoutError:
            return 408, _TEXT, b"request timeout\n"
        except _BadRequest as error:
            logger.debug("bad HTTP request: %s", error.detail, extra={"event": "http_bad_request"})
            return error.status, _TEXT, error.detail.encode() + b"\n"
        if path not in _PATHS:
            return 404, _TEXT, b"not found\n"
        if method != "GET":
            return 405, _TEXT, b"method not allowed\n"
        if path == "/healthz":
            return self._healthz()
        if path == "/readyz":
            return self._readyz()
        return 200, CONTENT_TYPE_LATEST, generate_latest(self._registry)

    def _healthz(self) -> tuple[int, str, bytes]:
        try:
            alive = self._liveness()
        except Exception:
            logger.exception("liveness check failed", extra={"event": "liveness_error"})
            alive = False
        if alive:
            return 200, _TEXT, b"ok\n"
        return 503, _TEXT, b"unhealthy\n"

    def _readyz(self) -> tuple[int, str, bytes]:
        try:
            ready, reason = self._readiness()
        except Exception as error:
            logger.exception("readiness check failed", extra={"event": "readiness_error"})
            ready, reason = False, f"readiness check failed: {type(error).__name__}"
        body = json.dumps({"ready": ready, "reason": reason}).encode() + b"\n"
        return (200 if ready else 503), "application/json", body

    async def _respond(
        self, writer: asyncio.StreamWriter, status: int, content_type: str, body: bytes
    ) -> None:
        head = (
            f"HTTP/1.1 {status} {_REASONS[status]}\r\n"
            f"Content-Type: {content_type}\r\n"
            f"Content-Length: {len(body)}\r\n"
            "Cache-Control: no-store\r\n"
            "Connection: close\r\n"
        )
        if status == 405:
            head += "Allow: GET\r\n"
        writer.write(head.encode("ascii") + b"\r\n" + body)
        async with asyncio.timeout(self._write_timeout):
            await writer.drain()


async def _close_after_answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Close the connection without destroying the answer just written.

    Closing a socket that still holds unread request bytes (a 503 sent before reading, a 400
    for a half-read head) makes the kernel send a reset, and the peer may lose the answer. So:
    send FIN (the peer sees the end of the answer), discard what the peer still sends for a
    short, bounded while, then close.
    """
    if writer.can_write_eof():
        writer.write_eof()
    with contextlib.suppress(ConnectionError, TimeoutError):
        async with asyncio.timeout(_LINGER_SECONDS):
            discarded = 0
            while discarded < _LINGER_MAX_BYTES and (chunk := await reader.read(4096)):
                discarded += len(chunk)
    writer.close()
    with contextlib.suppress(ConnectionError, TimeoutError):
        async with asyncio.timeout(_LINGER_SECONDS):
            await writer.wait_closed()


async def _read_head(reader: asyncio.StreamReader) -> tuple[str, str]:
    """Read the request line and headers; return ``(method, path without query)``.

    Accepts bare ``\\n`` line endings too (hand-typed ``nc`` requests). Raises
    :class:`_BadRequest` for anything malformed or oversized.
    """
    request_line = await _read_line(reader)
    while request_line == "":  # RFC 9112 2.2: ignore empty lines before the request line.
        request_line = await _read_line(reader)
    parts = request_line.split(" ")
    if len(parts) != 3:
        raise _BadRequest(400, "malformed request line")
    method, target, version = parts
    if not method or not set(method) <= _TOKEN_CHARS:
        raise _BadRequest(400, "malformed method")
    if version not in ("HTTP/1.0", "HTTP/1.1"):
        raise _BadRequest(400, "unsupported HTTP version")
    if not target.startswith("/"):
        raise _BadRequest(400, "malformed request target")
    total = len(request_line)
    for _ in range(MAX_HEADERS + 1):
        line = await _read_line(reader)
        if line == "":
            return method, target.split("?", 1)[0]
        total += len(line)
        if total > MAX_HEAD_BYTES:
            raise _BadRequest(431, "request head too large")
        name, colon, _value = line.partition(":")
        if not colon or not name or not set(name) <= _TOKEN_CHARS:
            raise _BadRequest(400, "malformed header line")
    raise _BadRequest(431, "too many header lines")


async def _read_line(reader: asyncio.StreamReader) -> str:
    try:
        raw = await reader.readuntil(b"\n")
    except asyncio.LimitOverrunError as error:
        raise _BadRequest(431, "request line or header too long") from error
    except asyncio.IncompleteReadError as error:
        raise _BadRequest(400, "incomplete request") from error
    try:
        return raw.rstrip(b"\r\n").decode("ascii")
    except UnicodeDecodeError as error:
        raise _BadRequest(400, "non-ASCII bytes in the request head") from error
