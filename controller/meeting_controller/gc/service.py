"""The reference GC's ``GlobalControllerService``: the gRPC edge in front of the registry.

Each method translates a request into one call on the pure ``registry``/``directory``/
``placement`` with the injected clock's ``now`` and translates the result back; there is no
logic here worth testing apart from that translation (and the tests drive it over a real gRPC
connection anyway).

Live migration: a draining MC asks ``FindMigrationTarget`` for each meeting and reports
``NotifyMeetingMoved`` once the target took it over. The GC reserves nothing for a target it
names (the target's own admission decides), but counts the meeting on it until the target's
next heartbeat, exactly like a placement, so a burst of requests spreads over the fleet.
Each handler runs without awaiting anything, so concurrent requests see each other's counts.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from typing import Final

from meeting_controller.gc import directory as directory_
from meeting_controller.gc import placement
from meeting_controller.gc import registry as registry_
from meeting_controller.protocol import internal_pb2, internal_pb2_grpc

log = logging.getLogger(__name__)

_HEALTH: Final[dict[int, registry_.Health]] = {
    internal_pb2.HEALTH_HEALTHY: registry_.Health.HEALTHY,
    internal_pb2.HEALTH_DEGRADED: registry_.Health.DEGRADED,
    internal_pb2.HEALTH_UNHEALTHY: registry_.Health.UNHEALTHY,
}
_STATE: Final[dict[int, registry_.McState]] = {
    internal_pb2.MC_STATE_STARTING: registry_.McState.STARTING,
    internal_pb2.MC_STATE_ACTIVE: registry_.McState.ACTIVE,
    internal_pb2.MC_STATE_DRAINING: registry_.McState.DRAINING,
    internal_pb2.MC_STATE_DRAINED: registry_.McState.DRAINED,
    internal_pb2.MC_STATE_SHUTTING_DOWN: registry_.McState.SHUTTING_DOWN,
}


def health_from_proto(value: int) -> registry_.Health:
    """UNSPECIFIED (an MC that does not say) counts as healthy: it heartbeats, after all."""
    return _HEALTH.get(value, registry_.Health.HEALTHY)


def state_from_proto(value: int) -> registry_.McState:
    """UNSPECIFIED counts as active: an MC that registered and heartbeats takes meetings."""
    return _STATE.get(value, registry_.McState.ACTIVE)


class GlobalControllerServicer(internal_pb2_grpc.GlobalControllerServiceServicer):
    """Serves registration, heartbeats and the MCs' notifications."""

    def __init__(
        self,
        *,
        registry: registry_.Registry,
        directory: directory_.MeetingDirectory,
        clock: Callable[[], float],
        fast_heartbeat_ms: int = 0,
        comprehensive_heartbeat_ms: int = 0,
        rng: random.Random | None = None,
    ) -> None:
        """``*_heartbeat_ms`` are handed to every MC as is; 0 means "use your default".

        ``rng`` breaks ties between equally free migration targets.
        """
        self._registry = registry
        self._directory = directory
        self._clock = clock
        self._rng = rng or random.Random()
        self._fast_ms = fast_heartbeat_ms
        self._comprehensive_ms = comprehensive_heartbeat_ms

    async def RegisterMc(
        self,
        request: internal_pb2.RegisterMcRequest,
        context: object,
    ) -> internal_pb2.RegisterMcResponse:
        result = self._registry.register(
            mc_id=request.mc_id,
            region=request.region,
            grpc_endpoint=request.grpc_endpoint,
            webtransport_endpoint=request.webtransport_endpoint,
            max_meetings=request.max_meetings,
            max_participants=request.max_participants,
            now=self._clock(),
        )
        if not result.accepted:
            log.warning("refused registration of MC %r: %s", request.mc_id, result.reason)
            return internal_pb2.RegisterMcResponse(accepted=False, reason=result.reason)
        log.info(
            "registered MC %s (region %s, grpc %s, webtransport %s)%s",
            request.mc_id,
            request.region,
            request.grpc_endpoint,
            request.webtransport_endpoint,
            " again" if result.replaced is not None else "",
        )
        return internal_pb2.RegisterMcResponse(
            accepted=True,
            fast_heartbeat_interval_ms=self._fast_ms,
            comprehensive_heartbeat_interval_ms=self._comprehensive_ms,
        )

    async def FastHeartbeat(
        self,
        request: internal_pb2.FastHeartbeatRequest,
        context: object,
    ) -> internal_pb2.HeartbeatResponse:
        known = self._registry.heartbeat(
            mc_id=request.mc_id,
            current_meetings=request.current_meetings,
            current_participants=request.current_participants,
            health=health_from_proto(request.health),
            state=state_from_proto(request.state),
            now=self._clock(),
        )
        return _heartbeat_response(known)

    async def ComprehensiveHeartbeat(
        self,
        request: internal_pb2.ComprehensiveHeartbeatRequest,
        context: object,
    ) -> internal_pb2.HeartbeatResponse:
        known = self._registry.heartbeat(
            mc_id=request.mc_id,
            current_meetings=request.current_meetings,
            current_participants=request.current_participants,
            health=health_from_proto(request.health),
            state=state_from_proto(request.state),
            now=self._clock(),
            cpu_usage_percent=request.cpu_usage_percent,
            memory_usage_percent=request.memory_usage_percent,
        )
        return _heartbeat_response(known)

    async def NotifyDraining(
        self,
        request: internal_pb2.DrainingNotification,
        context: object,
    ) -> internal_pb2.NotificationAck:
        known = self._registry.mark_draining(
            request.mc_id, deadline_unix_ms=request.deadline_unix_ms or None
        )
        log.info(
            "MC %s drains %d meetings (reason %r)%s",
            request.mc_id,
            request.current_meetings,
            request.reason,
            "" if known else " [unknown MC]",
        )
        return internal_pb2.NotificationAck(acknowledged=known)

    async def NotifyDrained(
        self,
        request: internal_pb2.DrainedNotification,
        context: object,
    ) -> internal_pb2.NotificationAck:
        """The MC is done; meetings still recorded on it are re-homed by the sweeper."""
        known = self._registry.mark_drained(
            request.mc_id,
            migrated=request.meetings_migrated,
            closed=request.meetings_closed,
            ended=request.meetings_ended,
        )
        log.log(
            logging.WARNING if request.meetings_closed else logging.INFO,
            "MC %s drained: %d migrated, %d closed, %d ended%s",
            request.mc_id,
            request.meetings_migrated,
            request.meetings_closed,
            request.meetings_ended,
            "" if known else " [unknown MC]",
        )
        return internal_pb2.NotificationAck(acknowledged=known)

    async def NotifyMeetingEnded(
        self,
        request: internal_pb2.MeetingEndedNotification,
        context: object,
    ) -> internal_pb2.NotificationAck:
        """``acknowledged`` is false when the directory did not record the meeting on that MC."""
        ended = self._directory.end(meeting_id=request.meeting_id, mc_id=request.mc_id)
        log.info(
            "meeting %s ended on %s (%s)%s",
            request.meeting_id,
            request.mc_id,
            request.reason,
            "" if ended else " [not recorded there]",
        )
        return internal_pb2.NotificationAck(acknowledged=ended)

    async def FindMigrationTarget(
        self,
        request: internal_pb2.MigrationTargetRequest,
        context: object,
    ) -> internal_pb2.MigrationTargetResponse:
        """The freest active MC in the requester's region, counted there until it heartbeats."""
        now = self._clock()
        requester = self._registry.get(request.mc_id)
        if requester is None:
            reason = (
                f"MC {request.mc_id!r} is not registered with this GC (it may have restarted): "
                "register again, then ask"
            )
            log.warning("no migration target for meeting %s: %s", request.meeting_id, reason)
            return internal_pb2.MigrationTargetResponse(found=False, reason=reason)
        target = placement.migration_target(
            self._registry,
            requester=requester,
            participants=request.participants,
            now=now,
            liveness_window=self._registry.window,
            rng=self._rng,
            exclude=request.exclude_mc_ids,
        )
        if target is None:
            reason = placement.no_target_reason(
                self._registry,
                requester=requester,
                participants=request.participants,
                now=now,
                liveness_window=self._registry.window,
                exclude=request.exclude_mc_ids,
            )
            log.warning(
                "no migration target for meeting %s of %s: %s",
                request.meeting_id,
                request.mc_id,
                reason,
            )
            return internal_pb2.MigrationTargetResponse(found=False, reason=reason)
        self._registry.note_assignment(target.mc_id, participants=request.participants)
        log.info(
            "meeting %s of %s (%d participants) should move to %s",
            request.meeting_id,
            request.mc_id,
            request.participants,
            target.mc_id,
        )
        return internal_pb2.MigrationTargetResponse(
            found=True,
            mc_id=target.mc_id,
            grpc_endpoint=target.grpc_endpoint,
            webtransport_endpoint=target.webtransport_endpoint,
        )

    async def NotifyMeetingMoved(
        self,
        request: internal_pb2.MeetingMovedNotification,
        context: object,
    ) -> internal_pb2.NotificationAck:
        """Point the directory at the new MC; ``acknowledged`` is false for a stale notice."""
        if not request.meeting_id or not request.to_mc_id:
            log.warning("ignored a meeting-moved notice without meeting or target: %s", request)
            return internal_pb2.NotificationAck(acknowledged=False)
        target = self._registry.get(request.to_mc_id)
        outcome = self._directory.move(
            meeting_id=request.meeting_id,
            from_mc_id=request.from_mc_id,
            to_mc_id=request.to_mc_id,
            generation=request.generation,
            now=self._clock(),
            region=target.region if target is not None else None,
        )
        current = self._directory.get(request.meeting_id)
        log.log(
            logging.WARNING if outcome is directory_.MoveOutcome.STALE else logging.INFO,
            "meeting %s moved from %s to %s (generation %d): %s%s",
            request.meeting_id,
            request.from_mc_id,
            request.to_mc_id,
            request.generation,
            outcome.value,
            (
                f" [recorded on {current.mc_id} under generation {current.generation}]"
                if outcome is directory_.MoveOutcome.STALE and current is not None
                else ""
            ),
        )
        return internal_pb2.NotificationAck(
            acknowledged=outcome is not directory_.MoveOutcome.STALE
        )


def _heartbeat_response(known: bool) -> internal_pb2.HeartbeatResponse:
    return internal_pb2.HeartbeatResponse(
        status=(
            internal_pb2.HEARTBEAT_STATUS_OK if known else internal_pb2.HEARTBEAT_STATUS_UNKNOWN_MC
        )
    )
