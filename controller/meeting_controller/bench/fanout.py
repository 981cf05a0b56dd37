"""Signaling fan-out: events delivered per second in one meeting of 10 and of 50.

Ours: one real MC process. Every participant is a raw WebTransport session that joined with
a GC ticket and then only reads and counts frames; one of them toggles its self-mute in a
loop, each toggle making the MC send a ``mute_update`` to every participant (the sender
included). The sender keeps ``WINDOW`` toggles in flight (it sends the next one when it
receives its own update), so the MC is driven at its capacity, not at the client's pace. The
MC's per-connection rate limit (50/s by default, a policy against abusive clients) is raised
for this benchmark: what is measured is delivery capacity.

Baseline: the bare WebTransport server of :mod:`meeting_controller.bench.rawserver`
(``fanout`` mode, same aioquic layer, its own process), driven by the same client code with the
same window: every frame the sender sends makes it push one frame of the size the MC's events
had, to every session. Both numbers come from the same run, one after the other.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from typing import Any

from meeting_controller.bench import clients, processes
from meeting_controller.bench.context import Context
from meeting_controller.bench.model import Goal, Result
from meeting_controller.client import transport as wt
from meeting_controller.protocol import signaling_pb2 as sig

WINDOW = 16
GOAL = Goal(">=", 0.5)
TRIGGERS = (
    sig.ClientMessage(mute=sig.MuteRequest(muted=True)).SerializeToString(),
    sig.ClientMessage(mute=sig.MuteRequest(muted=False)).SerializeToString(),
)
MC_ENV = {"MC_RATE_LIMIT_PER_SECOND": "100000", "MC_RATE_LIMIT_BURST": "1000000"}


async def measure(
    transports: list[wt.ClientTransport],
    *,
    server_pid: int,
    warmup: float,
    duration: float,
) -> dict[str, Any]:
    """Drive the sender (``transports[0]``) and count what every session receives."""
    counter = clients.FrameCounter()
    for index, transport in enumerate(transports):
        counter.watch(index, transport)
    await asyncio.sleep(0.5)  # let the join announcements arrive before counting
    permits = asyncio.Semaphore(WINDOW)
    counter.on_frame[0] = permits.release
    stop = asyncio.Event()
    stalls = 0
    sent = 0

    async def sender() -> None:
        nonlocal stalls, sent
        sender_transport = transports[0]
        while not stop.is_set():
            try:
                async with asyncio.timeout(1.0):
                    await permits.acquire()
            except TimeoutError:
                stalls += 1  # a lost toggle: do not let the window shrink for good
            await sender_transport.send(TRIGGERS[sent % 2])
            sent += 1

    task = asyncio.create_task(sender())
    try:
        await asyncio.sleep(warmup)
        loop = asyncio.get_running_loop()
        frames0, bytes0, t0 = counter.frames, counter.bytes, loop.time()
        server_cpu0, client_cpu0 = (
            processes.cpu_seconds(server_pid),
            processes.cpu_seconds(os.getpid()),
        )
        await asyncio.sleep(duration)
        frames1, bytes1, t1 = counter.frames, counter.bytes, loop.time()
        server_cpu1, client_cpu1 = (
            processes.cpu_seconds(server_pid),
            processes.cpu_seconds(os.getpid()),
        )
    finally:
        stop.set()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(task, 5.0)
        await counter.stop()
    elapsed = t1 - t0
    frames = frames1 - frames0
    return {
        "events_per_second": frames / elapsed,
        "toggles_per_second": frames / elapsed / len(transports),
        "mean_frame_bytes": (bytes1 - bytes0) / frames if frames else 0.0,
        "server_cpu": (server_cpu1 - server_cpu0) / elapsed,
        "client_cpu": (client_cpu1 - client_cpu0) / elapsed,
        "seconds": elapsed,
        "stalls": stalls,
    }


async def _ours(
    stack: processes.Stack, size: int, ctx: Context, *, warmup: float, duration: float
) -> dict[str, Any]:
    mc = next(iter(stack.mcs.values()))
    [tickets] = await clients.meeting_tickets(
        stack.gc_http, meetings=1, per_meeting=size, prefix=f"fan{size}"
    )
    transports = await clients.bounded(
        [lambda t=t: clients.join_raw(t, cafile=stack.cafile) for t in tickets],  # type: ignore[misc]
        limit=10,
    )
    try:
        return await measure(transports, server_pid=mc.pid, warmup=warmup, duration=duration)
    finally:
        await clients.close_all(transports)


async def _baseline(
    stack: processes.Stack, size: int, frame_size: int, *, warmup: float, duration: float
) -> dict[str, Any]:
    raw = stack.start_raw("fanout", frame_size=frame_size)
    try:

        async def join(index: int) -> wt.ClientTransport:
            transport = await wt.connect(f"{raw.url}?g=fan{size}", cafile=stack.cafile)
            await transport.send(TRIGGERS[0])
            if await transport.recv() is None:
                raise ConnectionError("the bare server closed the session")
            return transport

        transports = await clients.bounded(
            [lambda i=i: join(i) for i in range(size)],  # type: ignore[misc]
            limit=10,
        )
        try:
            return await measure(transports, server_pid=raw.pid, warmup=warmup, duration=duration)
        finally:
            await clients.close_all(transports)
    finally:
        stack.stop(raw.child)


async def run(ctx: Context) -> list[Result]:
    sizes = (10, 50)
    warmup = ctx.seconds(1.0, 0.3)
    duration = ctx.seconds(5.0, 1.0)
    results = []
    stack = processes.Stack(ctx.directory("fanout"), log=ctx.log)
    try:
        stack.start_redis()
        stack.start_gc()
        stack.start_mcs(["bench-mc-1"], **MC_ENV)
        for size in sizes:
            result = Result(
                benchmark="fanout",
                name=f"fanout-{size}",
                title=f"signaling fan-out, meeting of {size}",
                unit="events/s",
                baseline_label=f"bare aioquic WebTransport server, {size} sessions",
                goal=GOAL,
            )
            ours = await _ours(stack, size, ctx, warmup=warmup, duration=duration)
            frame_size = round(ours["mean_frame_bytes"]) or 32
            base = await _baseline(stack, size, frame_size, warmup=warmup, duration=duration)
            result.ours = ours["events_per_second"]
            result.baseline = base["events_per_second"]
            result.compute_ratio()
            result.details = {"ours": ours, "baseline": base, "window": WINDOW, "mc_env": MC_ENV}
            result.note = (
                f"{frame_size} B events; CPU server/clients: ours "
                f"{ours['server_cpu']:.2f}/{ours['client_cpu']:.2f}, bare "
                f"{base['server_cpu']:.2f}/{base['client_cpu']:.2f} cores"
            )
            ctx.log(
                f"  fan-out {size}: ours {result.ours:,.0f}/s, bare {result.baseline:,.0f}/s "
                f"({result.note})"
            )
            results.append(result)
    finally:
        stack.close()
    return results
