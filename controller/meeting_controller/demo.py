"""``meeting-controller demo`` (``make demo``): a small real fleet on this machine, explained.

The demo is a small *supervisor of child processes*: it starts a throwaway Redis (unless
``--redis-url`` names one), the reference GC (``meeting-controller gc``, handing out a 1 s fast
heartbeat so the fleet view moves quickly) and ``--mcs`` real ``meeting-controller run``
processes, waits until every MC is registered with the GC, then shows a table of the fleet as
the GC sees it, refreshed every couple of seconds. On Ctrl-C, SIGTERM, ``--duration`` or any
error it stops every child it started, MCs first: SIGTERM, a bounded wait, then SIGKILL.
Children run in their own session (a terminal's Ctrl-C reaches only the demo, which then stops
them in order) and, on Linux, are asked to get SIGTERM should the demo itself die without
cleaning up.

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
from typing import Any

from meeting_controller import localdev

MC_ID_PREFIX = "demo-mc-"
REGION = "local"
HOST = "127.0.0.1"
#: How many MCs the demo starts unless ``--mcs`` says otherwise, and at most.
DEFAULT_MCS = 3
MAX_MCS = 20
#: How long Redis, the GC or an MC may take to answer after it was started.
STARTUP_TIMEOUT_SECONDS = 20.0
#: How long the MCs may take, together, to register with the GC once they answer.
REGISTRATION_TIMEOUT_SECONDS = 20.0
#: How often the fleet table is printed again.
REFRESH_SECONDS = 2.0
#: The fast heartbeat the GC hands the demo's MCs (the default, 10 s, is slow to watch).
FAST_HEARTBEAT_MS = 1000
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

    @property
    def children(self) -> tuple[Child, ...]:
        """The children started and not stopped yet, oldest first."""
        return tuple(self._children)

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

    def answers() -> bool:
        with contextlib.suppress(OSError):
            return http_get(url, timeout=1.0)[0] == 200
        return False

    return _wait_until(answers, child=child, what=f"answer {url}", timeout=timeout)


def _wait_until(check: Callable[[], bool], *, child: Child, what: str, timeout: float) -> float:
    """Poll ``check`` until it is true; return the seconds it took; fail if ``child`` exits."""
    started = time.monotonic()
    while True:
        code = child.process.poll()
        if code is not None:
            raise DemoError(f"{child.name} exited with code {code} while starting")
        if check():
            return time.monotonic() - started
        if time.monotonic() - started > timeout:
            raise DemoError(f"{child.name} did not {what} within {timeout:.0f} s")
        time.sleep(0.05)


def mc_metric_lines(exposition: str, names: Sequence[str] = SHOWN_METRICS) -> list[str]:
    """The sample lines of the Prometheus text ``exposition`` for the given metric names."""
    return [
        line
        for line in exposition.splitlines()
        if not line.startswith("#") and line.split("{", 1)[0].split(" ", 1)[0] in names
    ]


def fleet_table(mcs: Sequence[Mapping[str, Any]], expected: Sequence[str]) -> list[str]:
    """The fleet as ``GET /v1/mcs`` lists it, one line per expected MC id (pure)."""
    by_id = {str(mc.get("mc_id")): mc for mc in mcs}
    rows = [("MC", "registered", "meetings", "participants", "last heartbeat")]
    for mc_id in expected:
        mc = by_id.get(mc_id)
        if mc is None:
            rows.append((mc_id, "no", "-", "-", "-"))
            continue
        state = str(mc.get("state", "?"))
        if not mc.get("alive"):
            registered = "no (silent)"
        elif state == "active":
            registered = "yes"
        else:
            registered = f"yes ({state})"
        rows.append(
            (
                mc_id,
                registered,
                f"{mc.get('current_meetings', 0)}/{mc.get('max_meetings', '?')}",
                f"{mc.get('current_participants', 0)}/{mc.get('max_participants', '?')}",
                f"{float(mc.get('seconds_since_heartbeat', 0.0)):.1f} s ago",
            )
        )
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]))]
    return [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in rows
    ]


def _parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="meeting-controller demo",
        description="Start a small fleet on 127.0.0.1 (free ports, embedded defaults): a "
        "throwaway Redis, the reference GC and --mcs Meeting Controllers; show the fleet as the "
        "GC sees it, and stop every process cleanly on Ctrl-C.",
    )
    parser.add_argument(
        "--mcs",
        type=_mc_count,
        default=DEFAULT_MCS,
        metavar="N",
        help=f"how many MCs to start, ids {MC_ID_PREFIX}1..N (default: %(default)s)",
    )
    parser.add_argument(
        "--redis-url",
        metavar="URL",
        help="use this Redis (redis://HOST:PORT/DB) instead of starting a throwaway one",
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


def _mc_count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if not 1 <= value <= MAX_MCS:
        raise argparse.ArgumentTypeError(
            f"expected a number of MCs from 1 to {MAX_MCS}, got {text!r}"
        )
    return value


def _mcs(count: int) -> str:
    return "1 MC" if count == 1 else f"{count} MCs"


def _clean_environment() -> dict[str, str]:
    """The calling environment without its ``MC_*`` variables."""
    return {name: value for name, value in os.environ.items() if not name.startswith("MC_")}


@dataclass(frozen=True)
class _Mc:
    """One demo MC: its id, its ports and its process."""

    mc_id: str
    http_port: int
    grpc_port: int
    webtransport_port: int
    child: Child

    @property
    def base(self) -> str:
        return f"http://{HOST}:{self.http_port}"


def _mc_environment(
    *,
    mc_id: str,
    http_port: int,
    grpc_port: int,
    webtransport_port: int,
    redis_url: str,
    gc_endpoint: str,
    public_key_file: Path,
) -> dict[str, str]:
    """The calling environment without its ``MC_*`` variables, plus the demo's settings."""
    env = _clean_environment()
    env.update(
        {
            "MC_ID": mc_id,
            "MC_REGION": REGION,
            "MC_REDIS_URL": redis_url,
            "MC_GC_ENDPOINT": gc_endpoint,
            "MC_JOIN_TOKEN_PUBLIC_KEY_FILE": str(public_key_file),
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
            return _demo(supervisor, options, out=out)
    except DemoError as error:
        out(f"demo failed: {error}")
        out(f"logs: {log_dir}")
        return 1
    except (KeyboardInterrupt, _Terminated):
        # Interrupted again while stopping: the supervisor has killed its children by now.
        out("interrupted; every child process was stopped")
        return EXIT_INTERRUPTED


def _demo(
    supervisor: Supervisor, options: argparse.Namespace, *, out: Callable[[str], None]
) -> int:
    out(f"Meeting Controller demo: Redis, the reference GC and {_mcs(options.mcs)}")
    out(f"  logs        {supervisor.log_dir}")
    interrupted = False
    try:
        redis_url = options.redis_url
        if redis_url:
            out(f"  Redis       {redis_url} (given with --redis-url)")
        else:
            redis_url = _start_redis(supervisor, out=out)
        gc_endpoint, gc_http = _start_gc(supervisor, out=out)
        mcs = _start_mcs(
            supervisor, count=options.mcs, redis_url=redis_url, gc_endpoint=gc_endpoint, out=out
        )
        _wait_for_registration(supervisor, gc_http=gc_http, mcs=mcs, out=out)
        _show_endpoints(mcs, out=out)
        _watch(supervisor, gc_http=gc_http, mcs=mcs, duration=options.duration, out=out)
    except (KeyboardInterrupt, _Terminated):
        interrupted = True
        out("")
    except DemoError:
        _show_log_tails(supervisor, out=out)
        raise
    return _stop_all(supervisor, interrupted=interrupted, out=out)


def _start_redis(supervisor: Supervisor, *, out: Callable[[str], None]) -> str:
    """Start a throwaway Redis-protocol server; return its URL."""
    try:
        binary = localdev.find_server_binary()
    except localdev.RedisServerError as error:
        raise DemoError(str(error)) from None
    port = free_port()
    data_dir = supervisor.log_dir / "redis-data"
    data_dir.mkdir(parents=True, exist_ok=True)
    redis = supervisor.start(
        name="redis",
        argv=localdev.server_argv(binary, host=HOST, port=port, data_dir=data_dir),
        env=_clean_environment(),
    )
    took = _wait_until(
        lambda: localdev.answers_ping(host=HOST, port=port),
        child=redis,
        what=f"answer PING on {HOST}:{port}",
        timeout=STARTUP_TIMEOUT_SECONDS,
    )
    url = f"redis://{HOST}:{port}/0"
    out(f"  Redis       {url} ({Path(binary).name}, pid {redis.pid}), up after {took:.1f} s")
    return url


def _start_gc(supervisor: Supervisor, *, out: Callable[[str], None]) -> tuple[str, str]:
    """Start the reference GC; return its gRPC endpoint and its HTTP base URL."""
    grpc_port, http_port = free_port(), free_port()
    gc = supervisor.start(
        name="gc",
        argv=[
            sys.executable,
            "-m",
            "meeting_controller.cli",
            "gc",
            "--grpc-listen",
            f"{HOST}:{grpc_port}",
            "--http-listen",
            f"{HOST}:{http_port}",
            "--fast-heartbeat-ms",
            str(FAST_HEARTBEAT_MS),
            "--region",
            REGION,
            "--public-key-out",
            str(_public_key_file(supervisor)),
        ],
        env=_clean_environment(),
    )
    gc_http = f"http://{HOST}:{http_port}"
    took = wait_for_http(f"{gc_http}/v1/mcs", child=gc, timeout=STARTUP_TIMEOUT_SECONDS)
    out(
        f"  GC          gRPC {HOST}:{grpc_port}, fleet {gc_http}/v1/mcs "
        f"(pid {gc.pid}), up after {took:.1f} s"
    )
    return f"{HOST}:{grpc_port}", gc_http


def _public_key_file(supervisor: Supervisor) -> Path:
    """Where the GC writes the public key of its join tokens, for the MCs to verify them."""
    return supervisor.log_dir / "gc-public-key.pem"


def _start_mcs(
    supervisor: Supervisor,
    *,
    count: int,
    redis_url: str,
    gc_endpoint: str,
    out: Callable[[str], None],
) -> list[_Mc]:
    """Start ``count`` MCs at once, then wait for each one's ``/healthz``."""
    mcs = []
    for index in range(1, count + 1):
        mc_id = f"{MC_ID_PREFIX}{index}"
        http_port, grpc_port = free_port(), free_port()
        webtransport_port = free_port(socket.SOCK_DGRAM)
        child = supervisor.start(
            name=mc_id,
            argv=[sys.executable, "-m", "meeting_controller.cli", "run"],
            env=_mc_environment(
                mc_id=mc_id,
                http_port=http_port,
                grpc_port=grpc_port,
                webtransport_port=webtransport_port,
                redis_url=redis_url,
                gc_endpoint=gc_endpoint,
                public_key_file=_public_key_file(supervisor),
            ),
        )
        mcs.append(_Mc(mc_id, http_port, grpc_port, webtransport_port, child))
    for mc in mcs:
        took = wait_for_http(f"{mc.base}/healthz", child=mc.child, timeout=STARTUP_TIMEOUT_SECONDS)
        out(f"  MC {mc.mc_id} started (pid {mc.child.pid}), healthy after {took:.1f} s")
    return mcs


def _fleet(gc_http: str) -> list[dict[str, Any]]:
    """``GET /v1/mcs`` of the GC; raises ``OSError`` or ``ValueError`` when it cannot."""
    status, body = http_get(f"{gc_http}/v1/mcs")
    if status != 200:
        raise ValueError(f"GET /v1/mcs answered {status}")
    mcs: list[dict[str, Any]] = json.loads(body)["mcs"]
    return mcs


def _registered(fleet: Sequence[Mapping[str, Any]]) -> set[str]:
    return {str(mc["mc_id"]) for mc in fleet if mc.get("alive")}


def _wait_for_registration(
    supervisor: Supervisor, *, gc_http: str, mcs: Sequence[_Mc], out: Callable[[str], None]
) -> None:
    """Wait until the GC lists every MC as alive; fail fast if any child exits."""
    expected = {mc.mc_id for mc in mcs}
    started = time.monotonic()
    missing = expected
    while True:
        _check_children(supervisor)
        with contextlib.suppress(OSError, ValueError, KeyError):
            missing = expected - _registered(_fleet(gc_http))
            if not missing:
                break
        if time.monotonic() - started > REGISTRATION_TIMEOUT_SECONDS:
            raise DemoError(
                f"not registered with the GC within {REGISTRATION_TIMEOUT_SECONDS:.0f} s: "
                + ", ".join(sorted(missing))
            )
        time.sleep(0.1)
    took = time.monotonic() - started
    every = "the MC" if len(mcs) == 1 else f"all {len(mcs)} MCs"
    out(f"  {every} registered with the GC after {took:.1f} s")


def _show_endpoints(mcs: Sequence[_Mc], *, out: Callable[[str], None]) -> None:
    for mc in mcs:
        status, body = http_get(f"{mc.base}/readyz")
        try:
            answer = json.loads(body)
            readiness = f"ready={answer['ready']} ({answer['reason']})"
        except (ValueError, KeyError, TypeError):
            readiness = body.strip()
        out(f"  {mc.mc_id}   {mc.base}/readyz -> {status} {readiness}")
        out(f"              gRPC {HOST}:{mc.grpc_port}, metrics {mc.base}/metrics")
    first = mcs[0]
    _, exposition = http_get(f"{first.base}/metrics")
    out(f"  metrics of {first.mc_id}:")
    for line in mc_metric_lines(exposition):
        out(f"                {line}")


def _watch(
    supervisor: Supervisor,
    *,
    gc_http: str,
    mcs: Sequence[_Mc],
    duration: float | None,
    out: Callable[[str], None],
) -> None:
    """Show the fleet table every few seconds for ``duration`` seconds (or until interrupted).

    Fails when a child exits on its own.
    """
    expected = [mc.mc_id for mc in mcs]
    _show_fleet(gc_http, expected, out=out)
    if duration is None:
        out("Running. Press Ctrl-C to stop.")
    else:
        out(f"Running for {duration:g} s (Ctrl-C stops sooner).")
    deadline = None if duration is None else time.monotonic() + duration
    next_table = time.monotonic() + REFRESH_SECONDS
    while deadline is None or time.monotonic() < deadline:
        _check_children(supervisor)
        if time.monotonic() >= next_table:
            _show_fleet(gc_http, expected, out=out)
            next_table = time.monotonic() + REFRESH_SECONDS
        remaining = 0.2 if deadline is None else min(0.2, deadline - time.monotonic())
        time.sleep(max(remaining, 0.0))


def _show_fleet(gc_http: str, expected: Sequence[str], *, out: Callable[[str], None]) -> None:
    try:
        fleet = _fleet(gc_http)
    except (OSError, ValueError, KeyError) as error:
        out(f"[{time.strftime('%H:%M:%S')}] the GC did not answer {gc_http}/v1/mcs: {error}")
        return
    out(f"[{time.strftime('%H:%M:%S')}] the fleet as the GC sees it:")
    for line in fleet_table(fleet, expected):
        out(f"  {line}")


def _check_children(supervisor: Supervisor) -> None:
    for child in supervisor.children:
        code = child.process.poll()
        if code is not None:
            raise DemoError(f"{child.name} exited on its own with code {code}")


def _label(child: Child) -> str:
    if child.name == "redis":
        return "Redis"
    if child.name == "gc":
        return "GC"
    return f"MC {child.name}"


def _stop_all(supervisor: Supervisor, *, interrupted: bool, out: Callable[[str], None]) -> int:
    """Stop every child, newest first (the MCs, then the GC, then Redis); 0 if all exit 0."""
    children = list(reversed(supervisor.children))
    out(f"Stopping {len(children)} processes with SIGTERM ...")
    failed = False
    for child in children:
        started = time.monotonic()
        code = supervisor.stop(child)
        took = time.monotonic() - started
        if code == 0:
            suffix = " (interrupted)" if interrupted else ""
            out(f"  {_label(child)} exited cleanly (code 0) in {took:.1f} s{suffix}")
        else:
            failed = True
            out(f"  {_label(child)} exited with code {code} after {took:.1f} s")
            _show_log_tail(child, out=out)
    return 1 if failed else 0


def _show_log_tails(supervisor: Supervisor, *, out: Callable[[str], None]) -> None:
    """The end of the logs of the children that exited (of all of them if none did)."""
    children = supervisor.children
    exited = [child for child in children if child.process.poll() is not None]
    for child in exited or children:
        _show_log_tail(child, out=out, lines=8 if not exited else 15)


def _show_log_tail(child: Child, *, out: Callable[[str], None], lines: int = 15) -> None:
    with contextlib.suppress(OSError):
        tail = child.log_path.read_text(errors="replace").splitlines()[-lines:]
        if tail:
            out(f"  last lines of {child.log_path}:")
            for line in tail:
                out(f"    {line}")
