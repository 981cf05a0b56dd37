"""The MC's client of the Global Controller: registration and the two heartbeat loops.

Registration follows the specification: ``RegisterMc`` with exponential backoff (1 s doubling
to 30 s, at most 5 retries) on failures to reach the GC, dropping the cached channel after a
connection failure so the next attempt really reconnects. A GC that answers
``accepted=false`` has decided: the MC must not start (:class:`RegistrationRejected`).

Once registered the client keeps the intervals the GC returned (0 = the fleet default, else
the built-in 10 s / 30 s) and runs the fast and comprehensive heartbeats. A heartbeat that
fails is retried on the next tick; a GC that says it does not know this MC (it restarted and
lost its in-memory fleet) gets a fresh registration.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Awaitable, Callable

import grpc

from meeting_controller import metrics
from meeting_controller.actors.controller import ControllerStatus
from meeting_controller.core.heartbeat import Backoff, HeartbeatIntervals, resolve_intervals
from meeting_controller.errors import GcError, RegistrationRejected
from meeting_controller.protocol import internal_pb2, internal_pb2_grpc
from meeting_controller.resources import ResourceSampler
from meeting_controller.rpc.convert import mc_state

log = logging.getLogger(__name__)

#: Per-call deadline for GC calls: a GC that does not answer within it counts as a failure.
CALL_TIMEOUT = 5.0

Sleep = Callable[[float], Awaitable[None]]


@dataclasses.dataclass(frozen=True)
class Registration:
    """What this MC tells the GC about itself."""

    mc_id: str
    region: str
    grpc_endpoint: str
    webtransport_endpoint: str
    max_meetings: int
    max_participants: int


class GcClient:
    """Registers with the GC and keeps it informed; see the module docstring."""

    def __init__(
        self,
        *,
        endpoint: str,
        registration: Registration,
        status: Callable[[], ControllerStatus],
        healthy: Callable[[], bool] = lambda: True,
        fleet_fast_ms: int | None = None,
        fleet_comprehensive_ms: int | None = None,
        backoff: Backoff | None = None,
        sleep: Sleep = asyncio.sleep,
        sampler: ResourceSampler | None = None,
    ) -> None:
        self._endpoint = endpoint
        self._registration = registration
        self._status = status
        self._healthy = healthy
        self._fleet_fast_ms = fleet_fast_ms
        self._fleet_comprehensive_ms = fleet_comprehensive_ms
        self._backoff = backoff or Backoff()
        self._sleep = sleep
        self._sampler = sampler or ResourceSampler()
        self._channel: grpc.aio.Channel | None = None
        self._stub: internal_pb2_grpc.GlobalControllerServiceAsyncStub | None = None
        self._registered = False
        self._intervals: HeartbeatIntervals | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self.attempts = 0

    # -- state ---------------------------------------------------------------------------------

    @property
    def registered(self) -> bool:
        return self._registered

    @property
    def intervals(self) -> HeartbeatIntervals:
        if self._intervals is None:
            raise GcError("not registered with the Global Controller yet")
        return self._intervals

    def _set_registered(self, value: bool) -> None:
        self._registered = value
        metrics.registered.set(1 if value else 0)

    # -- channel -------------------------------------------------------------------------------

    def _get_stub(self) -> internal_pb2_grpc.GlobalControllerServiceAsyncStub:
        if self._stub is None:
            self._channel = grpc.aio.insecure_channel(self._endpoint)
            self._stub = internal_pb2_grpc.GlobalControllerServiceStub(self._channel)
        return self._stub

    async def _drop_channel(self) -> None:
        """Forget the cached channel so the next call opens a fresh connection."""
        channel, self._channel, self._stub = self._channel, None, None
        if channel is not None:
            await channel.close(None)

    # -- registration --------------------------------------------------------------------------

    async def register(self) -> HeartbeatIntervals:
        """Register, retrying with backoff; raise :class:`RegistrationRejected` or GcError."""
        delays = self._backoff.delays()
        last_error: BaseException | None = None
        for attempt in range(len(delays) + 1):
            if attempt:
                delay = delays[attempt - 1]
                log.warning(
                    "registration with the GC at %s failed (%s); retry %d/%d in %.0f s",
                    self._endpoint,
                    last_error,
                    attempt,
                    len(delays),
                    delay,
                    extra={"event": "register_retry"},
                )
                await self._sleep(delay)
            self.attempts += 1
            try:
                return await self._register_once()
            except grpc.aio.AioRpcError as error:
                last_error = GcError(f"{error.code().name}: {error.details()}")
                await self._drop_channel()
        raise GcError(
            f"could not register with the Global Controller at {self._endpoint} after "
            f"{len(delays) + 1} attempts: {last_error}"
        )

    async def _register_once(self) -> HeartbeatIntervals:
        r = self._registration
        response: internal_pb2.RegisterMcResponse = await self._get_stub().RegisterMc(
            internal_pb2.RegisterMcRequest(
                mc_id=r.mc_id,
                region=r.region,
                grpc_endpoint=r.grpc_endpoint,
                webtransport_endpoint=r.webtransport_endpoint,
                max_meetings=r.max_meetings,
                max_participants=r.max_participants,
            ),
            timeout=CALL_TIMEOUT,
        )
        if not response.accepted:
            self._set_registered(False)
            raise RegistrationRejected(response.reason or "no reason given")
        self._intervals = resolve_intervals(
            gc_fast_ms=response.fast_heartbeat_interval_ms,
            gc_comprehensive_ms=response.comprehensive_heartbeat_interval_ms,
            fleet_fast_ms=self._fleet_fast_ms,
            fleet_comprehensive_ms=self._fleet_comprehensive_ms,
        )
        self._set_registered(True)
        log.info(
            "registered with the GC at %s (fast heartbeat %d ms, comprehensive %d ms)",
            self._endpoint,
            self._intervals.fast_ms,
            self._intervals.comprehensive_ms,
            extra={"event": "registered", "mc_id": r.mc_id},
        )
        return self._intervals

    # -- heartbeats ----------------------------------------------------------------------------

    def _health(self) -> internal_pb2.Health.ValueType:
        return internal_pb2.HEALTH_HEALTHY if self._healthy() else internal_pb2.HEALTH_UNHEALTHY

    async def send_fast_heartbeat(self) -> None:
        status = self._status()
        await self._heartbeat(
            "fast",
            lambda stub: stub.FastHeartbeat(
                internal_pb2.FastHeartbeatRequest(
                    mc_id=self._registration.mc_id,
                    current_meetings=status.meetings,
                    current_participants=status.participants,
                    health=self._health(),
                    state=mc_state(status.state),
                ),
                timeout=CALL_TIMEOUT,
            ),
        )

    async def send_comprehensive_heartbeat(self) -> None:
        status = self._status()
        await self._heartbeat(
            "comprehensive",
            lambda stub: stub.ComprehensiveHeartbeat(
                internal_pb2.ComprehensiveHeartbeatRequest(
                    mc_id=self._registration.mc_id,
                    current_meetings=status.meetings,
                    current_participants=status.participants,
                    health=self._health(),
                    state=mc_state(status.state),
                    cpu_usage_percent=self._sampler.cpu_percent(),
                    memory_usage_percent=self._sampler.memory_percent(),
                ),
                timeout=CALL_TIMEOUT,
            ),
        )

    async def _heartbeat(
        self,
        kind: str,
        call: Callable[
            [internal_pb2_grpc.GlobalControllerServiceAsyncStub],
            Awaitable[internal_pb2.HeartbeatResponse],
        ],
    ) -> None:
        try:
            response = await call(self._get_stub())
        except grpc.aio.AioRpcError as error:
            metrics.heartbeats_total.labels(kind=kind, result="error").inc()
            log.warning(
                "%s heartbeat failed (%s: %s); retrying on the next tick",
                kind,
                error.code().name,
                error.details(),
                extra={"event": "heartbeat_failed"},
            )
            if error.code() == grpc.StatusCode.UNAVAILABLE:
                await self._drop_channel()
            return
        if response.status == internal_pb2.HEARTBEAT_STATUS_UNKNOWN_MC:
            metrics.heartbeats_total.labels(kind=kind, result="unknown_mc").inc()
            log.warning(
                "the GC does not know this MC (it restarted?); registering again",
                extra={"event": "reregister"},
            )
            self._set_registered(False)
            try:
                await self._register_once()
            except (grpc.aio.AioRpcError, RegistrationRejected) as error:
                log.error("re-registration failed: %s", error, extra={"event": "reregister_failed"})
            return
        metrics.heartbeats_total.labels(kind=kind, result="ok").inc()

    async def _loop(
        self, interval_ms: Callable[[], int], beat: Callable[[], Awaitable[None]]
    ) -> None:
        while True:
            await self._sleep(interval_ms() / 1000)
            await beat()

    def start_heartbeats(self) -> None:
        """Run both heartbeat loops in the background (after a successful registration)."""
        intervals = self.intervals  # raises if not registered
        del intervals
        self._tasks = [
            asyncio.create_task(
                self._loop(lambda: self.intervals.fast_ms, self.send_fast_heartbeat),
                name="gc-fast-heartbeat",
            ),
            asyncio.create_task(
                self._loop(
                    lambda: self.intervals.comprehensive_ms, self.send_comprehensive_heartbeat
                ),
                name="gc-comprehensive-heartbeat",
            ),
        ]

    # -- notifications -------------------------------------------------------------------------

    async def notify_meeting_ended(self, *, meeting_id: str, reason: str) -> None:
        """Best effort: the GC also learns it from the next heartbeat's counts."""
        try:
            await self._get_stub().NotifyMeetingEnded(
                internal_pb2.MeetingEndedNotification(
                    mc_id=self._registration.mc_id, meeting_id=meeting_id, reason=reason
                ),
                timeout=CALL_TIMEOUT,
            )
        except grpc.aio.AioRpcError as error:
            log.warning("could not tell the GC meeting %s ended: %s", meeting_id, error.code().name)

    async def notify_draining(self, *, deadline_unix_ms: int, reason: str) -> None:
        """Tell the GC this MC drains, so it stops placing meetings here (best effort)."""
        status = self._status()
        try:
            await self._get_stub().NotifyDraining(
                internal_pb2.DrainingNotification(
                    mc_id=self._registration.mc_id,
                    current_meetings=status.meetings,
                    deadline_unix_ms=deadline_unix_ms,
                    reason=reason,
                ),
                timeout=CALL_TIMEOUT,
            )
        except grpc.aio.AioRpcError as error:
            log.warning("could not tell the GC this MC drains: %s", error.code().name)

    async def notify_drained(self, *, migrated: int, closed: int, ended: int) -> None:
        """Tell the GC the drain finished and how the meetings left (best effort)."""
        try:
            await self._get_stub().NotifyDrained(
                internal_pb2.DrainedNotification(
                    mc_id=self._registration.mc_id,
                    meetings_migrated=migrated,
                    meetings_closed=closed,
                    meetings_ended=ended,
                ),
                timeout=CALL_TIMEOUT,
            )
        except grpc.aio.AioRpcError as error:
            log.warning("could not tell the GC this MC drained: %s", error.code().name)

    async def find_migration_target(
        self, *, meeting_id: str, participants: int, exclude: list[str]
    ) -> internal_pb2.MigrationTargetResponse:
        """Ask the GC where a meeting of this draining MC should move."""
        try:
            response: internal_pb2.MigrationTargetResponse = (
                await self._get_stub().FindMigrationTarget(
                    internal_pb2.MigrationTargetRequest(
                        mc_id=self._registration.mc_id,
                        meeting_id=meeting_id,
                        participants=participants,
                        exclude_mc_ids=exclude,
                    ),
                    timeout=CALL_TIMEOUT,
                )
            )
        except grpc.aio.AioRpcError as error:
            return internal_pb2.MigrationTargetResponse(
                found=False, reason=f"the GC did not answer: {error.code().name}"
            )
        return response

    async def notify_meeting_moved(
        self, *, meeting_id: str, to_mc_id: str, generation: int
    ) -> None:
        """Tell the GC a meeting now lives elsewhere, so new joiners go there (best effort)."""
        try:
            await self._get_stub().NotifyMeetingMoved(
                internal_pb2.MeetingMovedNotification(
                    meeting_id=meeting_id,
                    from_mc_id=self._registration.mc_id,
                    to_mc_id=to_mc_id,
                    generation=generation,
                ),
                timeout=CALL_TIMEOUT,
            )
        except grpc.aio.AioRpcError as error:
            log.warning("could not tell the GC meeting %s moved: %s", meeting_id, error.code().name)

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []
        self._set_registered(False)
        await self._drop_channel()
