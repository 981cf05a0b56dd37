"""``meeting-controller demo`` (``make demo``): a real MC on this machine, explained.

The demo is a small *supervisor of child processes*: it starts real ``meeting-controller run``
processes (today one MC; later Redis, the reference GC and several MCs), waits until they
answer, shows what they serve, and on Ctrl-C, SIGTERM, ``--duration`` or any error stops
every child it started: SIGTERM, a bounded wait, then SIGKILL. Children run in their own
session (a terminal's Ctrl-C reaches only the demo, which then stops them in order) and, on
Linux, are asked to get SIGTERM should the demo itself die without cleaning up.

Everything listens on 127.0.0.1 on free ports, so the demo needs no configuration and does
not collide with anything already running; ``MC_*`` variables of the calling shell are
ignored so that it always shows the embedded defaults.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import functools
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import FrameType, TracebackType

MC_ID = "demo-mc-1"
HOST = "127.0.0.1"
#: How long an MC may take to answer /healthz after it was started.
STARTUP_TIMEOUT_SECONDS = 20.0
#: How long a child gets between SIGTERM and SIGKILL (the MC's own deadlines are shorter).
STOP_TIMEOUT_SECONDS = 15.0
#: Metrics the status shows (prefix match on the exposition lines).
SHOWN_METRICS = (
    "mc_meetings_active",
    "mc_participants_active",
    "mc_connections_active",
    "mc_actor_mailbox_depth",
    "mc_actor_failures_total",
)
_PR_SET_PDEATHSIG = 1
EXIT_INTERRUPTED = 130


class DemoError(Exception):
    """The demo could not do what it set out to do; the message says what to look at."""


class _Terminated(BaseException):
    """Raised from the SIGTERM handler so the demo unwinds (and cleans up) like on Ctrl-C."""


@dataclass
class Child:
    """A process the supervisor started: its name, the ``Popen`` and where its output goes."""

    name: str
    process: subprocess.Popen[bytes]
    log_path: Path

    @property
    def pid(self) -> int:
        return self.process.pid


class Supervisor:
    """Starts child processes and guarantees that each one is gone when the block exits.

    Use as a context manager: on normal exit *and* on any exception (including Ctrl-C) every
    child still running is stopped, newest first. Children are stopped by their own PID only.
    """

    def __init__(self, *, log_dir: Path, stop_timeout: float = STOP_TIMEOUT_SECONDS) -> None:
        self.log_dir = log_dir
        self.stop_timeout = stop_timeout
        self._children: list[Child] = []

    def __enter__(self) -> Supervisor:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def start(self, *, name: str, argv: Sequence[str], env: Mapping[str, str]) -> Child:
        """Start ``argv`` with exactly ``env``; its stdout and stderr go to ``<name>.log``."""
        self.log_dir.mkdir(parents=True, exist_ok=True)
        log_path = self.log_dir / f"{name}.log"
        with log_path.open("wb") as log_file:
            process = subprocess.Popen(
                list(argv),
                env=dict(env),
                stdin=subprocess.DEVNULL,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=_die_with_parent if sys.platform == "linux" else None,
            )
        child = Child(name=name, process=process, log_path=log_path)
        self._children.append(child)
        return child

    def stop(self, child: Child, *, timeout: float | None = None) -> int:
        """SIGTERM, wait up to ``timeout`` seconds, then SIGKILL; return the exit code.

        A negative code means the child ended by that signal (``-9``: it had to be killed).
        """
        timeout = self.stop_timeout if timeout is None else timeout
        process = child.process
        try:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(timeout=timeout)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
        finally:
            if process.poll() is None:  # interrupted while waiting: do not leave it behind
                process.kill()
                process.wait()
            if child in self._children:
                self._children.remove(child)
        return process.returncode

    def close(self) -> None:
        """Stop every child still running, newest first."""
        while self._children:
            self.stop(self._children[-1])


def _die_with_parent() -> None:
    """In the child, before exec: ask Linux to send SIGTERM when the demo process dies."""
    with contextlib.suppress(Exception):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)


def free_port(kind: int = socket.SOCK_STREAM) -> int:
    """A port on 127.0.0.1 that is free right now (TCP by default, UDP with SOCK_DGRAM)."""
    with socket.socket(socket.AF_INET, kind) as probe:
        probe.bind((HOST, 0))
        port: int = probe.getsockname()[1]
        return port


def http_get(url: str, *, timeout: float = 2.0) -> tuple[int, str]:
    """GET ``url``; return ``(status, body)`` for any HTTP answer, including 4xx/5xx."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status, response.read().decode("utf-8", errors="replace")
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode("utf-8", errors="replace")


