"""The reference GC process: gRPC service + HTTP API + the sweeper, wired together.

Everything lives in memory (see ``registry`` and ``directory``): a restarted GC starts empty,
MCs learn of it from ``UNKNOWN_MC`` heartbeat answers and register again, and meetings are
found again through the MCs when a client asks for them.

The sweeper runs every fraction of a second to a second: it reports MCs that just died (three
missed fast heartbeats) and re-homes the meetings recorded on MCs that are dead or drained, so
``GET /v1/meetings/<id>`` answers the new MC by the time clients ask where to resume.
Placement never depends on the sweeper having run: liveness is computed on every question.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Callable
from typing import Final

import grpc
import grpc.aio
from cryptography.hazmat.primitives.asymmetric import ed25519

from meeting_controller import errors
from meeting_controller.gc import directory as directory_
from meeting_controller.gc import http_api, placer, service
from meeting_controller.gc import registry as registry_
from meeting_controller.protocol import internal_pb2_grpc

log = logging.getLogger(__name__)

DEFAULT_TOKEN_TTL_SECONDS: Final = 300.0
DEFAULT_GC_ID: Final = "reference-gc"


def parse_listen_address(value: str, *, option: str) -> tuple[str, int]:
    """``host:port`` or ``[v6-host]:port`` -> ``(host, port)``; port 0 means "any free port".

    Raises :class:`~meeting_controller.errors.ConfigError` naming ``option``.
    """
    host, sep, port_text = value.rpartition(":")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    if not sep or not host or not port_text.isdigit() or int(port_text) > 65535:
        raise errors.ConfigError(
            f"{option} must be host:port with a port from 0 to 65535 (e.g. 127.0.0.1:8080), "
            f"not {value!r}"
        )
    return host, int(port_text)


def sweep_interval(window: float) -> float:
    """A third of the liveness window, between 50 ms and 1 s."""
    return min(1.0, max(0.05, window / 3))


class GlobalController:
    """The reference GC. ``await start()``, then ``grpc_address`` and ``http_url`` are bound."""

    def __init__(
        self,
        *,
        grpc_listen: str,
        http_listen: str,
        signing_key: ed25519.Ed25519PrivateKey,
        fast_heartbeat_ms: int = 0,
        comprehensive_heartbeat_ms: int = 0,
        token_ttl_s: float = DEFAULT_TOKEN_TTL_SECONDS,
        default_region: str | None = None,
        gc_id: str = DEFAULT_GC_ID,
        rpc_timeout_s: float = placer.DEFAULT_RPC_TIMEOUT_SECONDS,
        sweep_interval_s: float | None = None,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
        rng: random.Random | None = None,
    ) -> None:
        self._grpc_host, self._grpc_port = parse_listen_address(grpc_listen, option="--grpc-listen")
        self._http_host, self._http_port = parse_listen_address(http_listen, option="--http-listen")
        self._clock = clock
        self.registry = registry_.Registry(
            fast_interval_s=registry_.effective_fast_interval(fast_heartbeat_ms)
        )
        self.directory = directory_.MeetingDirectory()
        self._clients = placer.McClients()
        rng = rng or random.Random()
        self.placer = placer.Placer(
            registry=self.registry,
            directory=self.directory,
            clients=self._clients,
            clock=clock,
            rng=rng,
            gc_id=gc_id,
            rpc_timeout_s=rpc_timeout_s,
        )
        self.servicer = service.GlobalControllerServicer(
            registry=self.registry,
            directory=self.directory,
            clock=clock,
            fast_heartbeat_ms=fast_heartbeat_ms,
            comprehensive_heartbeat_ms=comprehensive_heartbeat_ms,
            rng=rng,
        )
        self.http = http_api.HttpApi(
            placer=self.placer,
            registry=self.registry,
            directory=self.directory,
            signing_key=signing_key,
            token_ttl_s=token_ttl_s,
            default_region=default_region,
            clock=clock,
            wall_clock=wall_clock,
        )
        self._sweep_interval_s = sweep_interval_s or sweep_interval(self.registry.window)
        self._grpc_server: grpc.aio.Server | None = None
        self._http_server: asyncio.Server | None = None
        self._sweeper: asyncio.Task[None] | None = None
        self.grpc_address = ""
        """``host:port`` the gRPC server listens on (after :meth:`start`)."""
        self.http_url = ""
        """``http://host:port`` of the HTTP API (after :meth:`start`)."""

    async def start(self) -> None:
        """Bind both listeners and start the sweeper; undo everything if one fails."""
        try:
            # Without this, gRPC binds with SO_REUSEPORT and a second GC on the same port
            # would start "successfully" and receive half of the MCs' calls.
            grpc_server = grpc.aio.server(options=[("grpc.so_reuseport", 0)])
            self._grpc_server = grpc_server
            internal_pb2_grpc.add_GlobalControllerServiceServicer_to_server(
                self.servicer, grpc_server
            )
            target = _join(self._grpc_host, self._grpc_port)
            try:
                port = grpc_server.add_insecure_port(target)
            except RuntimeError as exc:
                raise errors.ConfigError(
                    f"--grpc-listen: cannot listen on {target}: {exc}"
                ) from None
            if port == 0:
                raise errors.ConfigError(f"--grpc-listen: cannot listen on {target}")
            await grpc_server.start()
            self.grpc_address = _join(self._grpc_host, port)
            try:
                self._http_server = await self.http.start(
                    host=self._http_host, port=self._http_port
                )
            except OSError as exc:
                raise errors.ConfigError(
                    f"--http-listen: cannot listen on "
                    f"{_join(self._http_host, self._http_port)}: {exc.strerror or exc}"
                ) from None
            http_port = self._http_server.sockets[0].getsockname()[1]
            self.http_url = f"http://{_join(self._http_host, http_port)}"
            self._sweeper = asyncio.create_task(self._sweep_forever(), name="gc-sweeper")
        except BaseException:
            await self.stop()
            raise
        log.info(
            "reference GC listening: gRPC %s, HTTP %s (liveness window %gs)",
            self.grpc_address,
            self.http_url,
            self.registry.window,
        )

    async def stop(self, *, grace_s: float = 1.0) -> None:
        """Stop the sweeper, the listeners (in-flight gRPC calls get ``grace_s``), channels."""
        if self._sweeper is not None:
            self._sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sweeper
            self._sweeper = None
        if self._http_server is not None:
            self._http_server.close()
            await self._http_server.wait_closed()
            self._http_server = None
        if self._grpc_server is not None:
            await self._grpc_server.stop(grace_s)
            self._grpc_server = None
        await self._clients.close()

    async def sweep(self) -> None:
        """One sweep: report newly dead MCs, re-home meetings of dead or drained MCs."""
        for record in self.registry.sweep(now=self._clock()):
            log.warning(
                "MC %s missed %d fast heartbeats: unhealthy, no longer placed on (%d meetings "
                "recorded there)",
                record.mc_id,
                registry_.MISSED_HEARTBEATS_LIMIT,
                len(self.directory.on_mc(record.mc_id)),
            )
        await self.placer.resolve_orphans()

    async def _sweep_forever(self) -> None:
        while True:
            await asyncio.sleep(self._sweep_interval_s)
            try:
                await self.sweep()
            except Exception:
                log.exception("GC sweep failed; trying again in %gs", self._sweep_interval_s)


async def serve(
    *,
    grpc_listen: str,
    http_listen: str,
    signing_key: ed25519.Ed25519PrivateKey,
    stop: asyncio.Event,
    fast_heartbeat_ms: int = 0,
    comprehensive_heartbeat_ms: int = 0,
    token_ttl_s: float = DEFAULT_TOKEN_TTL_SECONDS,
    default_region: str | None = None,
    gc_id: str = DEFAULT_GC_ID,
    on_ready: Callable[[GlobalController], None] | None = None,
) -> None:
    """Run the reference GC until ``stop`` is set, then shut it down cleanly."""
    gc = GlobalController(
        grpc_listen=grpc_listen,
        http_listen=http_listen,
        signing_key=signing_key,
        fast_heartbeat_ms=fast_heartbeat_ms,
        comprehensive_heartbeat_ms=comprehensive_heartbeat_ms,
        token_ttl_s=token_ttl_s,
        default_region=default_region,
        gc_id=gc_id,
    )
    await gc.start()
    try:
        if on_ready is not None:
            on_ready(gc)
        await stop.wait()
        log.info("reference GC stopping")
    finally:
        await gc.stop()


def _join(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
