"""Drain by live migration vs. the same clients' bare reconnect, like tests/e2e/test_migration.

Three real MC processes, the reference GC, a real Redis; 20 meetings of 5 participants, each
a :class:`~meeting_controller.client.meeting.MeetingClient` (the client library, which
follows redirects and resumes by itself). The MC hosting the most meetings is the one
drained.

Baseline (first, three rounds, median): every participant of that MC drops its connection at
once and resumes on the same MC (close + reconnect + resume with its session token); the time
runs until every one of them has resumed and answered a ping.

Ours: the admin ``Drain`` RPC to that MC; the time runs until every one of its participants
is connected to another MC (after the ``RedirectToMc`` and its resume there) and answered a
ping on it. The MC's exit (it stops once drained) is checked but not part of the time.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import time
from typing import Any

import grpc

from meeting_controller.bench import clients, processes
from meeting_controller.bench.context import Context
from meeting_controller.bench.model import Goal, Result, median
from meeting_controller.client.meeting import MeetingClient, Trust
from meeting_controller.protocol import internal_pb2, internal_pb2_grpc

GOAL = Goal("<=", 1.5)
PER_MEETING = 5
WAIT_S = 60.0


async def _answers_ping(client: MeetingClient, nonce: int) -> None:
    """Ping until the pong for ``nonce`` comes back (a ping lost in a reconnect is resent)."""
    while True:
        try:
            await client.ping(nonce)
        except (ConnectionError, OSError):
            await asyncio.sleep(0.002)
            continue
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(0.25):
                while True:
                    event = await client.next_event(timeout=0.25)
                    if event.WhichOneof("payload") == "pong" and event.pong.nonce == nonce:
                        return


async def _settled(client: MeetingClient, nonce: int, *, resumes: int, away_from: str) -> None:
    """Wait until ``client`` resumed (more than ``resumes`` times, off ``away_from`` if given),
    then until it answers a ping there."""
    while client.resumes <= resumes or (away_from and client.endpoint == away_from):  # noqa: ASYNC110
        await asyncio.sleep(0.002)  # the client library has no event for "resumed"
    await _answers_ping(client, nonce)


async def _reconnect_round(movers: list[MeetingClient], nonce: int) -> float:
    before = {id(c): c.resumes for c in movers}
    started = time.perf_counter()
    await asyncio.gather(*(c.drop_connection() for c in movers))
    async with asyncio.timeout(WAIT_S):
        await asyncio.gather(
            *(
                _settled(c, nonce + i, resumes=before[id(c)], away_from="")
                for i, c in enumerate(movers)
            )
        )
    return time.perf_counter() - started


async def run(ctx: Context) -> list[Result]:
    meetings = ctx.pick(20, 6)
    stack = processes.Stack(ctx.directory("drain"), log=ctx.log)
    participants: list[MeetingClient] = []
    details: dict[str, Any] = {}
    try:
        stack.start_redis()
        stack.start_gc()
        stack.start_mcs(["bench-mc-1", "bench-mc-2", "bench-mc-3"])
        trust = Trust(cafile=stack.cafile)
        groups = await clients.meeting_tickets(
            stack.gc_http, meetings=meetings, per_meeting=PER_MEETING, prefix="drain"
        )

        async def join(ticket: Any) -> MeetingClient:
            client = MeetingClient(
                ticket=ticket, display_name="p", trust=trust, gc_url=stack.gc_http
            )
            await client.connect()
            participants.append(client)
            return client

        for group in groups:  # the host first, as in a real meeting
            await join(group[0])
            await clients.bounded(
                [lambda t=t: join(t) for t in group[1:]],  # type: ignore[misc]
                limit=4,
            )
        async with asyncio.timeout(WAIT_S):
            await asyncio.gather(*(_answers_ping(c, 1 + i) for i, c in enumerate(participants)))
        hosting = collections.Counter(c.ticket.mc_id for c in participants)
        source_id = hosting.most_common(1)[0][0]
        source = stack.mcs[source_id]
        movers = [c for c in participants if c.ticket.mc_id == source_id]
        ctx.log(
            f"  drain: {len(participants)} participants on 3 MCs {dict(hosting)}; "
            f"draining {source_id} ({len(movers)} participants)"
        )

        reconnects = [await _reconnect_round(movers, 1000 * (r + 1)) for r in range(3)]
        baseline = median(reconnects)
        ctx.log("  reconnect rounds: " + ", ".join(f"{s:.3f} s" for s in reconnects))

        before = {id(c): c.resumes for c in movers}
        channel = grpc.aio.insecure_channel(source.grpc_address)
        try:
            started = time.perf_counter()
            await internal_pb2_grpc.MeetingControllerServiceStub(channel).Drain(
                internal_pb2.DrainRequest(
                    deadline_unix_ms=int((time.time() + WAIT_S) * 1000), reason="bench"
                ),
                metadata=(("authorization", "Bearer " + processes.ADMIN_TOKEN.decode()),),
                timeout=WAIT_S,
            )
            rpc_done = time.perf_counter() - started
            async with asyncio.timeout(WAIT_S):
                await asyncio.gather(
                    *(
                        _settled(c, 50_000 + i, resumes=before[id(c)], away_from=source.endpoint)
                        for i, c in enumerate(movers)
                    )
                )
            drained = time.perf_counter() - started
        finally:
            await channel.close(None)
        exit_code = await asyncio.to_thread(source.child.wait, timeout=WAIT_S)
        exited_after = time.perf_counter() - started
        log_text = source.child.log_path.read_text(errors="replace")
        lost = [c.participant_id for c in movers if c.endpoint == source.endpoint]
        details = {
            "meetings": meetings,
            "participants": len(participants),
            "placement": dict(hosting),
            "drained_mc": source_id,
            "moved_participants": len(movers),
            "moved_meetings": len({c.ticket.meeting_id for c in movers}),
            "reconnect_rounds_seconds": reconnects,
            "drain_seconds": drained,
            "drain_rpc_seconds": rpc_done,
            "mc_exit_code": exit_code,
            "mc_exited_after_seconds": exited_after,
            "redirects": sum(c.redirects for c in movers),
            "lost": lost,
        }
        ctx.log(
            f"  drain: everyone on a new MC after {drained:.3f} s (RPC answered after "
            f"{rpc_done:.3f} s, MC exited with {exit_code} after {exited_after:.2f} s)"
        )
        if exit_code != 0 or lost:
            raise RuntimeError(
                f"the drained MC exited with {exit_code}, {len(lost)} participant(s) not moved:"
                f"\n{log_text[-2000:]}"
            )
    finally:
        await clients.close_clients(participants)
        stack.close()
    result = Result(
        benchmark="drain",
        name="drain",
        title=(
            f"drain by live migration, {meetings} meetings x {PER_MEETING} "
            f"({details['moved_meetings']} meetings, {details['moved_participants']} "
            "participants moved)"
        ),
        unit="s",
        ours=details["drain_seconds"],
        baseline=baseline,
        baseline_label="bare reconnect + resume on the same MC",
        goal=GOAL,
        details=details,
        note=(
            "until every participant of the drained MC answers a ping on its new MC; baseline "
            f"median of 3 rounds ({', '.join(f'{s:.2f}' for s in reconnects)} s)"
        ),
    )
    result.compute_ratio()
    return [result]