def wait_for_http(url: str, *, child: Child, timeout: float) -> float:
    """Poll ``url`` until it answers 200; return the seconds it took.

    Fails fast when the child exits meanwhile, instead of waiting out the timeout.
    """
    started = time.monotonic()
    while True:
        code = child.process.poll()
        if code is not None:
            raise DemoError(f"{child.name} exited with code {code} while starting")
        with contextlib.suppress(OSError):
            status, _ = http_get(url, timeout=1.0)
            if status == 200:
                return time.monotonic() - started
        if time.monotonic() - started > timeout:
            raise DemoError(f"{child.name} did not answer {url} within {timeout:.0f} s")
        time.sleep(0.05)


def mc_metric_lines(exposition: str, names: Sequence[str] = SHOWN_METRICS) -> list[str]:
    """The sample lines of the Prometheus text ``exposition`` for the given metric names."""
    return [
        line
        for line in exposition.splitlines()
        if not line.startswith("#") and line.split("{", 1)[0].split(" ", 1)[0] in names
    ]


def _parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="meeting-controller demo",
        description="Start a Meeting Controller on 127.0.0.1 (free ports, embedded defaults), "
        "show its endpoints and metrics, and stop it cleanly on Ctrl-C.",
    )
    parser.add_argument(
        "--duration",
        type=_non_negative_seconds,
        metavar="SECONDS",
        help="stop by itself after SECONDS (default: run until Ctrl-C or SIGTERM)",
    )
    parser.add_argument(
        "--log-dir",
        type=Path,
        metavar="DIR",
        help="where the children's logs go (default: a new temporary directory)",
    )
    return parser.parse_args(list(argv))


def _non_negative_seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 <= value < 1e6:
        raise argparse.ArgumentTypeError(f"expected a number of seconds >= 0, got {text!r}")
    return value


