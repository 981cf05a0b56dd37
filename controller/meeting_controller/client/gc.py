"""The client's side of the reference GC's HTTP API: get a join ticket, find a meeting.

A deliberately tiny HTTP/1.1 client on asyncio streams (the GC answers one request per
connection, JSON bodies, ``Connection: close``), so the client library needs no HTTP
dependency. Errors carry the GC's own JSON message.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import urllib.parse
from typing import Any

DEFAULT_TIMEOUT = 5.0


class GcRequestError(Exception):
    """The GC answered with an error status (``status``), or could not be reached."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"GC answered {status}: {message}" if status else message)
        self.status = status


@dataclasses.dataclass(frozen=True)
class JoinTicket:
    """What a client needs to join: where the meeting lives and a token to get in."""

    meeting_id: str
    mc_id: str
    mc_endpoint: str
    join_token: str
    expires_at: int
    role: str


async def _request(
    gc_url: str, method: str, path: str, body: dict[str, Any] | None, *, timeout: float
) -> tuple[int, dict[str, Any]]:
    url = urllib.parse.urlsplit(gc_url)
    if url.scheme != "http" or not url.hostname:
        raise ValueError(f"the GC URL must be http://host:port, got {gc_url!r}")
    port = url.port or 80
    payload = json.dumps(body).encode() if body is not None else b""
    head = (
        f"{method} {path} HTTP/1.1\r\nHost: {url.hostname}:{port}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(payload)}\r\n"
        "Connection: close\r\n\r\n"
    ).encode()
    try:
        async with asyncio.timeout(timeout):
            reader, writer = await asyncio.open_connection(url.hostname, port)
            try:
                writer.write(head + payload)
                await writer.drain()
                raw = await reader.read()
            finally:
                writer.close()
    except (OSError, TimeoutError) as error:
        raise GcRequestError(0, f"cannot reach the GC at {gc_url}: {error}") from error
    header, _, content = raw.partition(b"\r\n\r\n")
    status_line = header.split(b"\r\n", 1)[0].decode("latin-1")
    try:
        status = int(status_line.split(" ")[1])
        document = json.loads(content) if content else {}
    except (IndexError, ValueError) as error:
        raise GcRequestError(0, f"the GC sent an unreadable answer: {status_line!r}") from error
    if status >= 400:
        raise GcRequestError(status, str(document.get("message", document)))
    return status, document


async def request_join(
    gc_url: str,
    *,
    user_id: str,
    meeting_id: str | None = None,
    display_name: str | None = None,
    role: str | None = None,
    region: str | None = None,
    timeout: float = DEFAULT_TIMEOUT,
) -> JoinTicket:
    """Create or join a meeting at the GC; the creator is its host unless it asks otherwise."""
    body: dict[str, Any] = {"user_id": user_id}
    for key, value in (
        ("meeting_id", meeting_id),
        ("display_name", display_name),
        ("role", role),
        ("region", region),
    ):
        if value is not None:
            body[key] = value
    _, document = await _request(gc_url, "POST", "/v1/meetings", body, timeout=timeout)
    return JoinTicket(
        meeting_id=document["meeting_id"],
        mc_id=document["mc_id"],
        mc_endpoint=document["mc_endpoint"],
        join_token=document["join_token"],
        expires_at=int(document["expires_at"]),
        role=document["role"],
    )


async def locate(gc_url: str, meeting_id: str, *, timeout: float = DEFAULT_TIMEOUT) -> str | None:
    """The WebTransport endpoint of the MC hosting ``meeting_id`` now (``None``: unknown)."""
    path = "/v1/meetings/" + urllib.parse.quote(meeting_id, safe="")
    try:
        _, document = await _request(gc_url, "GET", path, None, timeout=timeout)
    except GcRequestError as error:
        if error.status == 404:
            return None
        raise
    endpoint = document.get("mc_endpoint")
    return endpoint if isinstance(endpoint, str) and document.get("mc_alive", True) else None
