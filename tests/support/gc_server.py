"""The reference GC (``gc.server.GlobalController``) for synchronous tests, on its own thread.

The process tests start real ``meeting-controller run`` children, which need a GC to register
with. Running the real :class:`~meeting_controller.gc.server.GlobalController` in-process, on a
private event loop in a daemon thread, costs milliseconds (no interpreter to start), binds free
ports itself (port 0: no race), and lets a test look at the registry directly. Every wait is
bounded; :meth:`ThreadedGc.stop` stops the servers, then the loop, then joins the thread.
"""

from __future__ import annotations

import asyncio
import json
import threading
import urllib.request
from collections.abc import Coroutine
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

from meeting_controller import tokens
from meeting_controller.gc import server

#: How long starting or stopping the GC may take.
TIMEOUT_S = 10.0

_T = TypeVar("_T")


class ThreadedGc:
    """A real reference GC on 127.0.0.1 (free ports), served from a background thread."""

    def __init__(self, *, fast_heartbeat_ms: int = 0, comprehensive_heartbeat_ms: int = 0) -> None:
        self.signing_key = tokens.generate_signing_key()
        self.gc = server.GlobalController(
            grpc_listen="127.0.0.1:0",
            http_listen="127.0.0.1:0",
            signing_key=self.signing_key,
            fast_heartbeat_ms=fast_heartbeat_ms,
            comprehensive_heartbeat_ms=comprehensive_heartbeat_ms,
        )
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="gc", daemon=True)

    @property
    def grpc_address(self) -> str:
        """``127.0.0.1:<port>``: what an MC's ``MC_GC_ENDPOINT`` is set to."""
        return self.gc.grpc_address

    @property
    def http_url(self) -> str:
        return self.gc.http_url

    def write_public_key(self, path: Path) -> Path:
        """Write the GC's join-token public key (PEM) for ``MC_JOIN_TOKEN_PUBLIC_KEY_FILE``."""
        path.write_bytes(tokens.public_key_pem(self.signing_key))
        return path

    def start(self) -> None:
        self._thread.start()
        try:
            self._call(self.gc.start())
        except BaseException:
            self._stop_loop()
            raise

    def stop(self) -> None:
        """Stop the GC's servers and its thread (idempotent)."""
        if not self._thread.is_alive():
            return
        try:
            self._call(self.gc.stop())
        finally:
            self._stop_loop()

    def fleet(self) -> list[dict[str, Any]]:
        """The MCs as ``GET /v1/mcs`` lists them (over real HTTP)."""
        with urllib.request.urlopen(self.http_url + "/v1/mcs", timeout=2.0) as response:
            mcs: list[dict[str, Any]] = json.loads(response.read())["mcs"]
            return mcs

    def _call(self, coroutine: Coroutine[Any, Any, _T]) -> _T:
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(TIMEOUT_S)

    def _stop_loop(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(TIMEOUT_S)
        if not self._thread.is_alive():
            self._loop.close()

    def __enter__(self) -> ThreadedGc:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
