"""Join latency with 200 concurrent joins vs. bare session setup plus one request/response.

Ours: one real MC process. The tickets (20 meetings of 10) are fetched from the GC's HTTP API
beforehand; then all 200 participants start at once and each one's latency is timed from the
start of its QUIC connection to its ``JoinResponse`` (connect, WebTransport session, stream,
JoinRequest, the MC's token check, fenced Redis writes and join announcements, JoinResponse).

Baseline: the bare WebTransport echo server (:mod:`meeting_controller.bench.rawserver`, its
own process), the same client code, 200 at once: connect, send a frame the size of the
JoinRequest, receive its echo. A few joins warm each server up before the timed round.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Awaitable, Callable
from typing import Any

from meeting_controller.bench import clients, processes
from meeting_controller.bench.context import Context
from meeting_controller.bench.model import Goal, Result, median, percentile
from meeting_controller.client import gc as gc_api
from meeting_controller.client import transport as wt

GOAL = Goal("<=", 3.0)
PER_MEETING = 10


async def _timed_round(
    starters: list[Callable[[], Awaitable[wt.ClientTransport]]], *, server_pid: int
) -> dict[str, Any]:
    """Start every join at once; per-join latency in ms, plus CPU use of both sides."""
    latencies: list[float] = []
    transports: list[wt.ClientTransport] = []
    gate = asyncio.Event()

    async def one(start: Callable[[], Awaitable[wt.ClientTransport]]) -> None:
        await gate.wait()
        began = time.perf_counter()
        transport = await start()
        latencies.append((time.perf_counter() - began) * 1000)
        transports.append(transport)

    tasks = [asyncio.create_task(one(s)) for s in starters]
    await asyncio.sleep(0.05)
    cpu_server0, cpu_client0 = processes.cpu_seconds(server_pid), processes.cpu_seconds(os.getpid())
    began = time.perf_counter()
    gate.set()
    try:
        await asyncio.gather(*tasks)
    finally:
        wall = time.perf_counter() - began
        cpu_server1 = processes.cpu_seconds(server_pid)
        cpu_client1 = processes.cpu_seconds(os.getpid())
        await clients.close_all(transports)
    return {
        "joins": len(latencies),
        "p50_ms": percentile(latencies, 0.5),
        "p99_ms": percentile(latencies, 0.99),
        "max_ms": max(latencies),
        "median_ms": median(latencies),
        "wall_seconds": wall,
        "server_cpu_seconds": cpu_server1 - cpu_server0,
        "client_cpu_seconds": cpu_client1 - cpu_client0,
    }


async def run(ctx: Context) -> list[Result]:
    joins = ctx.pick(200, 40)
    meetings = joins // PER_MEETING
    stack = processes.Stack(ctx.directory("join"), log=ctx.log)
    try:
        stack.start_redis()
        stack.start_gc()
        [mc] = stack.start_mcs(["bench-mc-1"])
        raw = stack.start_raw("echo")
        cafile = stack.cafile

        # warm-up: one meeting of 5 on the MC, 5 echo sessions on the bare server
        [warm] = await clients.meeting_tickets(
            stack.gc_http, meetings=1, per_meeting=5, prefix="warm"
        )
        warm_transports = [await clients.join_raw(t, cafile=cafile) for t in warm]
        await clients.close_all(warm_transports)
        tickets = [
            t
            for group in await clients.meeting_tickets(
                stack.gc_http, meetings=meetings, per_meeting=PER_MEETING, prefix="join"
            )
            for t in group
        ]
        request_size = len(clients.join_request(tickets[0]))
        probe = b"\x00" * request_size

        async def bare() -> wt.ClientTransport:
            transport = await wt.connect(raw.url, cafile=cafile)
            await transport.send(probe)
            if await transport.recv() is None:
                raise ConnectionError("the echo server closed the session")
            return transport

        for _ in range(5):
            await clients.close_all([await bare()])

        def join_one(ticket: gc_api.JoinTicket) -> Callable[[], Awaitable[wt.ClientTransport]]:
            return lambda: clients.join_raw(ticket, cafile=cafile)

        base = await _timed_round([bare] * joins, server_pid=raw.pid)
        ours = await _timed_round([join_one(t) for t in tickets], server_pid=mc.pid)
    finally:
        stack.close()
    results = []
    for key, label in (("p50_ms", "p50"), ("p99_ms", "p99")):
        result = Result(
            benchmark="join",
            name=f"join-{label}",
            title=f"join latency {label}, {joins} concurrent joins",
            unit="ms",
            ours=ours[key],
            baseline=base[key],
            baseline_label="bare session setup + 1 echo",
            goal=GOAL if label == "p99" else None,
            details={"ours": ours, "baseline": base, "request_bytes": request_size},
            note=(
                f"all {joins} started at once; wall time ours {ours['wall_seconds']:.2f} s, "
                f"bare {base['wall_seconds']:.2f} s; server CPU ours "
                f"{ours['server_cpu_seconds']:.2f} s, bare {base['server_cpu_seconds']:.2f} s"
            ),
        )
        result.compute_ratio()
        results.append(result)
    ctx.log(
        f"  join: ours p50 {ours['p50_ms']:.0f} ms p99 {ours['p99_ms']:.0f} ms, "
        f"bare p50 {base['p50_ms']:.0f} ms p99 {base['p99_ms']:.0f} ms"
    )
    return results
