"""The MC's gRPC ``MeetingControllerService``: meeting assignments and status queries.

An assignment runs the specification's checks in order (:mod:`meeting_controller.core.
admission`), then does the work in the order that makes a rollback possible: claim the
meeting's fencing generation, write the MH assignment and metadata to Redis, start the meeting
actor. If anything after the claim fails, what was written is removed and the GC is told
``UNHEALTHY``; counters only move when the meeting actor exists, so a failed assignment never
shows up in them.

Assignments of the same meeting are serialized (a GC retry racing its original gets the same
meeting, not two), and a capacity slot is reserved while an assignment is in flight, so two
concurrent assignments cannot both take the last slot.
"""

from __future__ import annotations

import asyncio
import collections
import json
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import grpc

from meeting_controller import metrics, takeover
from meeting_controller.actors.controller import McPhase, MeetingControllerHandle
from meeting_controller.config import Secret
from meeting_controller.core.admission import Verdict, decide
from meeting_controller.errors import ActorError, StaleGeneration, StoreError
from meeting_controller.protocol import internal_pb2, internal_pb2_grpc
from meeting_controller.rpc.convert import mc_state
from meeting_controller.store import keys
from meeting_controller.store.fenced import FencedRedisClient

log = logging.getLogger(__name__)

_REJECTIONS: dict[Verdict, internal_pb2.RejectionReason.ValueType] = {
    Verdict.DRAINING: internal_pb2.REJECTION_REASON_DRAINING,
    Verdict.SHUTTING_DOWN: internal_pb2.REJECTION_REASON_SHUTTING_DOWN,
    Verdict.AT_CAPACITY: internal_pb2.REJECTION_REASON_AT_CAPACITY,
    Verdict.UNHEALTHY: internal_pb2.REJECTION_REASON_UNHEALTHY,
}


def _migration_refused(
    reason: internal_pb2.RejectionReason.ValueType, message: str
) -> internal_pb2.AcceptMigrationResponse:
    return internal_pb2.AcceptMigrationResponse(
        accepted=False, rejection_reason=reason, message=message
    )


def _rejected(
    reason: internal_pb2.RejectionReason.ValueType, message: str
) -> internal_pb2.AssignMeetingResponse:
    name = internal_pb2.RejectionReason.Name(reason).removeprefix("REJECTION_REASON_").lower()
    metrics.assignments_total.labels(result=name).inc()
    return internal_pb2.AssignMeetingResponse(
        accepted=False, rejection_reason=reason, message=message
    )


