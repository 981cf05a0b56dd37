"""Test doubles and helpers for the reference GC's tests: all of them real network peers.

* :class:`FakeClock` is a callable monotonic clock the test moves by hand.
* :class:`ScriptedMc` is a real ``grpc.aio`` ``MeetingControllerService`` on 127.0.0.1 with
  configurable answers. The production MC service is written in parallel; this one is an
  honest gRPC server (real sockets, real serialisation), only its decisions are scripted.
* :func:`http` speaks HTTP/1.1 over a real socket with nothing but asyncio streams.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import socket
from collections.abc import AsyncIterator
from typing import Any

import grpc
import grpc.aio

from meeting_controller.gc import registry
from meeting_controller.protocol import internal_pb2, internal_pb2_grpc


class FakeClock:
    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def free_port() -> int:
    """A port nothing listens on (bound and released: connecting to it is refused)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class ScriptedMc(internal_pb2_grpc.MeetingControllerServiceServicer):
    """A ``MeetingControllerService`` whose answers the test sets.

    ``rejection`` (a ``RejectionReason``) refuses every assignment; ``delay_s`` holds each
    answer back (for timeouts). Accepted meetings are remembered with the generation the MC
    took (the offered one + 1, as a takeover does), and ``GetMeeting`` reports them.
    """

    def __init__(self, mc_id: str) -> None:
        self.mc_id = mc_id
        self.rejection: int | None = None
        self.delay_s = 0.0
        self.meetings: dict[str, int] = {}
        self.assign_calls: list[internal_pb2.AssignMeetingRequest] = []
        self.endpoint = ""

    async def AssignMeeting(
        self, request: internal_pb2.AssignMeetingRequest, context: object
    ) -> internal_pb2.AssignMeetingResponse:
        self.assign_calls.append(request)
        if self.delay_s:
            await asyncio.sleep(self.delay_s)
        if self.rejection is not None:
            return internal_pb2.AssignMeetingResponse(
                accepted=False,
                rejection_reason=self.rejection,  # type: ignore[arg-type]
                message=f"{self.mc_id} says {internal_pb2.RejectionReason.Name(self.rejection)}",  # type: ignore[arg-type]
            )
        generation = self.meetings.setdefault(request.meeting_id, request.generation + 1)
        return internal_pb2.AssignMeetingResponse(accepted=True, generation=generation)

    async def AssignMeetingWithMh(
        self, request: internal_pb2.AssignMeetingWithMhRequest, context: object
    ) -> internal_pb2.AssignMeetingResponse:
        raise NotImplementedError("the reference GC has no media handlers")

    async def GetStatus(
        self, request: internal_pb2.GetStatusRequest, context: object
    ) -> internal_pb2.GetStatusResponse:
        return internal_pb2.GetStatusResponse(mc_id=self.mc_id)

    async def GetMeeting(
        self, request: internal_pb2.GetMeetingRequest, context: object
    ) -> internal_pb2.GetMeetingResponse:
        generation = self.meetings.get(request.meeting_id)
        return internal_pb2.GetMeetingResponse(
            found=generation is not None,
            meeting_id=request.meeting_id,
            fencing_generation=generation or 0,
        )

    async def Drain(
        self, request: internal_pb2.DrainRequest, context: object
    ) -> internal_pb2.DrainResponse:
        raise NotImplementedError("not used by the GC")

    async def AcceptMigration(
        self, request: internal_pb2.AcceptMigrationRequest, context: object
    ) -> internal_pb2.AcceptMigrationResponse:
        raise NotImplementedError("MC to MC only: the GC never calls it")


@contextlib.asynccontextmanager
async def scripted_mcs(*mc_ids: str) -> AsyncIterator[dict[str, ScriptedMc]]:
    """Start one real gRPC server per id on 127.0.0.1; stop them all on exit."""
    servers: list[grpc.aio.Server] = []
    mcs: dict[str, ScriptedMc] = {}
    try:
        for mc_id in mc_ids:
            mc = ScriptedMc(mc_id)
            server = grpc.aio.server()
            internal_pb2_grpc.add_MeetingControllerServiceServicer_to_server(mc, server)
            port = server.add_insecure_port("127.0.0.1:0")
            await server.start()
            servers.append(server)
            mc.endpoint = f"127.0.0.1:{port}"
            mcs[mc_id] = mc
        yield mcs
    finally:
        await asyncio.gather(*(server.stop(None) for server in servers))


def register(
    fleet: registry.Registry,
    mc_id: str,
    *,
    now: float,
    endpoint: str = "127.0.0.1:1",
    region: str = "eu",
    max_meetings: int = 10,
    max_participants: int = 100,
) -> None:
    result = fleet.register(
        mc_id=mc_id,
        region=region,
        grpc_endpoint=endpoint,
        webtransport_endpoint=f"https://{mc_id}.example:4433/",
        max_meetings=max_meetings,
        max_participants=max_participants,
        now=now,
    )
    assert result.accepted, result.reason


@dataclasses.dataclass(frozen=True)
class HttpAnswer:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


async def raw_http(host: str, port: int, data: bytes, *, timeout_s: float = 5.0) -> HttpAnswer:
    """Send ``data`` as is and read the whole answer (the server closes the connection)."""
    reader, writer = await asyncio.open_connection(host, port)
    try:
        writer.write(data)
        await writer.drain()
        raw = await asyncio.wait_for(reader.read(), timeout=timeout_s)
    finally:
        writer.close()
        with contextlib.suppress(ConnectionError):
            await writer.wait_closed()
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ")[1])
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    assert int(headers["content-length"]) == len(body)
    return HttpAnswer(status=status, headers=headers, body=body)


async def http(base_url: str, method: str, path: str, document: object | None = None) -> HttpAnswer:
    """One JSON request to ``base_url`` (``http://host:port``)."""
    host, _, port = base_url.removeprefix("http://").rpartition(":")
    body = b"" if document is None else json.dumps(document).encode()
    head = f"{method} {path} HTTP/1.1\r\nHost: {host}\r\n"
    if document is not None:
        head += f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
    return await raw_http(host, int(port), (head + "\r\n").encode() + body)
