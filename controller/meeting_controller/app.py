"""The ``meeting-controller run`` process: wiring, in the order things start and stop.

:func:`run` reads as the MC's life story, one step per line, so later components (the gRPC
server, GC registration, Redis, WebTransport, the drain) slot in where they belong:

1. logging, then one start line with the (redacted) settings;
2. SIGTERM/SIGINT handlers: from the first signal on, ``/readyz`` answers 503
   "shutting down" and the orderly shutdown begins;
3. the actor core (the controller actor, root of the supervision tree);
4. the HTTP server (``/healthz``, ``/readyz``, ``/metrics``);
5. wait for a signal (or for the actor core to die, which is a failure);
6. shut the actor core down (root cancellation, bounded by ``MC_DRAIN_TIMEOUT_SECONDS``);
7. stop the HTTP server *last*, so probes and scrapes see the shutdown to the end;
8. one stop line; return the exit code.

The ``mc_meetings_active``/``mc_participants_active``/``mc_connections_active`` gauges are kept
by the actor core itself, incrementally, as meetings and connections come and go; this module
only reads the controller's cached status and never writes those gauges (doing both would
double count).
"""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Iterator
from contextlib import contextmanager

from meeting_controller import logs
from meeting_controller.actors import controller
from meeting_controller.adapters.http import HttpServer
from meeting_controller.config import Address, Settings

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

    def request_stop(self, reason: str) -> None:
        if self.stop_requested.is_set():
            log.info("%s: shutdown already in progress", reason, extra={"event": "signal"})
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
        if state is controller.McPhase.ACTIVE:
            return True, "ready"
        return False, _NOT_READY_REASONS[state]


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
        handle = lifecycle.handle = controller.spawn_controller(
            mc_id=settings.mc_id,
            region=settings.region,
            max_meetings=settings.max_meetings,
            max_participants=settings.max_participants,
            mailbox_capacity=settings.mailbox_capacity,
            buffer_size=settings.event_buffer_size,
        )
        http = HttpServer(liveness=lifecycle.liveness, readiness=lifecycle.readiness)
        try:
            started = await _start_http(http, settings.http_listen)
            ran_cleanly = started and await _wait_for_stop(lifecycle, handle)
        finally:  # also on a bug above: never leave the actor tree or the port behind
            lifecycle.stop_requested.set()  # readiness turns false on every path out
            stopped_in_time = await _shut_down_actor_core(
                handle, timeout=settings.drain_timeout_seconds
            )
            await http.stop()
    exit_code = EXIT_OK if ran_cleanly and stopped_in_time else EXIT_FAILURE
    log.info("meeting controller stopped", extra={"event": "stopped", "exit_code": exit_code})
    return exit_code


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
