"""The processes a benchmark runs against, all on 127.0.0.1, all stopped by their own PID.

A :class:`Stack` owns, for one benchmark: a throwaway Redis-protocol server
(:mod:`meeting_controller.localdev`), the reference GC (``meeting-controller gc``), any number
of real ``meeting-controller run`` processes, and the bare WebTransport servers of
:mod:`meeting_controller.bench.rawserver` that the baselines run against. Every child gets its
own log file in the stack's work directory; every wait is bounded; :meth:`Stack.close` stops
whatever is still running (SIGTERM, a bounded wait, SIGKILL), newest first, and is called on
every exit path. Children also get SIGTERM from the kernel should the bench process die
without cleaning up (``PR_SET_PDEATHSIG``).
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from meeting_controller import localdev, tls

HOST = "127.0.0.1"
START_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 15.0
#: The fast heartbeat the GC hands the MCs (the e2e tests use the same).
FAST_HEARTBEAT_MS = 500
ADMIN_TOKEN = b"bench-admin-token-0123456789"
_PR_SET_PDEATHSIG = 1


class BenchSetupError(RuntimeError):
    """A process of the stack did not start; the message names it and its log."""


def free_port(kind: int = socket.SOCK_STREAM) -> int:
    with socket.socket(socket.AF_INET, kind) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def rss_bytes(pid: int) -> int:
    """The resident set size of ``pid`` (``VmRSS`` of ``/proc/<pid>/status``)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise BenchSetupError(f"no VmRSS for pid {pid}")


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds ``pid`` has used so far (``/proc/<pid>/stat``)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks


def _die_with_parent() -> None:
    with contextlib.suppress(Exception):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)


def _clean_environment() -> dict[str, str]:
    return {name: value for name, value in os.environ.items() if not name.startswith("MC_")}


def http_get(url: str, *, timeout: float = 2.0) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status, response.read().decode("utf-8", errors="replace")
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode("utf-8", errors="replace")


@dataclass
class Child:
    name: str
    process: subprocess.Popen[bytes]
    log_path: Path
    ports: dict[str, int] = field(default_factory=dict)

    @property
    def pid(self) -> int:
        return self.process.pid

    def alive(self) -> bool:
        return self.process.poll() is None

    def log_tail(self, lines: int = 20) -> str:
        with contextlib.suppress(OSError):
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        return "(no log)"

    def stop(self, *, timeout: float = STOP_TIMEOUT_S) -> int:
        """SIGTERM by PID, a bounded wait, then SIGKILL; the exit code."""
        process = self.process
        try:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(timeout=timeout)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait(timeout=timeout)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait(timeout=timeout)
        return process.returncode

    def wait(self, *, timeout: float) -> int:
        return self.process.wait(timeout=timeout)


@dataclass
class McProcess:
    """A ``meeting-controller run`` child and its endpoints."""

    mc_id: str
    child: Child
    http_port: int
    grpc_port: int
    webtransport_port: int

    @property
    def pid(self) -> int:
        return self.child.pid

    @property
    def endpoint(self) -> str:
        return f"https://{HOST}:{self.webtransport_port}/signaling"

    @property
    def grpc_address(self) -> str:
        return f"{HOST}:{self.grpc_port}"


@dataclass
class RawServer:
    """A bare WebTransport server child (:mod:`meeting_controller.bench.rawserver`)."""

    mode: str
    child: Child
    port: int

    @property
    def pid(self) -> int:
        return self.child.pid

    @property
    def url(self) -> str:
        return f"https://{HOST}:{self.port}/bench"


