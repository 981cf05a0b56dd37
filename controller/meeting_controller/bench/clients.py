"""Participants as the benchmarks drive them: tickets from the GC, raw joins, frame counters."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import TypeVar

from meeting_controller.client import gc as gc_api
from meeting_controller.client import transport as wt
from meeting_controller.client.meeting import MeetingClient
from meeting_controller.protocol import signaling_pb2 as sig

_T = TypeVar("_T")


async def bounded(jobs: Iterable[Callable[[], Awaitable[_T]]], *, limit: int) -> list[_T]:
    """Run the jobs with at most ``limit`` in flight; results in job order."""
    semaphore = asyncio.Semaphore(limit)

    async def one(job: Callable[[], Awaitable[_T]]) -> _T:
        async with semaphore:
            return await job()

    return list(await asyncio.gather(*(one(job) for job in jobs)))


async def meeting_tickets(
    gc_url: str, *, meetings: int, per_meeting: int, prefix: str
) -> list[list[gc_api.JoinTicket]]:
    """Create ``meetings`` meetings at the GC and get ``per_meeting`` tickets for each.

    The first ticket of each meeting is its host's (the creator).
    """

    async def one(index: int) -> list[gc_api.JoinTicket]:
        host = await gc_api.request_join(
            gc_url, user_id=f"{prefix}-{index}-0", display_name=f"{prefix}-{index}-0"
        )
        others = [
            await gc_api.request_join(
                gc_url,
                user_id=f"{prefix}-{index}-{n}",
                meeting_id=host.meeting_id,
                display_name=f"{prefix}-{index}-{n}",
            )
            for n in range(1, per_meeting)
        ]
        return [host, *others]

    return await bounded([lambda i=i: one(i) for i in range(meetings)], limit=8)  # type: ignore[misc]


def join_request(ticket: gc_api.JoinTicket) -> bytes:
    return sig.ClientMessage(
        join=sig.JoinRequest(
            meeting_id=ticket.meeting_id,
            join_token=ticket.join_token,
            display_name=ticket.meeting_id[:8],
        )
    ).SerializeToString()


async def join_raw(ticket: gc_api.JoinTicket, *, cafile: str) -> wt.ClientTransport:
    """Connect to the ticket's MC and join; the transport, positioned after the JoinResponse."""
    transport = await wt.connect(ticket.mc_endpoint, cafile=cafile)
    try:
        await transport.send(join_request(ticket))
        first = await transport.recv()
        if first is None:
            raise ConnectionError("the MC closed the session instead of answering the join")
        message = sig.ServerMessage()
        message.ParseFromString(first)
        if message.WhichOneof("payload") != "join_response":
            raise ConnectionError(f"the join was answered with {message}")
    except BaseException:
        await transport.close()
        raise
    return transport


async def close_all(transports: Sequence[wt.ClientTransport]) -> None:
    async def one(transport: wt.ClientTransport) -> None:
        with contextlib.suppress(Exception):
            await transport.close()

    await asyncio.gather(*(one(t) for t in transports))


async def close_clients(clients: Sequence[MeetingClient]) -> None:
    async def one(client: MeetingClient) -> None:
        with contextlib.suppress(Exception):
            await client.close()

    await asyncio.gather(*(one(c) for c in clients))


class FrameCounter:
    """Reads frames from many sessions and counts them (and their bytes); no parsing."""

    def __init__(self) -> None:
        self.frames = 0
        self.bytes = 0
        self.on_frame: dict[int, Callable[[], None]] = {}
        self._tasks: list[asyncio.Task[None]] = []

    def watch(self, index: int, transport: wt.ClientTransport) -> None:
        self._tasks.append(asyncio.create_task(self._read(index, transport)))

    async def _read(self, index: int, transport: wt.ClientTransport) -> None:
        with contextlib.suppress(ConnectionError, OSError):
            while True:
                frame = await transport.recv()
                if frame is None:
                    return
                self.frames += 1
                self.bytes += len(frame)
                callback = self.on_frame.get(index)
                if callback is not None:
                    callback()

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()
