"""Smoke test of ``meeting-controller bench``: the quick, cheap benchmarks and the report files.

The heavy benchmarks (fan-out, joins, memory, drain) start MC processes and run for minutes;
they belong to ``make bench``, not to the suite. Here the planner (pure) and the Redis
benchmark (one throwaway server) run in ``--quick`` mode, and the three files are checked
for shape: valid JSON with a result per row, the markdown table, a decodable PNG.
"""

from __future__ import annotations

import json
import struct
import zlib
from pathlib import Path

import pytest

from meeting_controller import bench
from meeting_controller.bench import chart


def read_png(data: bytes) -> tuple[int, int, bytes]:
    """Width, height and the decompressed scanlines of an 8-bit RGB PNG (checks every CRC)."""
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    offset, idat, size = 8, b"", (0, 0)
    while offset < len(data):
        (length,) = struct.unpack(">I", data[offset : offset + 4])
        kind = data[offset + 4 : offset + 8]
        body = data[offset + 8 : offset + 8 + length]
        (crc,) = struct.unpack(">I", data[offset + 8 + length : offset + 12 + length])
        assert zlib.crc32(kind + body) & 0xFFFFFFFF == crc, kind
        if kind == b"IHDR":
            width, height, depth, color = struct.unpack(">IIBB", body[:10])
            assert (depth, color) == (8, 2)
            size = (width, height)
        elif kind == b"IDAT":
            idat += body
        offset += 12 + length
    raw = zlib.decompress(idat)
    assert len(raw) == size[1] * (1 + 3 * size[0])
    return size[0], size[1], raw


def test_quick_planner_and_redis_write_well_formed_files(tmp_path: Path) -> None:
    lines: list[str] = []
    code = bench.main(
        ["--quick", "--only", "planner", "--only", "redis", "--out", str(tmp_path)],
        out=lines.append,
    )
    assert code == 0, "\n".join(lines)

    document = json.loads((tmp_path / "results.json").read_text())
    assert document["quick"] is True
    assert document["machine"]["nproc"] >= 1
    assert document["machine"]["python"]
    assert "aioquic" in document["machine"]["libraries"]
    rows = {row["name"]: row for row in document["results"]}
    assert {"planner-steady", "planner-scale-down", "planner-rollout"} <= set(rows)
    assert {"redis-1", "redis-16"} <= set(rows)
    for row in rows.values():
        assert row["error"] is None
        assert row["ours"] > 0
        assert row["baseline"] > 0
        assert row["ratio"] == pytest.approx(row["ours"] / row["baseline"], rel=1e-3)
    assert rows["redis-16"]["goal"] == {"op": ">=", "value": 0.7}
    assert isinstance(rows["redis-16"]["met"], bool)
    assert rows["planner-rollout"]["goal"] is None

    markdown = (tmp_path / "RESULTS.md").read_text()
    assert "| benchmark | ours | baseline (same run) | ratio | goal | met? |" in markdown
    assert "fenced Redis writes, 16 tasks" in markdown
    assert "nproc" not in markdown  # the machine line is prose, not a dump
    assert "CPUs" in markdown

    width, height, _ = read_png((tmp_path / "ratios.png").read_bytes())
    assert width > 100
    assert height > 50


def test_unknown_benchmark_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        bench.main(["--only", "nonsense"])
    assert exit_info.value.code == 2
    assert "unknown benchmark" in capsys.readouterr().err


def test_the_chart_marks_met_and_unmet_goals_in_their_colours() -> None:
    bars = [
        chart.Bar(label="MET", ratio=0.8, goal_op=">=", goal=0.5),
        chart.Bar(label="NOT MET", ratio=2.0, goal_op="<=", goal=1.5),
    ]
    width, height, raw = read_png(chart.render(bars, title="T"))
    pixels = {
        tuple(raw[row * (1 + 3 * width) + 1 + 3 * x : row * (1 + 3 * width) + 4 + 3 * x])
        for row in range(height)
        for x in range(width)
    }
    assert chart.GREEN in pixels
    assert chart.RED in pixels
    assert chart.BLACK in pixels
    assert chart.render([], title="EMPTY").startswith(b"\x89PNG")