class Stack:
    """Redis, the reference GC, MCs and bare servers for one benchmark (see module doc)."""

    def __init__(self, workdir: Path, *, log: Callable[[str], None]) -> None:
        self.workdir = workdir
        self.workdir.mkdir(parents=True, exist_ok=True)
        self._log = log
        self._children: list[Child] = []
        self._raw_count = 0
        self.redis: localdev.RedisServer | None = None
        self.gc: Child | None = None
        self.gc_http = ""
        self.gc_grpc = ""
        self.mcs: dict[str, McProcess] = {}
        self.cert = tls.generate_self_signed(
            cert_file=workdir / "cert.pem", key_file=workdir / "key.pem", names=[HOST]
        )
        self._secret_file = workdir / "session.secret"
        self._secret_file.write_bytes(b"bench-session-master-secret-of-32+bytes!")
        self._admin_file = workdir / "admin.token"
        self._admin_file.write_bytes(ADMIN_TOKEN)
        self._public_key_file = workdir / "gc-public-key.pem"

    @property
    def cafile(self) -> str:
        return str(self.cert.cert_file)

    # -- children ------------------------------------------------------------------------

    def _start(self, name: str, argv: Sequence[str], env: Mapping[str, str]) -> Child:
        log_path = self.workdir / f"{name}.log"
        with log_path.open("wb") as log_file:
            process = subprocess.Popen(
                list(argv),
                env=dict(env),
                cwd=self.workdir,
                stdin=subprocess.DEVNULL,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=_die_with_parent if sys.platform == "linux" else None,
            )
        child = Child(name=name, process=process, log_path=log_path)
        self._children.append(child)
        return child

    def _wait_until(self, check: Callable[[], bool], *, child: Child, what: str) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            if not child.alive():
                raise BenchSetupError(
                    f"{child.name} exited with {child.process.returncode} before it could "
                    f"{what}:\n{child.log_tail()}"
                )
            with contextlib.suppress(OSError, ValueError):
                if check():
                    return
            if time.monotonic() > deadline:
                raise BenchSetupError(
                    f"{child.name} did not {what} within {START_TIMEOUT_S:.0f} s:\n"
                    f"{child.log_tail()}"
                )
            time.sleep(0.02)

    def start_redis(self) -> str:
        self.redis = localdev.start_redis_server()
        return self.redis.url

    def start_gc(self) -> None:
        grpc_port, http_port = free_port(), free_port()
        self.gc = self._start(
            "gc",
            [
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
                "--public-key-out",
                str(self._public_key_file),
                "--log-level",
                "WARNING",
            ],
            _clean_environment(),
        )
        self.gc_http = f"http://{HOST}:{http_port}"
        self.gc_grpc = f"{HOST}:{grpc_port}"
        self._wait_until(
            lambda: http_get(self.gc_http + "/v1/mcs")[0] == 200 and self._public_key_file.exists(),
            child=self.gc,
            what="answer GET /v1/mcs",
        )

    def fleet(self) -> list[dict[str, Any]]:
        """``GET /v1/mcs`` of the GC."""
        status, body = http_get(self.gc_http + "/v1/mcs")
        if status != 200:
            raise BenchSetupError(f"GET /v1/mcs answered {status}")
        mcs: list[dict[str, Any]] = json.loads(body)["mcs"]
        return mcs

    def start_mcs(self, ids: Sequence[str], **env: str) -> list[McProcess]:
        """Start MCs at once; return when every one is ready and registered with the GC."""
        if self.redis is None or self.gc is None:
            raise BenchSetupError("start Redis and the GC before the MCs")
        started = []
        for mc_id in ids:
            http_port, grpc_port = free_port(), free_port()
            wt_port = free_port(socket.SOCK_DGRAM)
            mc_env = _clean_environment()
            mc_env.update(
                {
                    "MC_ID": mc_id,
                    "MC_REGION": "local",
                    "MC_REDIS_URL": self.redis.url,
                    "MC_GC_ENDPOINT": self.gc_grpc,
                    "MC_JOIN_TOKEN_PUBLIC_KEY_FILE": str(self._public_key_file),
                    "MC_SESSION_MASTER_SECRET_FILE": str(self._secret_file),
                    "MC_ADMIN_TOKEN_FILE": str(self._admin_file),
                    "MC_TLS_CERT_FILE": str(self.cert.cert_file),
                    "MC_TLS_KEY_FILE": str(self.cert.key_file),
                    "MC_HTTP_LISTEN": f"{HOST}:{http_port}",
                    "MC_GRPC_LISTEN": f"{HOST}:{grpc_port}",
                    "MC_GRPC_ADVERTISE": f"{HOST}:{grpc_port}",
                    "MC_WEBTRANSPORT_LISTEN": f"{HOST}:{wt_port}",
                    "MC_WEBTRANSPORT_ADVERTISE": f"https://{HOST}:{wt_port}/signaling",
                    "MC_LOG_LEVEL": "warning",
                    **env,
                }
            )
            child = self._start(
                mc_id, [sys.executable, "-m", "meeting_controller.cli", "run"], mc_env
            )
            mc = McProcess(mc_id, child, http_port, grpc_port, wt_port)
            self.mcs[mc_id] = mc
            started.append(mc)
        for mc in started:
            base = f"http://{HOST}:{mc.http_port}"
            self._wait_until(
                lambda base=base: http_get(base + "/readyz", timeout=1.0)[0] == 200,  # type: ignore[misc]
                child=mc.child,
                what="answer /readyz",
            )
        wanted = {mc.mc_id for mc in started}
        assert self.gc is not None
        self._wait_until(
            lambda: wanted <= {str(m["mc_id"]) for m in self.fleet() if m.get("alive")},
            child=self.gc,
            what="list every MC as alive",
        )
        return started

    def start_raw(self, mode: str, *, frame_size: int = 0) -> RawServer:
        """Start a bare WebTransport server child (``fanout`` or ``echo``)."""
        self._raw_count += 1
        name = f"raw-{mode}-{self._raw_count}"
        ready_file = self.workdir / f"{name}.port"
        ready_file.unlink(missing_ok=True)
        child = self._start(
            name,
            [
                sys.executable,
                "-m",
                "meeting_controller.bench.rawserver",
                "--mode",
                mode,
                "--cert",
                str(self.cert.cert_file),
                "--key",
                str(self.cert.key_file),
                "--frame-size",
                str(frame_size),
                "--ready-file",
                str(ready_file),
            ],
            _clean_environment(),
        )
        self._wait_until(
            lambda: ready_file.exists() and ready_file.read_text().strip() != "",
            child=child,
            what="bind its UDP port",
        )
        return RawServer(mode=mode, child=child, port=int(ready_file.read_text().strip()))

    def stop(self, child: Child) -> int:
        code = child.stop()
        if child in self._children:
            self._children.remove(child)
        return code

    def close(self) -> None:
        """Stop every child still running (newest first), then Redis."""
        while self._children:
            child = self._children.pop()
            try:
                child.stop()
            except Exception as error:  # keep stopping the others
                self._log(f"  could not stop {child.name} (pid {child.pid}): {error}")
        if self.redis is not None:
            self.redis.cleanup()
            self.redis = None
