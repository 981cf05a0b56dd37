"""Headless Chromium driven over the DevTools protocol, for the web console tests.

The browser is the Debian package ``chromium`` (``scripts/install-chromium.sh``), started with
the flags ARCHITECTURE.md lists as working for WebTransport here, a fresh profile and
``--remote-debugging-port=0``; Chromium writes the port it picked to ``DevToolsActivePort`` in
the profile. The test talks to the page's DevTools target over a WebSocket with aiohttp (already
a dependency): ``Runtime.evaluate`` to read the DOM and click what a user would click, and
``Page.captureScreenshot``. Console messages and uncaught exceptions are collected so that a
failure shows what the page said.

The browser is stopped by its own PID (SIGTERM, bounded wait, SIGKILL); it runs in a session
of its own, so its helper processes (renderer, GPU, zygote) are stopped with it.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import itertools
import json
import os
import signal
import subprocess
import time
from pathlib import Path
from types import TracebackType
from typing import Any

import aiohttp
import pytest

#: Where Debian's ``chromium`` package puts the browser; ``CHROMIUM`` overrides it.
DEFAULT_CHROMIUM = "/usr/bin/chromium"
#: The flags that work for WebTransport against aioquic here (see ARCHITECTURE.md).
FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
START_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 10.0


def require_chromium() -> str:
    """The browser's path; a missing browser skips the test, or fails it when ``CI`` is set."""
    path = os.environ.get("CHROMIUM", DEFAULT_CHROMIUM)
    if os.access(path, os.X_OK):
        return path
    message = (
        f"headless Chromium is not installed ({path} is missing): "
        "run `sudo scripts/install-chromium.sh` (Debian package `chromium`)"
    )
    if os.environ.get("CI"):
        pytest.fail(f"CI is set, so the browser test must run: {message}", pytrace=False)
    pytest.skip(message)


class PageError(AssertionError):
    """A script evaluated in the page threw."""


class Browser:
    """One headless Chromium with one page; use ``async with Browser(...) as browser``."""

    def __init__(self, executable: str, *, profile: Path, log_file: Path) -> None:
        self.executable = executable
        self.profile = profile
        self.log_file = log_file
        self.process: subprocess.Popen[bytes] | None = None
        self.console: list[str] = []
        self._http: aiohttp.ClientSession | None = None
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._reader: asyncio.Task[None] | None = None
        self._pending: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self._ids = itertools.count(1)

    async def open(self, url: str) -> None:
        """Start the browser on ``url`` and attach to the page."""
        self.process = await asyncio.to_thread(self._spawn, url)
        port = await self._devtools_port()
        self._http = aiohttp.ClientSession()
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            async with self._http.get(f"http://127.0.0.1:{port}/json/list") as response:
                targets = await response.json()
            pages = [t for t in targets if t.get("type") == "page" and t.get("url") == url]
            if pages:
                break
            if time.monotonic() > deadline:
                raise TimeoutError(f"Chromium shows no page for {url}: {targets}")
            await asyncio.sleep(0.1)
        self._ws = await self._http.ws_connect(pages[0]["webSocketDebuggerUrl"], max_msg_size=0)
        self._reader = asyncio.create_task(self._read(), name="cdp-reader")
        await self.command("Runtime.enable")

    def _spawn(self, url: str) -> subprocess.Popen[bytes]:
        self.profile.mkdir(parents=True, exist_ok=True)
        with self.log_file.open("wb") as log:
            return subprocess.Popen(
                [
                    self.executable,
                    *FLAGS,
                    f"--user-data-dir={self.profile}",
                    "--remote-debugging-port=0",
                    "--window-size=1100,900",
                    url,
                ],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    async def _devtools_port(self) -> int:
        marker = self.profile / "DevToolsActivePort"
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                raise RuntimeError(f"Chromium exited at start-up: {self.log()}")
            with contextlib.suppress(FileNotFoundError, ValueError, IndexError):
                return int(marker.read_text().splitlines()[0])
            await asyncio.sleep(0.05)
        raise TimeoutError(f"Chromium wrote no {marker} within {START_TIMEOUT_S} s: {self.log()}")

    async def _read(self) -> None:
        assert self._ws is not None
        async for frame in self._ws:
            if frame.type != aiohttp.WSMsgType.TEXT:
                continue
            message = json.loads(frame.data)
            future = self._pending.pop(message.get("id", -1), None)
            if future is not None:
                if not future.done():
                    future.set_result(message)
                continue
            method = message.get("method")
            params = message.get("params", {})
            if method == "Runtime.consoleAPICalled":
                text = " ".join(
                    str(arg.get("value", arg.get("description"))) for arg in params["args"]
                )
                self.console.append(f"console.{params['type']}: {text}")
            elif method == "Runtime.exceptionThrown":
                details = params["exceptionDetails"]
                self.console.append(
                    f"exception: {details.get('exception', {}).get('description', details)}"
                )
        for future in self._pending.values():
            if not future.done():
                future.set_exception(ConnectionError("the DevTools connection closed"))

    async def command(self, method: str, **params: Any) -> dict[str, Any]:
        assert self._ws is not None
        ident = next(self._ids)
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._pending[ident] = future
        await self._ws.send_json({"id": ident, "method": method, "params": params})
        async with asyncio.timeout(30):
            answer = await future
        if "error" in answer:
            raise RuntimeError(f"{method} failed: {answer['error']}")
        result: dict[str, Any] = answer.get("result", {})
        return result

    async def evaluate(self, expression: str) -> Any:
        """The value of a JavaScript expression in the page (promises are awaited)."""
        result = await self.command(
            "Runtime.evaluate", expression=expression, awaitPromise=True, returnByValue=True
        )
        if "exceptionDetails" in result:
            details = result["exceptionDetails"]
            raise PageError(details.get("exception", {}).get("description", str(details)))
        return result["result"].get("value")

    async def screenshot(self, path: Path) -> Path:
        shot = await self.command("Page.captureScreenshot", format="png")
        await asyncio.to_thread(path.write_bytes, base64.b64decode(shot["data"]))
        return path

    def log(self) -> str:
        try:
            return self.log_file.read_text(errors="replace")[-4000:]
        except FileNotFoundError:
            return ""

    async def close(self) -> None:
        if self._ws is not None:
            await self._ws.close()
        if self._reader is not None:
            with contextlib.suppress(Exception):
                await self._reader
        if self._http is not None:
            await self._http.close()
        process = self.process
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            await asyncio.to_thread(process.wait, STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            process.kill()
            await asyncio.to_thread(process.wait, STOP_TIMEOUT_S)
        # Helpers that outlived the browser are in its own session (process group).
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)

    async def __aenter__(self) -> Browser:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()
