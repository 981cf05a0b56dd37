"""Memory per connected idle participant: the MC process's RSS delta / participants.

Ours: one real MC; 10 participants join first (warm-up: code paths, allocator arenas), the
RSS is read, then 500 more join (50 meetings of 10) and stay idle; after a short settle the
RSS is read again. Baseline, for reference (no goal): the same with the bare WebTransport
echo server and 500 idle sessions (each sent one frame), i.e. what aioquic itself costs per
connection.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from meeting_controller.bench import clients, processes
from meeting_controller.bench.context import Context
from meeting_controller.bench.model import Result
from meeting_controller.client import transport as wt

PER_MEETING = 10
SETTLE_S = 2.0


async def _delta(
    pid: int,
    warm: list[Callable[[], Awaitable[wt.ClientTransport]]],
    connect: list[Callable[[], Awaitable[wt.ClientTransport]]],
) -> dict[str, float]:
    opened: list[wt.ClientTransport] = []
    try:
        opened += await clients.bounded(warm, limit=10)
        await asyncio.sleep(SETTLE_S)
        before = processes.rss_bytes(pid)
        opened += await clients.bounded(connect, limit=25)
        await asyncio.sleep(SETTLE_S)
        after = processes.rss_bytes(pid)
    finally:
        await clients.close_all(opened)
    return {
        "rss_before_bytes": before,
        "rss_after_bytes": after,
        "participants": len(connect),
        "bytes_per_participant": (after - before) / len(connect),
    }


async def run(ctx: Context) -> list[Result]:
    count = ctx.pick(500, 60)
    stack = processes.Stack(ctx.directory("memory"), log=ctx.log)
    try:
        stack.start_redis()
        stack.start_gc()
        [mc] = stack.start_mcs(["bench-mc-1"])
        cafile = stack.cafile
        groups = await clients.meeting_tickets(
            stack.gc_http, meetings=1 + count // PER_MEETING, per_meeting=PER_MEETING, prefix="mem"
        )
        warm_tickets, tickets = groups[0], [t for g in groups[1:] for t in g]
        ours = await _delta(
            mc.pid,
            [lambda t=t: clients.join_raw(t, cafile=cafile) for t in warm_tickets],  # type: ignore[misc]
            [lambda t=t: clients.join_raw(t, cafile=cafile) for t in tickets],  # type: ignore[misc]
        )
        raw = stack.start_raw("echo")
        probe = clients.join_request(tickets[0])

        async def bare() -> wt.ClientTransport:
            transport = await wt.connect(raw.url, cafile=cafile)
            await transport.send(probe)
            if await transport.recv() is None:
                raise ConnectionError("the echo server closed the session")
            return transport

        base = await _delta(raw.pid, [bare] * len(warm_tickets), [bare] * len(tickets))
    finally:
        stack.close()
    result = Result(
        benchmark="memory",
        name="memory",
        title=f"memory per idle participant ({len(tickets)} connected)",
        unit="KiB",
        ours=ours["bytes_per_participant"] / 1024,
        baseline=base["bytes_per_participant"] / 1024,
        baseline_label="bare aioquic WebTransport session",
        details={"ours": ours, "baseline": base},
        note=(
            f"RSS of the MC {ours['rss_before_bytes'] / 2**20:.1f} -> "
            f"{ours['rss_after_bytes'] / 2**20:.1f} MiB; bare server "
            f"{base['rss_before_bytes'] / 2**20:.1f} -> {base['rss_after_bytes'] / 2**20:.1f} "
            "MiB (no goal; RSS includes allocator slack)"
        ),
    )
    result.compute_ratio()
    ctx.log(f"  memory: ours {result.ours:.1f} KiB, bare {result.baseline:.1f} KiB per participant")
    return [result]
