"""The ``meeting-controller run`` process: wiring, in the order things start and stop.

:func:`run` reads as the MC's life story, one step per line, so later components (the gRPC
server, GC registration, Redis, WebTransport, the drain) slot in where they belong:

1. logging, then one start line with the (redacted) settings;
2. SIGTERM/SIGINT handlers: from the first signal on, ``/readyz`` answers 503
   "shutting down" and the orderly shutdown begins;
3. Redis, eagerly: an unreachable Redis fails the start-up with the URL in the message; a
   background probe then keeps ``store_healthy`` current (assignments answer UNHEALTHY and
   ``/readyz`` fails while Redis is away, and both recover by themselves);
4. the actor core (the controller actor, root of the supervision tree);
5. the HTTP server (``/healthz``, ``/readyz``, ``/metrics``);
6. the gRPC ``MeetingControllerService`` (assignments, status);
7. registration with the GC (backoff 1 s..30 s, 5 retries; a rejection fails the start-up),
   then the fast and comprehensive heartbeats;
8. wait for a signal (or for the actor core to die, which is a failure);
9. stop heartbeats and the gRPC server, shut the actor core down (root cancellation, bounded
   by ``MC_DRAIN_TIMEOUT_SECONDS``), close Redis;
10. stop the HTTP server *last*, so probes and scrapes see the shutdown to the end;
11. one stop line; return the exit code.

The ``mc_meetings_active``/``mc_participants_active``/``mc_connections_active`` gauges are kept
by the actor core itself, incrementally, as meetings and connections come and go; this module
only reads the controller's cached status and never writes those gauges (doing both would
double count).
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import signal
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import grpc

from meeting_controller import config, logs, tls
from meeting_controller.actors import controller
from meeting_controller.actors.connection import RateLimit
from meeting_controller.actors.meeting import MeetingHandle, MeetingServices
from meeting_controller.adapters.http import HttpServer
from meeting_controller.adapters.webtransport import WebTransportServer
from meeting_controller.config import Address, Settings
from meeting_controller.drain import Drainer, DrainReport
from meeting_controller.errors import GcError, RegistrationRejected, StoreError
from meeting_controller.keeper import keep_meetings, refresh_interval
from meeting_controller.migration import Migrator
from meeting_controller.protocol import internal_pb2_grpc
from meeting_controller.rpc.gc_client import GcClient, Registration
from meeting_controller.rpc.mc_service import MeetingControllerService
from meeting_controller.signaling import GatewayConfig, SignalingGateway
from meeting_controller.store.fenced import FencedRedisClient
from meeting_controller.tokens import join as join_tokens

log = logging.getLogger(__name__)

#: Exit codes of ``meeting-controller run`` (2, a configuration error, is the CLI's).
EXIT_OK = 0
EXIT_FAILURE = 1

_NOT_READY_REASONS = {
    controller.McPhase.STARTING: "starting",
    controller.McPhase.DRAINING: "draining",
    controller.McPhase.DRAINED: "drained",
    controller.McPhase.SHUTTING_DOWN: "shutting down",
}


class Lifecycle:
    """What the probes report, derived from the process's own stop flag and the actor core.

    Kept apart from :func:`run` so the probe logic is one readable place: liveness is "the
    actor core has not died on its own", readiness is "running and not on the way out".
    """

    def __init__(self) -> None:
        self.stop_requested = asyncio.Event()
        self.handle: controller.MeetingControllerHandle | None = None
        #: Set once the GC client exists; readiness then requires a live registration.
        self.gc: GcClient | None = None
        #: Whether the last Redis probe succeeded (kept current by the store monitor).
        self.store_healthy = True
        self._background: set[asyncio.Task[None]] = set()
        #: Set once the MC is registered: SIGTERM and the admin Drain then drain first.
        self.drainer: Drainer | None = None
        self.migrator: Migrator | None = None
        self.drain_timeout_s = 0.0

    def on_drain(self, deadline_unix_ms: int, reason: str) -> int:
        """The operator asked for a drain (admin RPC); returns the deadline in force."""
        if self.drainer is None:
            raise RuntimeError("drain requested before the MC finished starting")
        return self.drainer.start(deadline_unix_ms=deadline_unix_ms, reason=reason)

    def on_meeting_ended(self, meeting_id: str, reason: str) -> None:
        """A meeting ended on its own: tell the GC (in the background, best effort)."""
        gc = self.gc
        if gc is not None:
            task = asyncio.create_task(
                gc.notify_meeting_ended(meeting_id=meeting_id, reason=reason)
            )
            self._background.add(task)
            task.add_done_callback(self._background.discard)

    def request_stop(self, reason: str) -> None:
        """SIGTERM/SIGINT: drain first (bounded by MC_DRAIN_TIMEOUT_SECONDS); again: stop now."""
        if self.stop_requested.is_set():
            log.info("%s: shutdown already in progress", reason, extra={"event": "signal"})
            return
        drainer = self.drainer
        if drainer is not None and not drainer.draining:
            log.info("%s: draining before shutdown", reason, extra={"event": "shutdown_requested"})
            deadline_ms = int((time.time() + self.drain_timeout_s) * 1000)
            drainer.start(deadline_unix_ms=deadline_ms, reason=reason)
            return
        log.info("%s: shutting down", reason, extra={"event": "shutdown_requested"})
        self.stop_requested.set()

    def liveness(self) -> bool:
        handle = self.handle
        if handle is None:
            return True
        return not handle.task.done() or self.stop_requested.is_set()

    def readiness(self) -> tuple[bool, str]:
        if self.stop_requested.is_set():
            return False, "shutting down"
        if self.handle is None:
            return False, "starting"
        if self.handle.task.done():
            return False, "the actor core has stopped"
        state = self.handle.get_status().state
        if state is not controller.McPhase.ACTIVE:
            return False, _NOT_READY_REASONS[state]
        if not self.store_healthy:
            return False, "redis unreachable"
        if self.gc is None or not self.gc.registered:
            return False, "not registered with the GC"
        return True, "ready"


async def run(settings: Settings) -> int:
    """Run one MC until SIGTERM/SIGINT; return the process exit code (0 on a clean stop)."""
    logs.configure_logging(
        fmt=settings.log_format, level=settings.log_level, context={"mc_id": settings.mc_id}
    )
    log.info(
        "meeting controller starting",
        extra={"event": "starting", "settings": settings.describe()},
    )
    lifecycle = Lifecycle()
    with _stop_on_signals(lifecycle):
        store = FencedRedisClient(settings.redis_url)
        try:
            await store.connect()
        except StoreError as error:
            log.error("cannot start: %s", error, extra={"event": "redis_unreachable"})
            await store.close()
            return EXIT_FAILURE
        monitor = asyncio.create_task(_monitor_store(store, lifecycle), name="store-monitor")
        session_secret = _session_secret(settings)
        handle = lifecycle.handle = controller.spawn_controller(
            mc_id=settings.mc_id,
            region=settings.region,
            max_meetings=settings.max_meetings,
            max_participants=settings.max_participants,
            mailbox_capacity=settings.mailbox_capacity,
            buffer_size=settings.event_buffer_size,
            services=MeetingServices(
                store=store,
                session_secret=session_secret,
                session_ttl_s=settings.session_ttl_seconds,
                disconnect_grace_s=settings.disconnect_grace_seconds,
                rate_limit=RateLimit(
                    per_second=settings.rate_limit_per_second, burst=settings.rate_limit_burst
                ),
            ),
            on_meeting_ended=lifecycle.on_meeting_ended,
        )
        keeper = asyncio.create_task(
            keep_meetings(
                controller=handle, store=store, interval=refresh_interval(store.meeting_ttl_ms)
            ),
            name="meeting-keeper",
        )
        http = HttpServer(liveness=lifecycle.liveness, readiness=lifecycle.readiness)
        grpc_server: grpc.aio.Server | None = None
        webtransport: WebTransportServer | None = None
        workdir = tempfile.TemporaryDirectory(prefix="meeting-controller-")
        gc: GcClient | None = None
        ran_cleanly = False
        try:
            if await _start_http(http, settings.http_listen):
                grpc_server, grpc_port = await _start_grpc(settings, handle, store, lifecycle)
                webtransport = await _start_webtransport(
                    settings, handle, session_secret, workdir=workdir.name
                )
                advertised = config.resolve_advertised(
                    settings, grpc_port=grpc_port, webtransport_port=webtransport.port
                )
                gc = lifecycle.gc = _gc_client(advertised, handle, lifecycle)
                if await _register(gc, lifecycle):
                    gc.start_heartbeats()
                    lifecycle.drainer = _drainer(gc, handle, lifecycle, settings, store)
                    lifecycle.drain_timeout_s = settings.drain_timeout_seconds
                    ran_cleanly = await _wait_for_stop(lifecycle, handle)
                else:
                    ran_cleanly = lifecycle.stop_requested.is_set()
        except OSError as error:
            log.error("cannot start: %s", error, extra={"event": "start_failed"})
        finally:  # also on a bug above: never leave the actor tree or a port behind
            lifecycle.stop_requested.set()  # readiness turns false on every path out
            if gc is not None:
                await gc.close()
            if lifecycle.migrator is not None:
                await lifecycle.migrator.close()
            if grpc_server is not None:
                await grpc_server.stop(grace=1.0)
            stopped_in_time = await _shut_down_actor_core(
                handle, timeout=settings.drain_timeout_seconds
            )
            if webtransport is not None:
                # Sessions the actors just closed (or redirected) get a moment to deliver
                # their last messages and close capsules before the sockets go.
                await _let_sessions_finish(webtransport, timeout=SESSION_FINISH_TIMEOUT)
                await webtransport.stop()
            monitor.cancel()
            keeper.cancel()
            workdir.cleanup()
            await store.close()
            await http.stop()
    exit_code = EXIT_OK if ran_cleanly and stopped_in_time else EXIT_FAILURE
    log.info("meeting controller stopped", extra={"event": "stopped", "exit_code": exit_code})
    return exit_code


#: At shutdown, how long closed sessions may take to finish before the server stops.
SESSION_FINISH_TIMEOUT = 1.5


async def _let_sessions_finish(server: WebTransportServer, *, timeout: float) -> None:
    step = 0.05
    for _ in range(round(timeout / step)):
        if not server.session_count:
            return
        await asyncio.sleep(step)


#: How often the store monitor probes Redis (readiness and UNHEALTHY follow within this).
STORE_PROBE_INTERVAL = 1.0


async def _monitor_store(store: FencedRedisClient, lifecycle: Lifecycle) -> None:
    """Keep ``lifecycle.store_healthy`` current, logging each change once."""
    while True:
        healthy = await store.ping()
        if healthy != lifecycle.store_healthy:
            if healthy:
                log.info("redis is reachable again", extra={"event": "redis_recovered"})
            else:
                log.error("redis at %s is unreachable", store.url, extra={"event": "redis_lost"})
            lifecycle.store_healthy = healthy
        await asyncio.sleep(STORE_PROBE_INTERVAL)


def _drainer(
    gc: GcClient,
    handle: controller.MeetingControllerHandle,
    lifecycle: Lifecycle,
    settings: Settings,
    store: FencedRedisClient,
) -> Drainer:
    async def notify_draining(deadline_unix_ms: int, reason: str) -> None:
        await gc.notify_draining(deadline_unix_ms=deadline_unix_ms, reason=reason)

    async def notify_drained(report: DrainReport) -> None:
        await gc.notify_drained(migrated=report.migrated, closed=report.closed, ended=report.ended)

    async def participants_of(meeting: MeetingHandle) -> int:
        return (await meeting.get_state()).participants

    migrator = lifecycle.migrator = Migrator(
        mc_id=settings.mc_id,
        gc=gc,
        admin_token=settings.admin_token,
        participants_of=participants_of,
        generation_of=store.get_generation,
    )
    return Drainer(
        controller=handle,
        notify_draining=notify_draining,
        notify_drained=notify_drained,
        on_drained=lifecycle.stop_requested.set,
        migrate=migrator.migrate,
    )


def _session_secret(settings: Settings) -> bytes:
    """The fleet's session master secret, or a random one for a lone MC (with a warning)."""
    if settings.session_master_secret is not None:
        return settings.session_master_secret.reveal()
    log.warning(
        "MC_SESSION_MASTER_SECRET_FILE is not set: using a random secret, so session tokens "
        "are valid on this MC only (fine for a single local MC, not for a fleet)",
        extra={"event": "random_session_secret"},
    )
    return secrets.token_bytes(32)


