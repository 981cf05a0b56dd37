"""Fenced Redis writes per second vs. bare EVALSHA of a trivial script, same concurrency.

Ours: :meth:`FencedRedisClient.update_state` (the fenced Lua script: generation check,
HSET, TTL on the meeting's keys, through the client's validation and error translation), one
claimed meeting per task. Baseline: ``EVALSHA`` of ``return 1`` (one key, one argument) with
a redis-py client configured exactly like the store's, on the same throwaway server, with the
same number of tasks. Rounds alternate (baseline, ours, baseline, ours) and each side's
figure is the mean of its rounds, so drift during the run hits both.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable
from typing import Any, cast

from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from meeting_controller.bench import processes
from meeting_controller.bench.context import Context
from meeting_controller.bench.model import Goal, Result
from meeting_controller.store.fenced import FencedRedisClient

GOAL = Goal(">=", 0.7)
TRIVIAL_SCRIPT = "return 1"


async def _rate(
    tasks: int, operation: Callable[[int], Awaitable[object]], *, duration: float, server_pid: int
) -> dict[str, float]:
    stop = asyncio.Event()
    counts = [0] * tasks

    async def worker(index: int) -> None:
        while not stop.is_set():
            await operation(index)
            counts[index] += 1

    workers = [asyncio.create_task(worker(i)) for i in range(tasks)]
    await asyncio.sleep(min(0.3, duration / 4))  # warm up (connections, caches)
    loop = asyncio.get_running_loop()
    before, t0 = sum(counts), loop.time()
    cpu_server0, cpu_client0 = processes.cpu_seconds(server_pid), processes.cpu_seconds(os.getpid())
    await asyncio.sleep(duration)
    after, t1 = sum(counts), loop.time()
    cpu_server1, cpu_client1 = processes.cpu_seconds(server_pid), processes.cpu_seconds(os.getpid())
    stop.set()
    await asyncio.gather(*workers)
    elapsed = t1 - t0
    return {
        "per_second": (after - before) / elapsed,
        "server_cpu": (cpu_server1 - cpu_server0) / elapsed,
        "client_cpu": (cpu_client1 - cpu_client0) / elapsed,
    }


async def run(ctx: Context) -> list[Result]:
    duration = ctx.seconds(3.0, 0.5)
    rounds = ctx.pick(2, 1)
    stack = processes.Stack(ctx.directory("redis"), log=ctx.log)
    results = []
    try:
        url = stack.start_redis()
        assert stack.redis is not None
        assert stack.redis.pid is not None
        server_pid = stack.redis.pid
        store = FencedRedisClient(url)
        bare = Redis.from_url(
            url,
            decode_responses=True,
            socket_connect_timeout=2.0,
            socket_timeout=2.0,
            retry=Retry(NoBackoff(), 0),
        )
        try:
            await store.connect()
            sha = await cast("Awaitable[str]", bare.script_load(TRIVIAL_SCRIPT))
            for tasks in (1, 16):
                generations = [
                    await store.claim_meeting(f"bench-{tasks}-{i}") for i in range(tasks)
                ]

                async def ours(
                    index: int, generations: list[int] = generations, prefix: str = f"bench-{tasks}"
                ) -> None:
                    await store.update_state(
                        f"{prefix}-{index}",
                        generation=generations[index],
                        fields={"muted": "1"},
                    )

                async def baseline(index: int) -> None:
                    await cast(
                        "Awaitable[object]", bare.evalsha(sha, 1, f"bench-bare-{index}", "1")
                    )

                measured: dict[str, list[dict[str, float]]] = {"ours": [], "baseline": []}
                for _ in range(rounds):
                    measured["baseline"].append(
                        await _rate(tasks, baseline, duration=duration, server_pid=server_pid)
                    )
                    measured["ours"].append(
                        await _rate(tasks, ours, duration=duration, server_pid=server_pid)
                    )
                mean = {side: _mean(runs) for side, runs in measured.items()}
                result = Result(
                    benchmark="redis",
                    name=f"redis-{tasks}",
                    title=f"fenced Redis writes, {tasks} task{'s' if tasks > 1 else ''}",
                    unit="writes/s",
                    ours=mean["ours"]["per_second"],
                    baseline=mean["baseline"]["per_second"],
                    baseline_label=f"bare EVALSHA `{TRIVIAL_SCRIPT}`",
                    goal=GOAL,
                    details={"rounds": measured, "mean": mean, "seconds_per_round": duration},
                    note=(
                        "update_state; CPU redis-server/bench client: ours "
                        f"{mean['ours']['server_cpu']:.2f}/{mean['ours']['client_cpu']:.2f}, "
                        f"bare {mean['baseline']['server_cpu']:.2f}/"
                        f"{mean['baseline']['client_cpu']:.2f} cores"
                    ),
                )
                result.compute_ratio()
                ctx.log(
                    f"  redis {tasks} task(s): ours {result.ours:,.0f}/s, "
                    f"bare {result.baseline:,.0f}/s ({result.note})"
                )
                results.append(result)
        finally:
            await store.close()
            await bare.aclose()
    finally:
        stack.close()
    return results


def _mean(runs: list[dict[str, float]]) -> dict[str, Any]:
    return {key: sum(run[key] for run in runs) / len(runs) for key in runs[0]}
