"""The report: ``results.json``, ``RESULTS.md`` (the table) and ``ratios.png`` (the chart)."""

from __future__ import annotations

import datetime
import importlib.metadata
import json
import os
import platform
import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from meeting_controller import localdev
from meeting_controller.bench import chart
from meeting_controller.bench.model import Result

LIBRARIES = (
    "meeting-controller",
    "aioquic",
    "redis",
    "hiredis",
    "grpcio",
    "protobuf",
    "cryptography",
)
JSON_NAME = "results.json"
MARKDOWN_NAME = "RESULTS.md"
CHART_NAME = "ratios.png"


def machine() -> dict[str, Any]:
    """nproc, CPU model, memory, OS, Python and library versions, the Redis server used."""
    cpu_model = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu_model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory_bytes = 0
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory_bytes = int(line.split()[1]) * 1024
    except OSError:
        pass
    versions: dict[str, str] = {}
    for name in LIBRARIES:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return {
        "nproc": os.cpu_count() or 0,
        "cpu_model": cpu_model,
        "memory_bytes": memory_bytes,
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "python_implementation": platform.python_implementation(),
        "libraries": versions,
        "redis_server": _redis_server_version(),
    }


def _redis_server_version() -> str:
    try:
        binary = localdev.find_server_binary()
    except localdev.RedisServerError:
        return "none found"
    try:
        answer = subprocess.run(
            [binary, "--version"], capture_output=True, text=True, timeout=10, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return Path(binary).name
    words = answer.stdout.split()
    return " ".join(words[:3]) if words else Path(binary).name


def _fmt(value: float | None, unit: str) -> str:
    if value is None:
        return "-"
    if unit == "ms":
        return f"{value:.1f} ms" if value < 100 else f"{value:,.0f} ms"
    if unit == "s":
        return f"{value:.2f} s"
    if unit == "KiB":
        return f"{value:.1f} KiB"
    if unit == "µs":
        return f"{value:,.0f} µs"
    if value >= 100:
        return f"{value:,.0f} {unit}".rstrip()
    return f"{value:.2f} {unit}".rstrip()


def markdown_table(results: Sequence[Result]) -> list[str]:
    lines = [
        "| benchmark | ours | baseline (same run) | ratio | goal | met? |",
        "|---|---|---|---|---|---|",
    ]
    for r in results:
        if r.error is not None:
            lines.append(f"| {r.title} | error: {r.error} | - | - | - | - |")
            continue
        ratio = "-" if r.ratio is None else f"{r.ratio:.2f}"
        goal = "-" if r.goal is None else f"ratio {r.goal}"
        met = {True: "yes", False: "**no**", None: "-"}[r.met]
        baseline = _fmt(r.baseline, r.unit)
        if r.baseline is not None and r.baseline_label:
            baseline = f"{baseline} ({r.baseline_label})"
        lines.append(
            f"| {r.title} | {_fmt(r.ours, r.unit)} | {baseline} | {ratio} | {goal} | {met} |"
        )
    return lines


def markdown(
    results: Sequence[Result], *, info: dict[str, Any], quick: bool, date: str, seconds: float
) -> str:
    libraries = ", ".join(f"{k} {v}" for k, v in info["libraries"].items())
    out = [
        "# Benchmark results",
        "",
        "Written by `meeting-controller bench`"
        + (" --quick (small sizes: not representative)" if quick else "")
        + ". Every ratio compares two measurements taken in the same run on the same machine; "
        "absolute figures swing 3-20 % from run to run, ratios much less.",
        "",
        f"* date: {date} (the run took {seconds:.0f} s)",
        f"* machine: {info['nproc']} CPUs ({info['cpu_model']}), "
        f"{info['memory_bytes'] / 2**30:.1f} GiB memory, {info['os']}",
        f"* Python {info['python']} ({info['python_implementation']}); {libraries}",
        f"* Redis-protocol server: {info['redis_server']}",
        "",
        *markdown_table(results),
        "",
        "## Notes per benchmark",
        "",
    ]
    for r in results:
        if r.note or r.error:
            out.append(f"* **{r.title}**: {r.error or r.note}")
    out.append("")
    return "\n".join(out)


def write(directory: Path, results: Sequence[Result], *, quick: bool, started: float) -> list[Path]:
    """Write the three files into ``directory``; return their paths."""
    directory.mkdir(parents=True, exist_ok=True)
    info = machine()
    now = datetime.datetime.now(datetime.UTC)
    date = now.strftime("%Y-%m-%d %H:%M:%S UTC")
    seconds = now.timestamp() - started
    document = {
        "schema": 1,
        "date": date,
        "quick": quick,
        "seconds": round(seconds, 1),
        "machine": info,
        "results": [r.to_json() for r in results],
    }
    json_path = directory / JSON_NAME
    _atomic_write(json_path, json.dumps(document, indent=2, ensure_ascii=False) + "\n")
    md_path = directory / MARKDOWN_NAME
    _atomic_write(md_path, markdown(results, info=info, quick=quick, date=date, seconds=seconds))
    png_path = directory / CHART_NAME
    bars = [
        chart.Bar(
            label=r.name.upper(),
            ratio=r.ratio,
            goal_op=r.goal.op,
            goal=r.goal.value,
        )
        for r in results
        if r.goal is not None and r.ratio is not None and r.error is None
    ]
    tmp = png_path.with_suffix(".png.tmp")
    tmp.write_bytes(chart.render(bars, title="OURS / BASELINE (SAME RUN) VS GOAL"))
    tmp.replace(png_path)
    return [json_path, md_path, png_path]


def _atomic_write(path: Path, text: str) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