async def _start_webtransport(
    settings: Settings,
    handle: controller.MeetingControllerHandle,
    session_secret: bytes,
    *,
    workdir: str,
) -> WebTransportServer:
    """Serve signaling over WebTransport with the configured (or a generated) certificate."""
    if settings.tls_cert_file is not None and settings.tls_key_file is not None:
        cert_file, key_file = settings.tls_cert_file, settings.tls_key_file
        info = tls.load_certificate(cert_file=cert_file, key_file=key_file)
    else:
        cert_file = Path(workdir) / "cert.pem"
        key_file = Path(workdir) / "key.pem"
        info = tls.generate_self_signed(
            cert_file=cert_file, key_file=key_file, names=[settings.mc_id]
        )
    assert settings.join_token_public_key is not None  # config.require_for_run checked it
    gateway = SignalingGateway(
        controller=handle,
        config=GatewayConfig(
            join_token_key=join_tokens.public_key_from_pem(
                settings.join_token_public_key, source="MC_JOIN_TOKEN_PUBLIC_KEY_FILE"
            ),
            session_secret=session_secret,
        ),
    )
    server = WebTransportServer(
        host=settings.webtransport_listen.host,
        port=settings.webtransport_listen.port,
        certificate_file=str(cert_file),
        private_key_file=str(key_file),
        on_session=gateway.handle_session,
        max_frame_size=settings.max_frame_bytes,
    )
    await server.start()
    log.info(
        "WebTransport listening; certificate SHA-256 %s",
        info.sha256_hex,
        extra={
            "event": "webtransport_listening",
            "webtransport_port": server.port,
            "certificate_sha256": info.sha256_hex,
        },
    )
    return server