class MeetingControllerService(internal_pb2_grpc.MeetingControllerServiceServicer):
    """See the module docstring."""

    def __init__(
        self,
        *,
        controller: MeetingControllerHandle,
        store: FencedRedisClient,
        store_healthy: Callable[[], bool],
        registered: Callable[[], bool],
        admin_token: Secret | None = None,
        on_drain: Callable[[int, str], int | None] | None = None,
    ) -> None:
        self._controller = controller
        self._store = store
        self._store_healthy = store_healthy
        self._registered = registered
        self._admin_token = admin_token
        self._on_drain = on_drain
        self._drain_deadline_ms = 0
        self._locks: collections.defaultdict[str, asyncio.Lock] = collections.defaultdict(
            asyncio.Lock
        )
        self._reserved: dict[str, int] = {}

    # -- assignments ---------------------------------------------------------------------------

    async def AssignMeeting(
        self,
        request: internal_pb2.AssignMeetingRequest,
        context: grpc.aio.ServicerContext[object, object],
    ) -> internal_pb2.AssignMeetingResponse:
        return await self._assign(
            context,
            meeting_id=request.meeting_id,
            meeting_code=request.meeting_code,
            settings=request.settings,
            generation=request.generation,
            mh_assignments=[],
            gc_id=request.requesting_gc_id,
        )

    async def AssignMeetingWithMh(
        self,
        request: internal_pb2.AssignMeetingWithMhRequest,
        context: grpc.aio.ServicerContext[object, object],
    ) -> internal_pb2.AssignMeetingResponse:
        return await self._assign(
            context,
            meeting_id=request.meeting_id,
            meeting_code=request.meeting_code,
            settings=request.settings,
            generation=request.generation,
            mh_assignments=list(request.mh_assignments),
            gc_id=request.requesting_gc_id,
        )

    async def _assign(
        self,
        context: grpc.aio.ServicerContext[object, object],
        *,
        meeting_id: str,
        meeting_code: str,
        settings: internal_pb2.MeetingSettings,
        generation: int,
        mh_assignments: list[internal_pb2.MhAssignment],
        gc_id: str,
    ) -> internal_pb2.AssignMeetingResponse:
        problem = keys.id_problem(meeting_id)
        if problem is not None:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, f"meeting_id: {problem}")
        async with self._locks[meeting_id]:
            try:
                return await self._assign_locked(
                    meeting_id=meeting_id,
                    meeting_code=meeting_code,
                    settings=settings,
                    generation=generation,
                    mh_assignments=mh_assignments,
                    gc_id=gc_id,
                )
            finally:
                lock = self._locks.get(meeting_id)
                if lock is not None and not lock._waiters:  # nobody queued behind us
                    del self._locks[meeting_id]

    async def _assign_locked(
        self,
        *,
        meeting_id: str,
        meeting_code: str,
        settings: internal_pb2.MeetingSettings,
        generation: int,
        mh_assignments: list[internal_pb2.MhAssignment],
        gc_id: str,
    ) -> internal_pb2.AssignMeetingResponse:
        existing = await self._controller.meeting(meeting_id)
        status = self._controller.get_status()
        decision = decide(
            phase=status.state,
            already_hosted=existing is not None,
            meetings=status.meetings + len(self._reserved),
            participants=status.participants + sum(self._reserved.values()),
            max_meetings=status.max_meetings,
            max_participants=status.max_participants,
            estimated_participants=settings.estimated_participants,
            store_healthy=self._store_healthy(),
        )
        if decision.verdict is Verdict.ALREADY_HOSTED and existing is not None:
            if generation > existing.generation:
                return _rejected(
                    internal_pb2.REJECTION_REASON_STALE_GENERATION,
                    f"this MC holds meeting {meeting_id!r} at generation {existing.generation}, "
                    f"older than the assignment's {generation}",
                )
            metrics.assignments_total.labels(result="duplicate").inc()
            return internal_pb2.AssignMeetingResponse(
                accepted=True, generation=existing.generation, message=decision.message
            )
        if not decision.accepted:
            return _rejected(_REJECTIONS[decision.verdict], decision.message)
        with self._reservation(meeting_id, settings.estimated_participants):
            return await self._take_meeting(
                meeting_id=meeting_id,
                meeting_code=meeting_code,
                generation=generation,
                mh_assignments=mh_assignments,
                gc_id=gc_id,
            )

    @contextmanager
    def _reservation(self, meeting_id: str, participants: int) -> Iterator[None]:
        self._reserved[meeting_id] = participants
        try:
            yield
        finally:
            del self._reserved[meeting_id]

    async def _take_meeting(
        self,
        *,
        meeting_id: str,
        meeting_code: str,
        generation: int,
        mh_assignments: list[internal_pb2.MhAssignment],
        gc_id: str,
    ) -> internal_pb2.AssignMeetingResponse:
        try:
            held = await self._store.claim_meeting(
                meeting_id, expected_generation=generation or None
            )
        except StaleGeneration as error:
            return _rejected(internal_pb2.REJECTION_REASON_STALE_GENERATION, str(error))
        except StoreError as error:
            return _rejected(internal_pb2.REJECTION_REASON_UNHEALTHY, str(error))
        mh_json = json.dumps(
            [
                {"mh_id": m.mh_id, "endpoint": m.endpoint, "region": m.region, "role": m.role}
                for m in mh_assignments
            ],
            separators=(",", ":"),
        )
        state = {"meeting_code": meeting_code, "requesting_gc_id": gc_id}
        try:
            # A meeting with history (its previous owner crashed) is rebuilt, not restarted.
            handoff = await self._history(meeting_id, claimed=held, state=state)
            await self._store.assign(
                meeting_id, generation=held, mh_assignment_json=mh_json, state=state
            )
            await self._controller.create_meeting(meeting_id, generation=held, handoff=handoff)
        except (StoreError, ActorError) as error:
            await self._roll_back(meeting_id, generation=held, cause=error)
            return _rejected(
                internal_pb2.REJECTION_REASON_UNHEALTHY,
                f"assignment of meeting {meeting_id!r} failed and was rolled back: {error}",
            )
        metrics.assignments_total.labels(result="accepted").inc()
        log.info(
            "meeting assigned",
            extra={"event": "assigned", "meeting_id": meeting_id, "generation": held},
        )
        return internal_pb2.AssignMeetingResponse(
            accepted=True, generation=held, message="accepted"
        )

    async def _history(
        self, meeting_id: str, *, claimed: int, state: dict[str, str]
    ) -> internal_pb2.MeetingHandoff | None:
        """What a previous owner left of the meeting (adds its session fields to ``state``)."""
        record = await self._store.load_meeting(meeting_id)
        if record is None or claimed <= 1:
            return None
        state.update(takeover.session_fields(record))
        handoff = takeover.handoff_from_record(record, claimed=claimed)
        if handoff is None:
            handoff = await takeover.rebuild_from_sessions(self._store, record)
        if handoff is not None:
            metrics.takeovers_total.labels(kind="failover").inc()
            log.info(
                "taking over meeting %s with %d participant(s) from a previous owner",
                meeting_id,
                len(handoff.participants),
                extra={"event": "takeover", "meeting_id": meeting_id, "generation": claimed},
            )
        return handoff

    async def _roll_back(self, meeting_id: str, *, generation: int, cause: BaseException) -> None:
        log.warning(
            "assignment of %s failed (%s); rolling back",
            meeting_id,
            cause,
            extra={"event": "assignment_rollback", "meeting_id": meeting_id},
        )
        try:
            await self._store.unassign(meeting_id, generation=generation)
        except StoreError as error:
            # Every key has a TTL, so what could not be removed now expires on its own.
            log.error(
                "rollback of %s failed too (%s); its keys expire with their TTL",
                meeting_id,
                error,
                extra={"event": "rollback_failed", "meeting_id": meeting_id},
            )

    # -- queries -------------------------------------------------------------------------------

    async def GetStatus(
        self,
        request: internal_pb2.GetStatusRequest,
        context: grpc.aio.ServicerContext[object, object],
    ) -> internal_pb2.GetStatusResponse:
        status = self._controller.get_status()
        healthy = self._store_healthy()
        return internal_pb2.GetStatusResponse(
            mc_id=status.mc_id,
            region=status.region,
            state=mc_state(status.state),
            health=internal_pb2.HEALTH_HEALTHY if healthy else internal_pb2.HEALTH_UNHEALTHY,
            registered=self._registered(),
            current_meetings=status.meetings,
            current_participants=status.participants,
            current_connections=status.connections,
            max_meetings=status.max_meetings,
            max_participants=status.max_participants,
            actor_failures=status.actor_failures,
            drain_deadline_unix_ms=self._drain_deadline_ms,
        )

    async def GetMeeting(
        self,
        request: internal_pb2.GetMeetingRequest,
        context: grpc.aio.ServicerContext[object, object],
    ) -> internal_pb2.GetMeetingResponse:
        try:
            snapshot = await self._controller.get_meeting(request.meeting_id)
        except ActorError as error:
            await context.abort(grpc.StatusCode.UNAVAILABLE, str(error))
        if snapshot is None:
            return internal_pb2.GetMeetingResponse(found=False, meeting_id=request.meeting_id)
        return internal_pb2.GetMeetingResponse(
            found=True,
            meeting_id=snapshot.meeting_id,
            participant_count=snapshot.participants,
            fencing_generation=snapshot.generation,
            connected_participants=snapshot.connected,
        )

    # -- admin ---------------------------------------------------------------------------------

    async def _authorize(self, context: grpc.aio.ServicerContext[object, object]) -> None:
        """Admin calls need the fleet's admin token (``authorization: Bearer <token>``).

        Compared in constant time; an MC without a configured token refuses every admin call,
        since anyone who reaches its port could otherwise drain it or push meetings onto it.
        """
        if self._admin_token is None:
            await context.abort(
                grpc.StatusCode.FAILED_PRECONDITION,
                "admin calls are disabled: MC_ADMIN_TOKEN_FILE is not configured",
            )
        assert self._admin_token is not None
        presented = dict(context.invocation_metadata() or ()).get("authorization", "")
        scheme, _, token = presented.partition(" ") if isinstance(presented, str) else ("", "", "")
        if scheme != "Bearer" or Secret(token.encode()) != self._admin_token:
            await context.abort(grpc.StatusCode.UNAUTHENTICATED, "invalid admin token")

    async def AcceptMigration(
        self,
        request: internal_pb2.AcceptMigrationRequest,
        context: grpc.aio.ServicerContext[object, object],
    ) -> internal_pb2.AcceptMigrationResponse:
        """Take over a meeting a draining MC handed off (see the RPC's documentation)."""
        await self._authorize(context)
        meeting_id = request.meeting_id
        problem = keys.id_problem(meeting_id)
        if problem is not None:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, f"meeting_id: {problem}")
        async with self._locks[meeting_id]:
            status = self._controller.get_status()
            decision = decide(
                phase=status.state,
                already_hosted=await self._controller.meeting(meeting_id) is not None,
                meetings=status.meetings + len(self._reserved),
                participants=status.participants + sum(self._reserved.values()),
                max_meetings=status.max_meetings,
                max_participants=status.max_participants,
                estimated_participants=request.participants,
                store_healthy=self._store_healthy(),
            )
            if decision.verdict is Verdict.ALREADY_HOSTED:
                return _migration_refused(
                    internal_pb2.REJECTION_REASON_UNHEALTHY, "this MC already hosts the meeting"
                )
            if not decision.accepted:
                return _migration_refused(_REJECTIONS[decision.verdict], decision.message)
            with self._reservation(meeting_id, request.participants):
                return await self._accept_migration(request)

    async def _accept_migration(
        self, request: internal_pb2.AcceptMigrationRequest
    ) -> internal_pb2.AcceptMigrationResponse:
        meeting_id = request.meeting_id
        try:
            held = await self._store.claim_meeting(
                meeting_id, expected_generation=request.source_generation
            )
            record = await self._store.load_meeting(meeting_id)
        except StaleGeneration as error:
            return _migration_refused(internal_pb2.REJECTION_REASON_STALE_GENERATION, str(error))
        except StoreError as error:
            return _migration_refused(internal_pb2.REJECTION_REASON_UNHEALTHY, str(error))
        handoff = takeover.handoff_from_record(record, claimed=held) if record is not None else None
        if handoff is None:
            return _migration_refused(
                internal_pb2.REJECTION_REASON_UNHEALTHY,
                f"no hand-off state of generation {request.source_generation} for meeting "
                f"{meeting_id!r} (the meeting now holds generation {held})",
            )
        try:
            await self._controller.create_meeting(meeting_id, generation=held, handoff=handoff)
        except ActorError as error:
            return _migration_refused(internal_pb2.REJECTION_REASON_UNHEALTHY, str(error))
        metrics.takeovers_total.labels(kind="migration").inc()
        log.info(
            "took over meeting %s from %s with %d participant(s)",
            meeting_id,
            request.source_mc_id,
            len(handoff.participants),
            extra={"event": "migration_accepted", "meeting_id": meeting_id, "generation": held},
        )
        return internal_pb2.AcceptMigrationResponse(
            accepted=True, generation=held, message="accepted"
        )

    async def Drain(
        self,
        request: internal_pb2.DrainRequest,
        context: grpc.aio.ServicerContext[object, object],
    ) -> internal_pb2.DrainResponse:
        """Stop accepting meetings (DRAINING) until the deadline; admin token required.

        The token is compared in constant time; an MC without a configured admin token
        refuses every Drain, since anyone who reaches its port could otherwise drain it.
        """
        await self._authorize(context)
        if request.deadline_unix_ms <= 0:
            await context.abort(
                grpc.StatusCode.INVALID_ARGUMENT, "deadline_unix_ms must be a positive unix time"
            )
        status = self._controller.get_status()
        if status.state in (McPhase.ACTIVE, McPhase.STARTING, McPhase.DRAINING):
            # DRAINING at once: the very next assignment must be refused.
            self._controller.set_phase(McPhase.DRAINING)
            in_force = None
            if self._on_drain is not None:
                in_force = self._on_drain(request.deadline_unix_ms, request.reason)
            self._drain_deadline_ms = in_force or request.deadline_unix_ms
            log.info(
                "drain requested",
                extra={"event": "drain", "deadline_unix_ms": self._drain_deadline_ms},
            )
        return internal_pb2.DrainResponse(
            accepted=True,
            state=internal_pb2.MC_STATE_DRAINING
            if status.state in (McPhase.ACTIVE, McPhase.STARTING, McPhase.DRAINING)
            else mc_state(status.state),
            deadline_unix_ms=self._drain_deadline_ms,
            current_meetings=status.meetings,
        )