def _mc_environment(*, http_port: int, grpc_port: int, webtransport_port: int) -> dict[str, str]:
    """The calling environment without its ``MC_*`` variables, plus the demo's settings."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("MC_")}
    env.update(
        {
            "MC_ID": MC_ID,
            "MC_REGION": "local",
            "MC_HTTP_LISTEN": f"{HOST}:{http_port}",
            "MC_GRPC_LISTEN": f"{HOST}:{grpc_port}",
            "MC_GRPC_ADVERTISE": f"{HOST}:{grpc_port}",
            "MC_WEBTRANSPORT_LISTEN": f"{HOST}:{webtransport_port}",
            "MC_WEBTRANSPORT_ADVERTISE": f"https://{HOST}:{webtransport_port}/",
            "MC_LOG_FORMAT": "text",
        }
    )
    return env


@contextlib.contextmanager
def _sigterm_unwinds() -> Iterator[None]:
    """While inside, SIGTERM unwinds the demo like Ctrl-C does (so cleanup always runs)."""

    def on_sigterm(signum: int, frame: FrameType | None) -> None:
        raise _Terminated

    previous = signal.signal(signal.SIGTERM, on_sigterm)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def main(argv: Sequence[str] | None = None, *, out: Callable[[str], None] | None = None) -> int:
    """Run the demo; 0 when every child started, answered and stopped cleanly.

    ``out`` receives each status line (default: print and flush, so that the lines show up at
    once even when stdout is a pipe or a file).
    """
    if out is None:
        out = functools.partial(print, flush=True)
    options = _parse_args(sys.argv[1:] if argv is None else argv)
    log_dir = options.log_dir or Path(tempfile.mkdtemp(prefix="meeting-controller-demo-"))
    try:
        with _sigterm_unwinds(), Supervisor(log_dir=log_dir) as supervisor:
            return _demo(supervisor, duration=options.duration, out=out)
    except DemoError as error:
        out(f"demo failed: {error}")
        out(f"logs: {log_dir}")
        return 1
    except (KeyboardInterrupt, _Terminated):
        # Interrupted again while stopping: the supervisor has killed its children by now.
        out("interrupted; every child process was stopped")
        return EXIT_INTERRUPTED


def _demo(supervisor: Supervisor, *, duration: float | None, out: Callable[[str], None]) -> int:
    http_port, grpc_port = free_port(), free_port()
    webtransport_port = free_port(socket.SOCK_DGRAM)
    base = f"http://{HOST}:{http_port}"
    out("Meeting Controller demo")
    mc = supervisor.start(
        name=MC_ID,
        argv=[sys.executable, "-m", "meeting_controller.cli", "run"],
        env=_mc_environment(
            http_port=http_port, grpc_port=grpc_port, webtransport_port=webtransport_port
        ),
    )
    interrupted = False
    try:
        took = wait_for_http(f"{base}/healthz", child=mc, timeout=STARTUP_TIMEOUT_SECONDS)
        out(f"  MC {MC_ID} started (pid {mc.pid}), healthy after {took:.1f} s")
        out(f"  logs        {mc.log_path}")
        _show_status(base, grpc_port=grpc_port, webtransport_port=webtransport_port, out=out)
        _wait(mc, duration=duration, out=out)
    except (KeyboardInterrupt, _Terminated):
        interrupted = True
        out("")
    except DemoError:
        _show_log_tail(mc, out=out)
        raise
    out(f"Stopping MC {MC_ID} (pid {mc.pid}) with SIGTERM ...")
    started = time.monotonic()
    code = supervisor.stop(mc)
    took = time.monotonic() - started
    if code != 0:
        out(f"  MC {MC_ID} exited with code {code} after {took:.1f} s (see {mc.log_path})")
        _show_log_tail(mc, out=out)
        return 1
    out(f"  MC {MC_ID} exited cleanly (code 0) in {took:.1f} s{' (interrupted)' * interrupted}")
    return 0


def _show_status(
    base: str, *, grpc_port: int, webtransport_port: int, out: Callable[[str], None]
) -> None:
    status, body = http_get(f"{base}/healthz")
    out(f"  liveness    {base}/healthz -> {status} {body.strip()}")
    status, body = http_get(f"{base}/readyz")
    try:
        answer = json.loads(body)
        readiness = f"ready={answer['ready']} ({answer['reason']})"
    except (ValueError, KeyError, TypeError):
        readiness = body.strip()
    out(f"  readiness   {base}/readyz  -> {status} {readiness}")
    _, exposition = http_get(f"{base}/metrics")
    out(f"  metrics     {base}/metrics")
    for line in mc_metric_lines(exposition):
        out(f"                {line}")
    out(f"  gRPC        {HOST}:{grpc_port} (configured; the server arrives with a later release)")
    out(
        f"  WebTransport https://{HOST}:{webtransport_port}/ "
        "(configured; the server arrives with a later release)"
    )


def _wait(mc: Child, *, duration: float | None, out: Callable[[str], None]) -> None:
    """Wait for ``duration`` seconds (or forever); fail if the MC exits on its own."""
    if duration is None:
        out("Running. Press Ctrl-C to stop.")
    else:
        out(f"Running for {duration:g} s (Ctrl-C stops sooner).")
    deadline = None if duration is None else time.monotonic() + duration
    while deadline is None or time.monotonic() < deadline:
        code = mc.process.poll()
        if code is not None:
            raise DemoError(f"{mc.name} exited on its own with code {code}")
        remaining = 0.2 if deadline is None else min(0.2, deadline - time.monotonic())
        time.sleep(max(remaining, 0.0))


def _show_log_tail(child: Child, *, out: Callable[[str], None], lines: int = 15) -> None:
    with contextlib.suppress(OSError):
        tail = child.log_path.read_text(errors="replace").splitlines()[-lines:]
        if tail:
            out(f"  last lines of {child.log_path}:")
            for line in tail:
                out(f"    {line}")