async def _start_grpc(
    settings: Settings,
    handle: controller.MeetingControllerHandle,
    store: FencedRedisClient,
    lifecycle: Lifecycle,
) -> tuple[grpc.aio.Server, int]:
    """Serve MeetingControllerService; returns the server and the bound port."""
    # SO_REUSEPORT off: a second process on the same port must fail, not share the calls.
    server = grpc.aio.server(options=[("grpc.so_reuseport", 0)])
    internal_pb2_grpc.add_MeetingControllerServiceServicer_to_server(
        MeetingControllerService(
            controller=handle,
            store=store,
            store_healthy=lambda: lifecycle.store_healthy,
            registered=lambda: lifecycle.gc is not None and lifecycle.gc.registered,
            admin_token=settings.admin_token,
            on_drain=lifecycle.on_drain,
        ),
        server,
    )
    address = settings.grpc_listen
    try:
        port = server.add_insecure_port(str(address))
    except RuntimeError as error:
        raise OSError(f"cannot listen for gRPC on {address}: {error}") from error
    await server.start()
    log.info("gRPC listening", extra={"event": "grpc_listening", "grpc_port": port})
    return server, port


def _gc_client(
    settings: Settings, handle: controller.MeetingControllerHandle, lifecycle: Lifecycle
) -> GcClient:
    return GcClient(
        endpoint=str(settings.gc_endpoint),
        registration=Registration(
            mc_id=settings.mc_id,
            region=settings.region,
            grpc_endpoint=str(settings.grpc_advertise),
            webtransport_endpoint=settings.webtransport_advertise,
            max_meetings=settings.max_meetings,
            max_participants=settings.max_participants,
        ),
        status=handle.get_status,
        healthy=lambda: lifecycle.store_healthy,
        fleet_fast_ms=settings.fast_heartbeat_ms,
        fleet_comprehensive_ms=settings.comprehensive_heartbeat_ms,
    )


