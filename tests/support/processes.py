"""Real ``meeting-controller`` processes for the tests, on free 127.0.0.1 ports.

The process tests exercise what an operator or kubelet sees: a real interpreter started with
``python -m meeting_controller.cli`` (``sys.executable``, so it is always the interpreter running
pytest, whatever is on ``PATH``), configured only through its environment, probed over real
HTTP and stopped with real signals.

Guarantees:

* the child's environment is the test's own ``MC_*``-free copy of ``os.environ`` plus exactly
  the variables a test passes, so a developer's shell cannot change a test's outcome;
* stdout and stderr go to files (no pipe can fill up and block the child) that tests read;
* children are stopped by their own PID only: SIGTERM, a bounded wait, then SIGKILL, and
  :class:`ProcessGroup` stops whatever is still running when a test ends, pass or fail;
* every wait is bounded and a failure message carries the child's stderr.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from email.message import Message
from pathlib import Path

#: How long a child may take to answer its first HTTP request.
START_TIMEOUT_S = 15.0
#: How long a child gets between SIGTERM and SIGKILL.
STOP_TIMEOUT_S = 10.0
HOST = "127.0.0.1"


def free_port(kind: int = socket.SOCK_STREAM) -> int:
    """A port on 127.0.0.1 that the OS just reported free (TCP, or UDP with SOCK_DGRAM)."""
    with socket.socket(socket.AF_INET, kind) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def base_environment() -> dict[str, str]:
    """``os.environ`` without any ``MC_*`` variable."""
    return {name: value for name, value in os.environ.items() if not name.startswith("MC_")}


def pid_is_running(pid: int) -> bool:
    """True while ``pid`` is a live (non-zombie) process."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else (a reused PID)
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True  # no procfs: trust kill(0)
    return stat.rpartition(")")[2].split()[0] != "Z"


@dataclass(frozen=True)
class HttpAnswer:
    """One HTTP response: status, headers and body (for 4xx/5xx too)."""

    status: int
    headers: Message
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")


def http_get(url: str, *, timeout: float = 2.0) -> HttpAnswer:
    """GET ``url``; any HTTP status is an answer, only a transport failure raises ``OSError``."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return HttpAnswer(response.status, response.headers, response.read())
    except urllib.error.HTTPError as error:
        return HttpAnswer(error.code, error.headers, error.read())


@dataclass
class CliProcess:
    """A running ``meeting-controller`` child and the files its output goes to."""

    argv: tuple[str, ...]
    process: subprocess.Popen[bytes]
    stdout_path: Path
    stderr_path: Path
    ports: dict[str, int] = field(default_factory=dict)

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def http_url(self) -> str:
        """``http://127.0.0.1:<port>`` of the child's HTTP server (``ports["http"]``)."""
        return f"http://{HOST}:{self.ports['http']}"

    def stdout(self) -> str:
        return self.stdout_path.read_text(errors="replace")

    def stderr(self) -> str:
        return self.stderr_path.read_text(errors="replace")

    def get(self, path: str, *, timeout: float = 2.0) -> HttpAnswer:
        return http_get(self.http_url + path, timeout=timeout)

    def wait_for_http(self, path: str = "/healthz", *, timeout: float = START_TIMEOUT_S) -> None:
        """Poll ``path`` until it answers 200; fail early (with stderr) if the child exits."""
        deadline = time.monotonic() + timeout
        while True:
            code = self.process.poll()
            if code is not None:
                raise AssertionError(
                    f"{self.argv} exited with {code} before answering {path}:\n{self.stderr()}"
                )
            try:
                if self.get(path, timeout=1.0).status == 200:
                    return
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"{self.argv} did not answer {path} within {timeout} s:\n{self.stderr()}"
                )
            time.sleep(0.02)

    def wait(self, *, timeout: float) -> int:
        """Wait for the child to exit by itself; fail (after killing it) past ``timeout``."""
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError(
                f"{self.argv} still running after {timeout} s:\n{self.stderr()}"
            ) from None

    def stop(self, *, signum: int = signal.SIGTERM, timeout: float = STOP_TIMEOUT_S) -> int:
        """Send ``signum``, wait up to ``timeout``, then SIGKILL; return the exit code."""
        if self.process.poll() is None:
            self.process.send_signal(signum)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.kill()
        return self.process.returncode

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()


class ProcessGroup:
    """Starts ``meeting-controller`` children for one test and stops them all at the end."""

    def __init__(self, *, workdir: Path, mc_env: Mapping[str, str] | None = None) -> None:
        self.workdir = workdir
        #: Variables every :meth:`start_mc` child gets (the test's Redis and GC), before its own.
        self.mc_env = dict(mc_env or {})
        self._children: list[CliProcess] = []

    def start(self, args: Sequence[str], *, env: Mapping[str, str] | None = None) -> CliProcess:
        """Start ``meeting-controller <args>`` with the base environment plus ``env``."""
        index = len(self._children)
        stdout_path = self.workdir / f"child-{index}.stdout"
        stderr_path = self.workdir / f"child-{index}.stderr"
        argv = (sys.executable, "-m", "meeting_controller.cli", *args)
        with stdout_path.open("wb") as stdout, stderr_path.open("wb") as stderr:
            process = subprocess.Popen(
                argv,
                env={**base_environment(), **(env or {})},
                cwd=self.workdir,
                stdin=subprocess.DEVNULL,
                stdout=stdout,
                stderr=stderr,
            )
        child = CliProcess(
            argv=tuple(args), process=process, stdout_path=stdout_path, stderr_path=stderr_path
        )
        self._children.append(child)
        return child

    def start_mc(
        self, *, env: Mapping[str, str] | None = None, args: Sequence[str] = (), wait: bool = True
    ) -> CliProcess:
        """Start ``meeting-controller run`` on free ports; by default wait for ``/healthz``.

        gRPC listens on port 0 (the MC binds a free one and advertises it to the GC).
        ``env`` is applied after the port variables and :attr:`mc_env`, so a test can
        override any of them.
        """
        ports = {
            "http": free_port(),
            "webtransport": free_port(socket.SOCK_DGRAM),
        }
        mc_env = {
            "MC_ID": "test-mc",
            "MC_HTTP_LISTEN": f"{HOST}:{ports['http']}",
            "MC_GRPC_LISTEN": f"{HOST}:0",
            "MC_WEBTRANSPORT_LISTEN": f"{HOST}:{ports['webtransport']}",
            **self.mc_env,
            **(env or {}),
        }
        child = self.start(["run", *args], env=mc_env)
        child.ports.update(ports)
        if wait:
            child.wait_for_http("/healthz")
        return child

    def close(self) -> None:
        """Stop every child still running (SIGTERM, bounded wait, SIGKILL)."""
        while self._children:
            self._children.pop().stop()
