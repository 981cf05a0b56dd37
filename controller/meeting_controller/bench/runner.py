"""The ``meeting-controller bench`` command: run the selected benchmarks, write the report."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import importlib
import shutil
import signal
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path

from meeting_controller.bench import report
from meeting_controller.bench.context import Context
from meeting_controller.bench.model import Result

#: ``--only`` names, in the order they run, and the module that implements each.
BENCHMARKS: dict[str, str] = {
    "planner": "meeting_controller.bench.planner",
    "redis": "meeting_controller.bench.store",
    "fanout": "meeting_controller.bench.fanout",
    "join": "meeting_controller.bench.join",
    "memory": "meeting_controller.bench.memory",
    "drain": "meeting_controller.bench.drain",
}
#: How long one benchmark may take, setup included, before it is abandoned (and cleaned up).
TIME_LIMIT_S = {True: 120.0, False: 420.0}
EXIT_OK = 0
EXIT_FAILED = 1


def _parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="meeting-controller bench",
        description="Benchmark the Meeting Controller side by side with the raw limits of the "
        "libraries underneath (same run), and write results.json, RESULTS.md and ratios.png.",
    )
    parser.add_argument(
        "--quick", action="store_true", help="small sizes and short runs (smoke test)"
    )
    parser.add_argument(
        "--only",
        action="append",
        metavar="NAME",
        help="run only this benchmark (repeatable, or comma-separated): " + ", ".join(BENCHMARKS),
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=Path("bench"),
        help="directory of the report files (default: %(default)s)",
    )
    parser.add_argument(
        "--keep-workdir",
        action="store_true",
        help="keep the directory with the children's logs even when everything went well",
    )
    options = parser.parse_args(list(argv))
    selected: list[str] = []
    for item in options.only or list(BENCHMARKS):
        for name in item.split(","):
            name = name.strip()
            if name not in BENCHMARKS:
                parser.error(f"unknown benchmark {name!r}; choose from {', '.join(BENCHMARKS)}")
            if name not in selected:
                selected.append(name)
    options.selected = [name for name in BENCHMARKS if name in selected]
    return options


class BenchTimeout(Exception):
    """A benchmark ran past its time limit (and was cancelled, its processes stopped)."""


async def _run_one(name: str, ctx: Context) -> list[Result]:
    module = importlib.import_module(BENCHMARKS[name])
    run: Callable[[Context], object] = module.run
    task = asyncio.current_task()
    loop = asyncio.get_running_loop()
    began = loop.time()
    if task is not None:
        loop.add_signal_handler(signal.SIGTERM, task.cancel)
    try:
        limit = TIME_LIMIT_S[ctx.quick]
        try:
            async with asyncio.timeout(limit):
                results = await run(ctx)  # type: ignore[misc]
        except TimeoutError as error:
            if loop.time() < began + limit:
                raise  # a timeout inside the benchmark
            raise BenchTimeout(f"did not finish within {limit:.0f} s") from error
    finally:
        with contextlib.suppress(Exception):
            loop.remove_signal_handler(signal.SIGTERM)
    assert isinstance(results, list)
    return results


def main(argv: Sequence[str] | None = None, *, out: Callable[[str], None] | None = None) -> int:
    """Run the benchmarks; 0 when every one ran (goals not met are reported, not failures)."""
    log = out or functools.partial(print, flush=True)
    options = _parse_args(sys.argv[1:] if argv is None else argv)
    workdir = Path(tempfile.mkdtemp(prefix="mc-bench-"))
    ctx = Context(workdir=workdir, quick=options.quick, log=log)
    mode = "quick" if options.quick else "full"
    log(f"meeting-controller bench ({mode}): {', '.join(options.selected)}; logs in {workdir}")
    results: list[Result] = []
    failed = False
    started = time.time()
    for name in options.selected:
        log(f"[{name}] running ...")
        began = time.monotonic()
        try:
            produced = asyncio.run(_run_one(name, ctx))
        except KeyboardInterrupt:
            log("interrupted; every process the bench started was stopped")
            return 130
        except BaseException as error:  # report it and go on with the next benchmark
            if isinstance(error, asyncio.CancelledError):
                log("interrupted; every process the bench started was stopped")
                return 130
            failed = True
            message = f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
            log(f"[{name}] FAILED: {message}")
            log("".join(traceback.format_exception(error)).rstrip())
            produced = [Result(benchmark=name, name=name, title=name, unit="", error=message[:500])]
        log(f"[{name}] done in {time.monotonic() - began:.1f} s")
        results.extend(produced)
    paths = report.write(options.out, results, quick=options.quick, started=started)
    for line in report.markdown_table(results):
        log(line)
    log("wrote " + ", ".join(str(p) for p in paths))
    if failed or options.keep_workdir:
        log(f"logs of the children kept in {workdir}")
    else:
        shutil.rmtree(workdir, ignore_errors=True)
    return EXIT_FAILED if failed else EXIT_OK