async def _register(gc: GcClient, lifecycle: Lifecycle) -> bool:
    """Register (racing a stop request); ``False`` when start-up must end here."""
    registering = asyncio.create_task(gc.register(), name="gc-register")
    stop = asyncio.create_task(lifecycle.stop_requested.wait(), name="wait-for-stop")
    try:
        await asyncio.wait({registering, stop}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        stop.cancel()
    if not registering.done():
        registering.cancel()
        return False
    error = registering.exception()
    if error is None:
        return True
    if isinstance(error, RegistrationRejected):
        log.error("cannot start: %s", error, extra={"event": "registration_rejected"})
    elif isinstance(error, GcError):
        log.error("cannot start: %s", error, extra={"event": "registration_failed"})
    else:
        raise error
    return False


@contextmanager
def _stop_on_signals(lifecycle: Lifecycle) -> Iterator[None]:
    """Turn SIGTERM (Kubernetes) and SIGINT (Ctrl-C) into an orderly stop while inside."""
    loop = asyncio.get_running_loop()
    installed = []
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, lifecycle.request_stop, signal.Signals(signum).name)
        installed.append(signum)
    try:
        yield
    finally:
        for signum in installed:
            loop.remove_signal_handler(signum)


async def _start_http(http: HttpServer, address: Address) -> bool:
    """Start the HTTP server; ``False`` (logged) when the address cannot be bound."""
    try:
        await http.start(address.host, address.port)
    except OSError as error:
        log.error(
            "cannot listen for HTTP on %s: %s",
            address,
            error.strerror or error,
            extra={"event": "listen_failed"},
        )
        return False
    log.info("meeting controller running", extra={"event": "running", "http_port": http.port})
    return True


