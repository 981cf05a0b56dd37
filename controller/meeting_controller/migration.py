"""Live migration of a meeting to another MC: the draining MC's side.

For each meeting: ask the GC for a target (same region, most free capacity, never a draining
MC), freeze the meeting and write its hand-off state to Redis (fenced), ask the target to
take over (it claims the fencing generation + 1 and loads the state), then redirect every
participant to the target and release the meeting. Participants reconnect there with their
session token and last sequence number and resume without a gap; to the others nobody left.
If the target refuses, the meeting is unfrozen and the next target tried; once the target
has claimed the meeting, any write the source still attempts is fenced out.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable

import grpc

from meeting_controller import metrics
from meeting_controller.actors.meeting import MeetingHandle
from meeting_controller.config import Secret
from meeting_controller.errors import StoreError
from meeting_controller.protocol import internal_pb2, internal_pb2_grpc
from meeting_controller.rpc.gc_client import GcClient

log = logging.getLogger(__name__)

#: Targets tried per meeting before giving up (the meeting then waits for the deadline).
MAX_TARGETS = 3
CALL_TIMEOUT = 5.0

#: Opens a channel to another MC's gRPC endpoint (injectable for tests).
ChannelFactory = Callable[[str], grpc.aio.Channel]


class Migrator:
    """Moves meetings off this MC; see the module docstring."""

    def __init__(
        self,
        *,
        mc_id: str,
        gc: GcClient,
        admin_token: Secret | None,
        participants_of: Callable[[MeetingHandle], Awaitable[int]],
        generation_of: Callable[[str], Awaitable[int]] | None = None,
        channel_factory: ChannelFactory = grpc.aio.insecure_channel,
        call_timeout: float = CALL_TIMEOUT,
    ) -> None:
        self._mc_id = mc_id
        self._gc = gc
        self._admin_token = admin_token
        self._participants_of = participants_of
        self._generation_of = generation_of
        self._channel_factory = channel_factory
        self._call_timeout = call_timeout
        #: One channel per target MC, shared by the meetings moving there (a drain moves many
        #: meetings to the same few MCs; a connection per meeting would cost a handshake each).
        self._channels: dict[str, grpc.aio.Channel] = {}

    def _channel(self, endpoint: str) -> grpc.aio.Channel:
        channel = self._channels.get(endpoint)
        if channel is None:
            channel = self._channels[endpoint] = self._channel_factory(endpoint)
        return channel

    async def close(self) -> None:
        channels, self._channels = list(self._channels.values()), {}
        for channel in channels:
            await channel.close(None)

    async def migrate(self, meeting: MeetingHandle) -> bool:
        """Move one meeting; ``True`` once another MC owns it and everyone was redirected."""
        if self._admin_token is None:
            log.warning("cannot migrate without MC_ADMIN_TOKEN_FILE (targets require it)")
            metrics.migrations_total.labels(result="no_admin_token").inc()
            return False
        started = time.perf_counter()
        participants = await self._participants_of(meeting)
        tried: list[str] = []
        for _ in range(MAX_TARGETS):
            target = await self._gc.find_migration_target(
                meeting_id=meeting.meeting_id, participants=participants, exclude=tried
            )
            if not target.found:
                log.warning(
                    "no migration target for %s: %s",
                    meeting.meeting_id,
                    target.reason,
                    extra={"meeting_id": meeting.meeting_id, "event": "no_migration_target"},
                )
                metrics.migrations_total.labels(result="no_target").inc()
                return False
            tried.append(target.mc_id)
            try:
                handoff = await meeting.prepare_handoff()
            except (StoreError, TimeoutError) as error:
                log.warning("could not prepare the hand-off of %s: %s", meeting.meeting_id, error)
                metrics.migrations_total.labels(result="handoff_failed").inc()
                return False
            accepted = await self._ask_target(target, meeting.meeting_id, handoff)
            if accepted is None:
                meeting.abort_handoff()
                continue
            meeting.complete_handoff(webtransport_endpoint=target.webtransport_endpoint)
            await self._gc.notify_meeting_moved(
                meeting_id=meeting.meeting_id, to_mc_id=target.mc_id, generation=accepted
            )
            metrics.migrations_total.labels(result="migrated").inc()
            metrics.migration_duration_seconds.observe(time.perf_counter() - started)
            log.info(
                "meeting %s migrated to %s (generation %d, %d participant(s))",
                meeting.meeting_id,
                target.mc_id,
                accepted,
                len(handoff.participants),
                extra={"meeting_id": meeting.meeting_id, "event": "meeting_migrated"},
            )
            return True
        metrics.migrations_total.labels(result="refused").inc()
        return False

    async def _claimed_anyway(
        self,
        target: internal_pb2.MigrationTargetResponse,
        meeting_id: str,
        handoff: internal_pb2.MeetingHandoff,
    ) -> int | None:
        """Whether the target took the meeting although its answer was lost.

        The claim is the hand-over: once the stored generation is the one after ours, this MC
        is fenced out whatever the target answered, and the only way not to strand the
        participants is to send them there. Only the target just asked can have made that
        claim (the GC re-places nothing of a live, heartbeating MC).
        """
        if self._generation_of is None:
            return None
        try:
            current = await self._generation_of(meeting_id)
        except StoreError:
            return None
        if current != handoff.generation + 1:
            return None
        log.warning(
            "migration target %s took %s over although its answer was lost; completing",
            target.mc_id,
            meeting_id,
            extra={"meeting_id": meeting_id, "event": "migration_answer_lost"},
        )
        return current

    async def _ask_target(
        self,
        target: internal_pb2.MigrationTargetResponse,
        meeting_id: str,
        handoff: internal_pb2.MeetingHandoff,
    ) -> int | None:
        """The generation the target took the meeting under, or ``None`` if it refused."""
        assert self._admin_token is not None
        channel = self._channel(target.grpc_endpoint)
        try:
            stub = internal_pb2_grpc.MeetingControllerServiceStub(channel)
            answer: internal_pb2.AcceptMigrationResponse = await stub.AcceptMigration(
                internal_pb2.AcceptMigrationRequest(
                    meeting_id=meeting_id,
                    source_mc_id=self._mc_id,
                    source_generation=handoff.generation,
                    participants=len(handoff.participants),
                ),
                metadata=(("authorization", "Bearer " + self._admin_token.reveal().decode()),),
                timeout=self._call_timeout,
            )
        except grpc.aio.AioRpcError as error:
            log.warning(
                "migration target %s unreachable for %s: %s",
                target.mc_id,
                meeting_id,
                error.code().name,
                extra={"meeting_id": meeting_id},
            )
            self._channels.pop(target.grpc_endpoint, None)  # reconnect next time
            await channel.close(None)
            return await self._claimed_anyway(target, meeting_id, handoff)
        if not answer.accepted:
            log.warning(
                "migration target %s refused %s: %s",
                target.mc_id,
                meeting_id,
                answer.message,
                extra={"meeting_id": meeting_id},
            )
            return None
        return int(answer.generation)
