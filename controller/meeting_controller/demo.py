"""``meeting-controller demo`` (``make demo``): a real fleet on this machine, drained live.

What it does, on embedded defaults and without any external service:

1. starts a throwaway Redis (unless ``--redis-url`` names one), the reference GC (handing out
   a 1 s fast heartbeat so the fleet view moves quickly) and ``--mcs`` real
   ``meeting-controller run`` processes sharing one self-signed certificate, one session
   master secret and one admin token, and waits until every MC is registered with the GC;
2. lets ``--meetings`` x ``--participants`` simulated participants join over real
   WebTransport (:mod:`meeting_controller.demo_crowd`), timing every join on the client's
   side, and keeps them changing mute state all along (self-mutes, a host-mute per meeting,
   now and then an unmute request and the host's approval) for ``--duration`` seconds, with a
   live progress display (:mod:`meeting_controller.demo_display`): one line per MC, totals,
   joins/s and the join p99;
3. unless ``--no-drain``: drains the busiest MC live with the admin ``Drain`` RPC, shows the
   meetings moving, waits until that MC has exited, then proves that nobody was lost - every
   participant answers a ping on its current connection and every event stream is continuous;
4. prints a summary and, as its very last line on stdout, one JSON object
   (``{"meetings":..,"participants":..,"migrated":..,"lost":..,"drain_seconds":..,...}``).
   The exit code is 0 only when nobody was lost. ``--keep-running`` stays up after that, for
   a person to play with, until Ctrl-C.

The demo is a *supervisor of child processes*: on Ctrl-C, SIGTERM, the end of the run or any
error the participants leave, then every child is stopped, MCs first: SIGTERM, a bounded wait,
then SIGKILL. Children run in their own session (a terminal's Ctrl-C reaches only the demo,
which then stops them in order) and, on Linux, are asked to get SIGTERM should the demo itself
die without cleaning up.

Everything listens on 127.0.0.1 on free ports, so the demo needs no configuration and does
not collide with anything already running; ``MC_*`` variables of the calling shell are
ignored so that it always shows the embedded defaults.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import ctypes
import dataclasses
import functools
import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import FrameType, TracebackType
from typing import Any

import grpc

from meeting_controller import localdev, tls
from meeting_controller.client.meeting import Trust
from meeting_controller.demo_crowd import Crowd, JoinFailed, Meeting, Participant
from meeting_controller.demo_display import (
    McRow,
    Progress,
    Screen,
    mc_state,
    progress_lines,
    result_json,
)
from meeting_controller.protocol import internal_pb2, internal_pb2_grpc
from meeting_controller.webconsole import serve_console

MC_ID_PREFIX = "demo-mc-"
REGION = "local"
HOST = "127.0.0.1"
#: How many MCs the demo starts unless ``--mcs`` says otherwise, and at most.
DEFAULT_MCS = 3
MAX_MCS = 20
#: The simulated load unless ``--meetings`` / ``--participants`` say otherwise, and at most.
DEFAULT_MEETINGS = 20
DEFAULT_PARTICIPANTS = 5
MAX_MEETINGS = 500
MAX_PARTICIPANTS = 50
#: How long the participants chatter before the drain (or the end) unless ``--duration``.
DEFAULT_DURATION_SECONDS = 10.0
#: How long Redis, the GC or an MC may take to answer after it was started.
STARTUP_TIMEOUT_SECONDS = 20.0
#: How long the MCs may take, together, to register with the GC once they answer.
REGISTRATION_TIMEOUT_SECONDS = 20.0
#: How often the progress block is printed again (plain output) or redrawn (terminal).
REFRESH_SECONDS = 2.0
TTY_REFRESH_SECONDS = 0.5
#: The fast heartbeat the GC hands the demo's MCs (the default, 10 s, is slow to watch).
FAST_HEARTBEAT_MS = 1000
#: The deadline of the live drain (admin ``Drain``): meetings not moved by then are closed.
DRAIN_DEADLINE_SECONDS = 60.0
#: How long past the drain deadline the demo waits for the drained MC to exit.
DRAIN_EXIT_GRACE_SECONDS = 30.0
#: How long every participant together has to answer its ping after the drain.
CHECK_TIMEOUT_SECONDS = 30.0
#: How long the participants get to leave their meetings at the end.
LEAVE_TIMEOUT_SECONDS = 5.0
#: ``MC_DRAIN_TIMEOUT_SECONDS`` of the demo's MCs: bounds their SIGTERM drain at the end.
MC_SHUTDOWN_DRAIN_SECONDS = 10
#: How long a child gets between SIGTERM and SIGKILL (the MC's own deadlines are shorter).
STOP_TIMEOUT_SECONDS = 15.0
#: The MC's own account of a drain, in its log.
DRAIN_REPORT = re.compile(
    r"drain finished: (?P<ended>\d+) ended, (?P<migrated>\d+) migrated, "
    r"(?P<closed>\d+) closed at the deadline"
)
_PR_SET_PDEATHSIG = 1
#: Exit code when interrupted before the verdict: 128 + the signal number, like a shell.
EXIT_INTERRUPTED = 128 + signal.SIGINT


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
        """Start ``argv`` with exactly ``env``; its stdout and stderr go to ``<name>.log``.

        Call it from the main thread: the parent-death signal fires when the *thread* that
        started the child ends.
        """
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
        A child that already exited is only reaped and forgotten.
        """
        return self.stop_together([child], timeout=timeout)[0]

    def stop_together(
        self, children: Sequence[Child], *, timeout: float | None = None
    ) -> list[int]:
        """SIGTERM to each of ``children`` at once, one shared bounded wait, then SIGKILL.

        Returns the exit codes in the order of ``children``.
        """
        timeout = self.stop_timeout if timeout is None else timeout
        try:
            for child in children:
                if child.process.poll() is None:
                    child.process.send_signal(signal.SIGTERM)
            deadline = time.monotonic() + timeout
            for child in children:
                try:
                    child.process.wait(timeout=max(0.0, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    child.process.kill()
                    child.process.wait()
        finally:
            for child in children:
                if child.process.poll() is None:  # interrupted while waiting: do not leave it
                    child.process.kill()
                    child.process.wait()
                if child in self._children:
                    self._children.remove(child)
        return [child.process.returncode for child in children]

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


# -- the command line ---------------------------------------------------------------------------


def _parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="meeting-controller demo",
        description="Run a small fleet on 127.0.0.1 (free ports, embedded defaults): a "
        "throwaway Redis, the reference GC and --mcs Meeting Controllers, with simulated "
        "participants joining over WebTransport and changing mute state; then drain the "
        "busiest MC live and prove that nobody was lost. The last line on stdout is a JSON "
        "summary; the exit code is 0 only when nobody was lost. Ctrl-C stops everything.",
    )
    parser.add_argument(
        "--mcs",
        type=functools.partial(_count, what="MCs", high=MAX_MCS),
        default=DEFAULT_MCS,
        metavar="N",
        help=f"how many MCs to start, ids {MC_ID_PREFIX}1..N (default: %(default)s)",
    )
    parser.add_argument(
        "--meetings",
        type=functools.partial(_count, what="meetings", high=MAX_MEETINGS),
        default=DEFAULT_MEETINGS,
        metavar="N",
        help="how many meetings the simulated participants hold (default: %(default)s)",
    )
    parser.add_argument(
        "--participants",
        type=functools.partial(_count, what="participants per meeting", high=MAX_PARTICIPANTS),
        default=DEFAULT_PARTICIPANTS,
        metavar="N",
        help="participants per meeting, the host included (default: %(default)s)",
    )
    parser.add_argument(
        "--duration",
        type=_non_negative_seconds,
        default=DEFAULT_DURATION_SECONDS,
        metavar="SECONDS",
        help="how long everybody chatters after joining, before the drain (or, with "
        "--no-drain, before the end) (default: %(default)g)",
    )
    parser.add_argument(
        "--no-drain",
        action="store_true",
        help="do not drain an MC; just run for --duration and check everybody",
    )
    parser.add_argument(
        "--keep-running",
        action="store_true",
        help="after the result, stay up (participants keep chattering) until Ctrl-C",
    )
    parser.add_argument(
        "--redis-url",
        metavar="URL",
        help="use this Redis (redis://HOST:PORT/DB) instead of starting a throwaway one",
    )
    parser.add_argument(
        "--log-dir",
        type=Path,
        metavar="DIR",
        help="where the children's logs, the certificate and the secrets go "
        "(default: a new temporary directory)",
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


def _count(text: str, *, what: str, high: int) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if not 1 <= value <= high:
        raise argparse.ArgumentTypeError(
            f"expected a number of {what} from 1 to {high}, got {text!r}"
        )
    return value


def _mcs(count: int) -> str:
    return "1 MC" if count == 1 else f"{count} MCs"


def _clean_environment() -> dict[str, str]:
    """The calling environment without its ``MC_*`` variables."""
    return {name: value for name, value in os.environ.items() if not name.startswith("MC_")}


# -- the result -----------------------------------------------------------------------------------


@dataclass
class Outcome:
    """What the demo found out so far; filled in as it goes, printed as the final JSON line."""

    mcs: int = 0
    meetings: int = 0
    participants: int = 0
    drained_mc: str | None = None
    #: Meetings on the drained MC when the drain started.
    moving: int = 0
    migrated: int = 0
    #: Meetings the drained MC closed at its deadline instead of moving them (from its log).
    closed: int | None = None
    drain_seconds: float | None = None
    drain_ok: bool = True
    joins_per_second: float = 0.0
    join_p50_ms: float | None = None
    join_p99_ms: float | None = None
    resumed: int = 0
    sequence_gaps: int = 0
    unreachable: int = 0
    mute_changes: int = 0
    #: ``None`` until the check ran.
    lost: int | None = None
    interrupted_by: int | None = None
    error: str | None = None

    @property
    def checked(self) -> bool:
        return self.lost is not None

    @property
    def ok(self) -> bool:
        """Nobody was lost, and the drain (if any) completed."""
        return self.lost == 0 and self.drain_ok and self.error is None

    def document(self) -> dict[str, Any]:
        """The final JSON line's object: the promised keys first, then the details."""
        document: dict[str, Any] = {
            "meetings": self.meetings,
            "participants": self.participants,
            "migrated": self.migrated,
            "lost": self.lost,
            "drain_seconds": _rounded(self.drain_seconds, 3),
            "join_p50_ms": _rounded(self.join_p50_ms, 1),
            "join_p99_ms": _rounded(self.join_p99_ms, 1),
            "resumed": self.resumed,
            "sequence_gaps": self.sequence_gaps,
            "mcs": self.mcs,
            "drained_mc": self.drained_mc,
            "closed_at_deadline": self.closed,
            "unreachable": self.unreachable,
            "joins_per_second": _rounded(self.joins_per_second, 1),
            "mute_changes": self.mute_changes,
            "interrupted": self.interrupted_by is not None,
            "ok": self.ok,
        }
        if self.error is not None:
            document["error"] = self.error
        return document


def _rounded(value: float | None, digits: int) -> float | None:
    return None if value is None else round(value, digits)


# -- the entry point ------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None, *, out: Callable[[str], None] | None = None) -> int:
    """Run the demo; 0 when nobody was lost and every child stopped cleanly.

    ``out`` receives each output line (default: print and flush, so that the lines show up at
    once even when stdout is a pipe or a file; on a terminal the progress is redrawn in place).
    """
    tty = out is None and sys.stdout.isatty()
    if out is None:
        out = functools.partial(print, flush=True)
    options = _parse_args(sys.argv[1:] if argv is None else argv)
    log_dir = options.log_dir or Path(tempfile.mkdtemp(prefix="meeting-controller-demo-"))
    outcome = Outcome(mcs=options.mcs)
    try:
        with _sigterm_unwinds(), Supervisor(log_dir=log_dir) as supervisor:
            return _demo(supervisor, options, outcome, out=out, tty=tty)
    except DemoError as error:
        out(f"demo failed: {error}")
        out(f"logs: {log_dir}")
        outcome.error = str(error)
        out(result_json(outcome.document()))
        return 1
    except (KeyboardInterrupt, _Terminated) as interruption:
        # Interrupted again while stopping: the supervisor has killed its children by now.
        out("interrupted; every child process was stopped")
        signum = signal.SIGTERM if isinstance(interruption, _Terminated) else signal.SIGINT
        outcome.interrupted_by = signum
        out(result_json(outcome.document()))
        return 128 + signum


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

    @property
    def webtransport_endpoint(self) -> str:
        return f"https://{HOST}:{self.webtransport_port}/signaling"


@dataclass(frozen=True)
class _Credentials:
    """What every demo MC shares: its certificate, the session secret, the admin token."""

    cert: tls.CertificateInfo
    session_secret_file: Path
    admin_token_file: Path
    admin_token: str


def _demo(
    supervisor: Supervisor,
    options: argparse.Namespace,
    outcome: Outcome,
    *,
    out: Callable[[str], None],
    tty: bool,
) -> int:
    out(
        f"Meeting Controller demo: Redis, the reference GC, {_mcs(options.mcs)} and "
        f"{options.meetings} meetings x {options.participants} participants"
    )
    out(f"  logs        {supervisor.log_dir}")
    started = time.monotonic()
    stack = contextlib.ExitStack()
    try:
        redis_url = options.redis_url
        if redis_url:
            out(f"  Redis       {redis_url} (given with --redis-url)")
        else:
            redis_url = _start_redis(supervisor, out=out)
        gc_endpoint, gc_http = _start_gc(supervisor, out=out)
        credentials = _write_credentials(supervisor.log_dir)
        out(
            f"  TLS         {credentials.cert.cert_file} (self-signed, for every MC; "
            f"SHA-256 {credentials.cert.sha256_hex[:16]}...)"
        )
        mcs = _start_mcs(
            supervisor,
            count=options.mcs,
            redis_url=redis_url,
            gc_endpoint=gc_endpoint,
            credentials=credentials,
            out=out,
        )
        _wait_for_registration(supervisor, gc_http=gc_http, mcs=mcs, out=out)
        _show_endpoints(mcs, out=out)
        console = serve_console(
            HOST, 0, gc_url=gc_http, certificate_hashes=[credentials.cert.sha256]
        )
        stack.callback(console.close)
        out(f"  console     {console.url} (join from a browser; see web/index.html)")
        stage = _Stage(
            supervisor=supervisor,
            options=options,
            screen=Screen(out, tty=tty),
            gc_http=gc_http,
            mcs=mcs,
            credentials=credentials,
        )
        asyncio.run(_scenario(stage, outcome))
    except KeyboardInterrupt:
        outcome.interrupted_by = signal.SIGINT
        out("")
    except _Terminated:
        outcome.interrupted_by = signal.SIGTERM
        out("")
    except DemoError:
        _show_log_tails(supervisor, out=out)
        raise
    finally:
        stack.close()
    clean = _stop_all(supervisor, out=out)
    took = time.monotonic() - started
    if outcome.checked:
        verdict = "nobody was lost" if outcome.ok else "FAILED"
        out(f"Demo finished in {took:.1f} s: {verdict}")
        code = 0 if outcome.ok and clean else 1
    elif outcome.interrupted_by is not None:
        out(f"Demo interrupted after {took:.1f} s, before its check; every child was stopped")
        code = 128 + outcome.interrupted_by
    else:
        code = 1
    out(result_json(outcome.document()))
    return code


# -- starting the fleet ---------------------------------------------------------------------------


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


def _write_credentials(directory: Path) -> _Credentials:
    """One certificate for every MC (clients trust it as their CA file), the session master
    secret (so a meeting's sessions resume on any MC) and the admin token (for ``Drain``)."""
    directory.mkdir(parents=True, exist_ok=True)
    cert = tls.generate_self_signed(
        cert_file=directory / "mc-cert.pem", key_file=directory / "mc-key.pem", names=[HOST]
    )
    session_secret_file = directory / "session-master.secret"
    _write_private(session_secret_file, secrets.token_hex(32))
    admin_token = secrets.token_urlsafe(32)
    admin_token_file = directory / "admin.token"
    _write_private(admin_token_file, admin_token)
    return _Credentials(cert, session_secret_file, admin_token_file, admin_token)


def _write_private(path: Path, text: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        path.unlink()
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as secret:
        secret.write(text)


def _mc_environment(
    *,
    mc_id: str,
    http_port: int,
    grpc_port: int,
    webtransport_port: int,
    redis_url: str,
    gc_endpoint: str,
    public_key_file: Path,
    credentials: _Credentials,
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
            "MC_WEBTRANSPORT_ADVERTISE": f"https://{HOST}:{webtransport_port}/signaling",
            "MC_TLS_CERT_FILE": str(credentials.cert.cert_file),
            "MC_TLS_KEY_FILE": str(credentials.cert.key_file),
            "MC_SESSION_MASTER_SECRET_FILE": str(credentials.session_secret_file),
            "MC_ADMIN_TOKEN_FILE": str(credentials.admin_token_file),
            "MC_DRAIN_TIMEOUT_SECONDS": str(MC_SHUTDOWN_DRAIN_SECONDS),
            "MC_LOG_FORMAT": "text",
        }
    )
    return env


def _start_mcs(
    supervisor: Supervisor,
    *,
    count: int,
    redis_url: str,
    gc_endpoint: str,
    credentials: _Credentials,
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
                credentials=credentials,
            ),
        )
        mcs.append(_Mc(mc_id, http_port, grpc_port, webtransport_port, child))
    for mc in mcs:
        took = wait_for_http(f"{mc.base}/healthz", child=mc.child, timeout=STARTUP_TIMEOUT_SECONDS)
        out(f"  MC {mc.mc_id} started (pid {mc.child.pid}), healthy after {took:.1f} s")
    return mcs


def _fleet(gc_http: str, *, timeout: float = 2.0) -> list[dict[str, Any]]:
    """``GET /v1/mcs`` of the GC; raises ``OSError`` or ``ValueError`` when it cannot."""
    status, body = http_get(f"{gc_http}/v1/mcs", timeout=timeout)
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
        out(f"              WebTransport {mc.webtransport_endpoint}")
        out(f"              gRPC {HOST}:{mc.grpc_port}, metrics {mc.base}/metrics")


def _check_children(supervisor: Supervisor, *, may_exit: Sequence[str] = ()) -> None:
    for child in supervisor.children:
        if child.name in may_exit:
            continue
        code = child.process.poll()
        if code is not None:
            raise DemoError(f"{child.name} exited on its own with code {code}")


# -- the scenario (asyncio) -----------------------------------------------------------------------


@dataclass(eq=False)
class _Stage:
    """Everything the scenario works with."""

    supervisor: Supervisor
    options: argparse.Namespace
    screen: Screen
    gc_http: str
    mcs: list[_Mc]
    credentials: _Credentials
    #: Children that may exit without that being an error (the drained MC).
    may_exit: set[str] = dataclasses.field(default_factory=set)
    #: MCs that have exited (after their drain).
    exited: set[str] = dataclasses.field(default_factory=set)
    #: The meetings on the drained MC when the drain started.
    moving: list[Meeting] = dataclasses.field(default_factory=list)

    def mc(self, mc_id: str) -> _Mc:
        return next(mc for mc in self.mcs if mc.mc_id == mc_id)

    def owner_of(self, endpoint: str) -> str | None:
        """The id of the demo MC serving the WebTransport ``endpoint``."""
        with contextlib.suppress(ValueError):
            port = urllib.parse.urlsplit(endpoint).port
            for mc in self.mcs:
                if mc.webtransport_port == port:
                    return mc.mc_id
        return None


class _Status:
    """The phase the progress block shows; entering a phase refreshes the block at once."""

    def __init__(self) -> None:
        self.phase = "starting"
        self.since = time.monotonic()
        self.wake = asyncio.Event()

    def enter(self, phase: str) -> None:
        self.phase = phase
        self.since = time.monotonic()
        self.wake.set()


class _Trip:
    """Stops the scenario once: on SIGINT/SIGTERM, or when a child exits unexpectedly."""

    def __init__(self, task: asyncio.Task[Any], screen: Screen) -> None:
        self._task = task
        self._screen = screen
        self.reason: int | DemoError | None = None
        #: Set once the scenario is cleaning up: from then on nothing is cancelled any more.
        self.closing = False

    def interrupt(self, signum: int) -> None:
        if self.reason is not None:
            self._screen.message("Still stopping; every child will be stopped in a moment.")
            return
        self.reason = signum
        name = signal.Signals(signum).name
        self._screen.message(f"{name}: the participants leave, then every process is stopped")
        if not self.closing:
            self._task.cancel()

    def fail(self, error: DemoError) -> None:
        if self.reason is None:
            self.reason = error
            if not self.closing:
                self._task.cancel()


@contextlib.contextmanager
def _signals_trip(trip: _Trip) -> Iterator[None]:
    """While inside, SIGINT and SIGTERM stop the scenario through ``trip`` (cleanly).

    A signal the demo was started with ignored (``nohup``, a background job of a script)
    stays ignored, as it is during the start-up.
    """
    loop = asyncio.get_running_loop()
    previous = {
        signum: signal.getsignal(signum)
        for signum in (signal.SIGINT, signal.SIGTERM)
        if signal.getsignal(signum) != signal.SIG_IGN
    }
    for signum in previous:
        loop.add_signal_handler(signum, trip.interrupt, signum)
    try:
        yield
    finally:
        for signum, handler in previous.items():
            loop.remove_signal_handler(signum)
            signal.signal(signum, handler if handler is not None else signal.SIG_DFL)


async def _scenario(stage: _Stage, outcome: Outcome) -> None:
    """Join, chatter, drain, check; always leave. Raises DemoError on a failure."""
    task = asyncio.current_task()
    assert task is not None
    trip = _Trip(task, stage.screen)
    crowd = Crowd(
        gc_url=stage.gc_http,
        trust=Trust(cafile=str(stage.credentials.cert.cert_file)),
        meetings=stage.options.meetings,
        per_meeting=stage.options.participants,
        owner_of=stage.owner_of,
    )
    status = _Status()
    with _signals_trip(trip):
        refresher = asyncio.create_task(_refresh(stage, crowd, status), name="demo-refresh")
        watchdog = asyncio.create_task(_watch_children(stage, trip), name="demo-watchdog")
        try:
            await _run(stage, crowd, status, outcome, stop_refresh=refresher)
        except asyncio.CancelledError:
            if trip.reason is None:
                raise
            task.uncancel()
        except JoinFailed as error:
            trip.closing = True
            trip.fail(DemoError(f"a participant could not join: {error}"))
        finally:
            trip.closing = True
            for helper in (refresher, watchdog):
                helper.cancel()
            await asyncio.gather(refresher, watchdog, return_exceptions=True)
            stage.screen.freeze()
            _tally(crowd, outcome)
            await crowd.leave(timeout=LEAVE_TIMEOUT_SECONDS)
    if isinstance(trip.reason, DemoError):
        raise trip.reason
    if trip.reason is not None:
        outcome.interrupted_by = trip.reason


async def _run(
    stage: _Stage,
    crowd: Crowd,
    status: _Status,
    outcome: Outcome,
    *,
    stop_refresh: asyncio.Task[None],
) -> None:
    options, screen = stage.options, stage.screen
    screen.message(
        f"Joining {options.meetings} meetings x {options.participants} participants over "
        "WebTransport ..."
    )
    screen.message("  (each join: a ticket from the GC, a QUIC handshake, a JoinRequest)")
    status.enter("joining")
    await crowd.join_all()
    _tally(crowd, outcome)
    joins = crowd.joins
    took = (joins.finished_at or 0.0) - (joins.started_at or 0.0)
    screen.message(
        f"  {outcome.participants} participants in {outcome.meetings} meetings joined in "
        f"{took:.1f} s: {outcome.joins_per_second:.1f} joins/s, join p50 "
        f"{_ms(outcome.join_p50_ms)}, p99 {_ms(outcome.join_p99_ms)}"
    )
    crowd.start_chatter()
    screen.message(f"Running for {options.duration:g} s:")
    screen.message("  participants mute and unmute themselves; each host keeps one participant")
    screen.message("  muted, and approves their unmute requests now and then")
    status.enter("running")
    await asyncio.sleep(options.duration)
    if options.no_drain:
        screen.message("Not draining (--no-drain).")
    elif len(stage.mcs) < 2:
        screen.message("Not draining: with one MC there is nowhere to move meetings to.")
    else:
        await _drain(stage, crowd, status, outcome)
    status.enter("checking that nobody was lost")
    await crowd.stop_chatter()
    check = await crowd.check(timeout=CHECK_TIMEOUT_SECONDS)
    _tally(crowd, outcome)
    lost = {id(p) for p in (*check.unreachable, *check.with_gaps)}
    outcome.unreachable = len(check.unreachable)
    outcome.sequence_gaps = len(check.with_gaps)
    outcome.lost = check.lost
    if outcome.drained_mc is not None:
        outcome.migrated = sum(
            1
            for meeting in stage.moving
            if all(
                id(p) not in lost and crowd.where(p) not in (None, outcome.drained_mc)
                for p in meeting.participants
            )
        )
    stop_refresh.cancel()
    await asyncio.gather(stop_refresh, return_exceptions=True)
    status.enter("done")
    await _show_progress(stage, crowd, status)
    stage.screen.freeze()
    for line in _summary(
        stage, crowd, outcome, unreachable=check.unreachable, gaps=check.with_gaps
    ):
        screen.message(line)
    if options.keep_running:
        await _keep_running(stage, crowd)


def _tally(crowd: Crowd, outcome: Outcome) -> None:
    """Copy what the crowd knows into the outcome (so an interruption still reports it)."""
    joins = crowd.joins
    outcome.meetings = len(crowd.meetings)
    outcome.participants = len(crowd.participants)
    outcome.joins_per_second = joins.per_second(asyncio.get_running_loop().time())
    outcome.join_p50_ms = joins.percentile_ms(0.50)
    outcome.join_p99_ms = joins.percentile_ms(0.99)
    outcome.resumed = crowd.resumed
    outcome.mute_changes = crowd.counters.mute_changes


async def _drain(stage: _Stage, crowd: Crowd, status: _Status, outcome: Outcome) -> None:
    """Drain the busiest MC live with the admin ``Drain`` RPC; wait until it has exited."""
    source = crowd.busiest()
    if source is None:
        stage.screen.message("Not draining: no participant is connected anywhere.")
        return
    mc = stage.mc(source)
    stage.moving = crowd.meetings_on(source)
    people = sum(len(meeting.participants) for meeting in stage.moving)
    outcome.drained_mc = source
    outcome.moving = len(stage.moving)
    stage.screen.message(
        f"Draining {source} live: {len(stage.moving)} meetings with {people} participants "
        "move to the other MCs"
    )
    stage.screen.message(
        f"  (the admin Drain RPC, deadline {DRAIN_DEADLINE_SECONDS:.0f} s; participants "
        "follow RedirectToMc and resume)"
    )
    stage.may_exit.add(source)
    status.enter(f"draining {source}")
    started = time.perf_counter()
    await _request_drain(mc, token=stage.credentials.admin_token)
    code = await _wait_for_exit(mc.child, timeout=DRAIN_DEADLINE_SECONDS + DRAIN_EXIT_GRACE_SECONDS)
    took = time.perf_counter() - started
    if code is None:
        outcome.drain_ok = False
        stage.screen.message(f"  {source} did not finish its drain within {took:.0f} s")
        return
    outcome.drain_seconds = took
    stage.supervisor.stop(mc.child)  # reap it, and forget it
    stage.exited.add(source)
    report = drain_report(mc.child.log_path.read_text(errors="replace"))
    if report is not None:
        outcome.closed = report["closed"]
        told = (
            f"{report['migrated']} migrated, {report['closed']} closed at the deadline, "
            f"{report['ended']} ended"
        )
    else:
        told = "no drain report in its log"
    if code != 0 or (report is not None and report["closed"]):
        outcome.drain_ok = False
    stage.screen.message(f"  {source} drained and exited with code {code} after {took:.2f} s")
    stage.screen.message(f"  (its log: {told})")
    status.enter(f"{source} drained")


def drain_report(log: str) -> dict[str, int] | None:
    """The MC's own account of its drain (the last one in ``log``), or ``None`` (pure)."""
    found = list(DRAIN_REPORT.finditer(log))
    if not found:
        return None
    return {key: int(value) for key, value in found[-1].groupdict().items()}


async def _request_drain(mc: _Mc, *, token: str) -> None:
    channel = grpc.aio.insecure_channel(f"{HOST}:{mc.grpc_port}")
    try:
        answer = await internal_pb2_grpc.MeetingControllerServiceStub(channel).Drain(
            internal_pb2.DrainRequest(
                deadline_unix_ms=int((time.time() + DRAIN_DEADLINE_SECONDS) * 1000),
                reason="meeting-controller demo",
            ),
            metadata=(("authorization", f"Bearer {token}"),),
            timeout=10.0,
        )
    except grpc.aio.AioRpcError as error:
        raise DemoError(
            f"the admin Drain call to {mc.mc_id} failed: {error.code().name}: {error.details()}"
        ) from None
    finally:
        await channel.close(None)
    if answer.state != internal_pb2.MC_STATE_DRAINING:
        state = internal_pb2.McState.Name(answer.state)
        raise DemoError(f"{mc.mc_id} answered the Drain call with state {state}")


async def _wait_for_exit(child: Child, *, timeout: float) -> int | None:
    """The child's exit code once it has exited, or ``None`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        code = child.process.poll()
        if code is not None:
            return code
        await asyncio.sleep(0.05)
    return None


async def _keep_running(stage: _Stage, crowd: Crowd) -> None:
    """Stay up for a person to play with, until Ctrl-C (which cancels this)."""
    screen = stage.screen
    meeting = crowd.meetings[0].meeting_id if crowd.meetings else "my-meeting"
    body = json.dumps({"user_id": "you", "meeting_id": meeting, "display_name": "You"})
    screen.message("")
    screen.message("Still running, for you to play with; Ctrl-C stops every process.")
    screen.message(f"  GC           {stage.gc_http} (the fleet: {stage.gc_http}/v1/mcs)")
    screen.message(
        f"  join         curl -s -X POST {stage.gc_http}/v1/meetings "
        f"-H 'Content-Type: application/json' -d '{body}'"
    )
    screen.message(
        "               (the answer's mc_endpoint and join_token are what a WebTransport "
        "client sends in its JoinRequest)"
    )
    screen.message(
        f"  certificate  {stage.credentials.cert.cert_file} (trust it as a CA file, or pin "
        f"SHA-256 {stage.credentials.cert.sha256_hex})"
    )
    for mc in stage.mcs:
        if mc.mc_id not in stage.exited:
            screen.message(f"  {mc.mc_id}    {mc.webtransport_endpoint}, {mc.base}/metrics")
    crowd.start_chatter()
    status = _Status()
    status.enter("running until Ctrl-C")
    refresher = asyncio.create_task(_refresh(stage, crowd, status), name="demo-refresh")
    try:
        await asyncio.Event().wait()
    finally:
        refresher.cancel()
        await asyncio.gather(refresher, return_exceptions=True)


async def _watch_children(stage: _Stage, trip: _Trip) -> None:
    """Stop the scenario when a child exits on its own (the drained MC may)."""
    while True:
        try:
            _check_children(stage.supervisor, may_exit=sorted(stage.may_exit))
        except DemoError as error:
            trip.fail(error)
            return
        await asyncio.sleep(0.2)


async def _refresh(stage: _Stage, crowd: Crowd, status: _Status) -> None:
    interval = TTY_REFRESH_SECONDS if stage.screen.tty else REFRESH_SECONDS
    while True:
        status.wake.clear()
        await _show_progress(stage, crowd, status)
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(interval):
                await status.wake.wait()


async def _show_progress(stage: _Stage, crowd: Crowd, status: _Status) -> None:
    try:
        fleet = await asyncio.to_thread(_fleet, stage.gc_http, timeout=1.0)
    except (OSError, ValueError, KeyError):
        fleet = []
    stage.screen.progress(progress_lines(_progress(stage, crowd, status, fleet)))


def _progress(
    stage: _Stage, crowd: Crowd, status: _Status, fleet: Sequence[Mapping[str, Any]]
) -> Progress:
    records = {str(record.get("mc_id")): record for record in fleet}
    connected = crowd.connected_by_mc()
    rows = []
    for mc in stage.mcs:
        exited = mc.mc_id in stage.exited
        record = None if exited else records.get(mc.mc_id)
        rows.append(
            McRow(
                mc_id=mc.mc_id,
                state=mc_state(records.get(mc.mc_id), exited=exited),
                meetings=None if record is None else int(record.get("current_meetings", 0)),
                participants=(
                    None if record is None else int(record.get("current_participants", 0))
                ),
                clients=connected.get(mc.mc_id, (0, 0))[1],
            )
        )
    now = asyncio.get_running_loop().time()
    return Progress(
        clock=time.strftime("%H:%M:%S"),
        phase=status.phase,
        elapsed=time.monotonic() - status.since,
        rows=rows,
        joined=crowd.joins.joined,
        wanted=crowd.wanted_participants,
        joins_per_second=crowd.joins.per_second(now),
        join_p99_ms=crowd.joins.percentile_ms(0.99),
        mute_changes=crowd.counters.mute_changes,
        resumes=crowd.resumes,
    )


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f} ms"


def _summary(
    stage: _Stage,
    crowd: Crowd,
    outcome: Outcome,
    *,
    unreachable: Sequence[Participant],
    gaps: Sequence[Participant],
) -> list[str]:
    """The human summary of a finished run."""
    counters = crowd.counters
    lines = [
        "Result",
        f"  {outcome.meetings} meetings, {outcome.participants} participants on "
        f"{_mcs(len(stage.mcs))}; {outcome.joins_per_second:.1f} joins/s, join p50 "
        f"{_ms(outcome.join_p50_ms)}, p99 {_ms(outcome.join_p99_ms)} (client side)",
    ]
    if outcome.drained_mc is not None:
        destinations = collections.Counter(
            crowd.where(meeting.host) or "nowhere" for meeting in stage.moving
        )
        moved_to = ", ".join(f"{count} to {mc_id}" for mc_id, count in sorted(destinations.items()))
        drained = (
            f"in {outcome.drain_seconds:.2f} s"
            if outcome.drain_seconds is not None
            else "(did not finish)"
        )
        lines.append(
            f"  drained {outcome.drained_mc} live {drained}: {outcome.migrated}/{outcome.moving} "
            f"meetings migrated ({moved_to or 'none'})"
        )
        lines.append(f"  {outcome.resumed} participants resumed their session on another MC")
    checked = outcome.participants
    lines.append(
        f"  {checked - len(unreachable)}/{checked} participants answered a ping on their "
        "current connection"
    )
    if gaps:
        lines.append(f"  {len(gaps)} participants saw a gap in their event stream")
    else:
        lines.append(
            f"  every event stream is continuous (no sequence gap; {counters.events} events)"
        )
    lines.append(
        f"  mute changes: {counters.self_mutes} self-mutes, {counters.host_mutes} host-mutes, "
        f"{counters.unmute_requests} unmute requests ({counters.unmute_approvals} approved)"
    )
    for participant in [*unreachable, *gaps][:10]:
        reason = participant.failure or (
            "no pong" if participant in unreachable else "sequence gap"
        )
        lines.append(f"  LOST {participant.name} ({participant.participant_id}): {reason}")
    if outcome.ok:
        lines.append("  nobody was lost")
    else:
        lines.append(f"  {outcome.lost} participants were lost")
    return lines


# -- stopping -------------------------------------------------------------------------------------


def _label(child: Child) -> str:
    if child.name == "redis":
        return "Redis"
    if child.name == "gc":
        return "GC"
    return f"MC {child.name}"


def _stop_all(supervisor: Supervisor, *, out: Callable[[str], None]) -> bool:
    """Stop every child: the MCs together, then the GC, then Redis; True if all exit 0."""
    children = list(reversed(supervisor.children))
    if not children:
        return True
    out(f"Stopping {len(children)} processes with SIGTERM ...")
    mcs = [child for child in children if child.name.startswith(MC_ID_PREFIX)]
    others = [child for child in children if child not in mcs]
    clean = True
    for group in ([mcs] if mcs else []) + [[child] for child in others]:
        started = time.monotonic()
        codes = supervisor.stop_together(group)
        took = time.monotonic() - started
        for child, code in zip(group, codes, strict=True):
            if code == 0:
                out(f"  {_label(child)} exited cleanly (code 0) in {took:.1f} s")
            else:
                clean = False
                out(f"  {_label(child)} exited with code {code} after {took:.1f} s")
                _show_log_tail(child, out=out)
    return clean


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