async def _wait_for_stop(lifecycle: Lifecycle, handle: controller.MeetingControllerHandle) -> bool:
    """Wait for a stop request; ``False`` when the actor core ended on its own first."""
    stop = asyncio.create_task(lifecycle.stop_requested.wait(), name="wait-for-stop")
    try:
        await asyncio.wait({stop, handle.task}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        stop.cancel()
    if lifecycle.stop_requested.is_set():
        return True
    error = None if handle.task.cancelled() else handle.task.exception()
    log.error(
        "the actor core stopped unexpectedly: %r",
        error,
        exc_info=error,
        extra={"event": "actor_core_died"},
    )
    return False


async def _shut_down_actor_core(
    handle: controller.MeetingControllerHandle, *, timeout: float
) -> bool:
    """Root cancellation with a hard deadline; ``False`` when the deadline was missed.

    The actor core bounds each level itself (50 ms / 5 s / 30 s); this outer deadline is the
    last line of defence so a bug there cannot keep a pod in Terminating until SIGKILL.
    """
    try:
        async with asyncio.timeout(timeout):
            await handle.shutdown()
    except TimeoutError:
        handle.task.cancel()
        log.error(
            "the actor core did not stop within %.0f s; abandoned",
            timeout,
            extra={"event": "shutdown_timeout"},
        )
        return False
    return True
