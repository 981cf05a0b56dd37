"""Putting meetings on MCs: the reference GC's only outgoing I/O.

The pure parts decide (``placement.rank`` orders the candidates, ``registry`` and
``directory`` hold the state); this module carries the decision out over gRPC and folds the
MCs' answers back into that state:

* Candidates are asked in rank order with ``MeetingControllerService.AssignMeeting``, each call
  bounded by a timeout, over one cached ``grpc.aio`` channel per MC endpoint (a channel whose
  endpoint failed to answer is dropped, so the next call reconnects from scratch).
* ``AT_CAPACITY``, ``UNHEALTHY``, ``SHUTTING_DOWN``, an unreachable MC or a timeout: try the
  next candidate (and remember the refusal until the MC's next heartbeat).
* ``DRAINING``: the MC is marked draining and never asked again before it registers anew.
* ``STALE_GENERATION``: the shared store already holds the meeting under a newer generation,
  so some MC owns it (for example after the GC restarted and forgot its directory, or after a
  draining MC migrated it). Every MC shares that store, so asking the next one is pointless:
  the GC *locates* the meeting instead by asking the live MCs with ``GetMeeting`` and records
  the one holding the newest generation.

Placements of one meeting are serialised with a per-meeting lock, so two clients creating the
same meeting at the same moment get the same MC and only one of them is the creator.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import random
from collections.abc import AsyncIterator, Callable, Collection
from typing import Final

import grpc
import grpc.aio

from meeting_controller import errors
from meeting_controller.gc import directory as directory_
from meeting_controller.gc import placement
from meeting_controller.gc import registry as registry_
from meeting_controller.protocol import internal_pb2, internal_pb2_grpc

log = logging.getLogger(__name__)

DEFAULT_RPC_TIMEOUT_SECONDS: Final = 2.0

_REJECTIONS: Final[dict[int, str]] = {
    internal_pb2.REJECTION_REASON_DRAINING: "draining",
    internal_pb2.REJECTION_REASON_AT_CAPACITY: "at_capacity",
    internal_pb2.REJECTION_REASON_UNHEALTHY: "unhealthy",
    internal_pb2.REJECTION_REASON_SHUTTING_DOWN: "shutting_down",
    internal_pb2.REJECTION_REASON_STALE_GENERATION: "stale_generation",
}


@dataclasses.dataclass(frozen=True, slots=True)
class Attempt:
    """One MC's answer to one assignment."""

    mc_id: str
    outcome: str
    """``accepted``, a rejection (``draining``, ``at_capacity``, ``unhealthy``,
    ``shutting_down``, ``stale_generation``, ``unspecified``), ``unreachable``, ``timeout`` or
    ``error``."""
    detail: str = ""


class PlacementFailed(errors.MeetingControllerError):
    """No MC took the meeting. The message lists every MC asked and what it answered."""

    def __init__(self, *, meeting_id: str, region: str | None, attempts: list[Attempt]) -> None:
        where = f"in region {region!r}" if region is not None else "in any region"
        if attempts:
            answers = "; ".join(
                f"{a.mc_id}: {a.outcome}" + (f" ({a.detail})" if a.detail else "") for a in attempts
            )
            message = f"no MC {where} accepted meeting {meeting_id!r}: {answers}"
        else:
            message = (
                f"no MC {where} can take meeting {meeting_id!r}: none is alive, active and "
                "has free capacity"
            )
        super().__init__(message)
        self.meeting_id = meeting_id
        self.region = region
        self.attempts = attempts


class McClients:
    """One ``grpc.aio`` channel per MC gRPC endpoint, created on first use and cached."""

    def __init__(self) -> None:
        self._channels: dict[str, grpc.aio.Channel] = {}

    def stub(self, endpoint: str) -> internal_pb2_grpc.MeetingControllerServiceAsyncStub:
        channel = self._channels.get(endpoint)
        if channel is None:
            channel = grpc.aio.insecure_channel(endpoint)
            self._channels[endpoint] = channel
        return internal_pb2_grpc.MeetingControllerServiceStub(channel)

    async def discard(self, endpoint: str) -> None:
        """Drop the cached channel so the next call reconnects instead of reusing a bad one."""
        channel = self._channels.pop(endpoint, None)
        if channel is not None:
            await channel.close(None)

    async def close(self) -> None:
        channels, self._channels = list(self._channels.values()), {}
        for channel in channels:
            await channel.close(None)


class Placer:
    """Assigns meetings to MCs and keeps the directory pointing at where they live."""

    def __init__(
        self,
        *,
        registry: registry_.Registry,
        directory: directory_.MeetingDirectory,
        clients: McClients,
        clock: Callable[[], float],
        rng: random.Random,
        gc_id: str,
        rpc_timeout_s: float = DEFAULT_RPC_TIMEOUT_SECONDS,
    ) -> None:
        self._registry = registry
        self._directory = directory
        self._clients = clients
        self._clock = clock
        self._rng = rng
        self._gc_id = gc_id
        self._rpc_timeout_s = rpc_timeout_s
        self._locks: dict[str, asyncio.Lock] = {}
        self._lock_users: dict[str, int] = {}

    async def ensure_placed(
        self, *, meeting_id: str, region: str | None, estimated_participants: int = 1
    ) -> tuple[directory_.MeetingEntry, bool]:
        """Where ``meeting_id`` lives, placing it first if needed; ``True`` if it was created.

        A meeting recorded on an MC that still hosts it (alive and active or draining: a
        draining MC redirects its clients itself) is answered as is. A meeting recorded on an
        MC that is dead, done, or restarted since (registered again) is first looked for on
        the live MCs (it may have been migrated) and otherwise placed again, with the
        generation the GC last saw, in the region it was first placed in. ``region`` only
        matters for a new meeting.

        Raises :class:`PlacementFailed` when no MC takes it.
        """
        async with self._meeting_lock(meeting_id):
            entry = self._directory.get(meeting_id)
            if entry is None:
                # Usually a new meeting; but after a GC restart it may live on an MC already,
                # which then refuses the assignment as stale and the meeting is located.
                return await self._place(
                    meeting_id=meeting_id,
                    region=region,
                    estimated_participants=estimated_participants,
                    generation=0,
                    exclude=(),
                )
            if self._hosted(entry):
                return entry, False
            return await self._rehome(entry, estimated_participants=estimated_participants), False

    async def resolve_orphans(self) -> list[tuple[str, str]]:
        """Re-home every meeting whose MC died, finished draining or restarted (failover).

        Returns ``(meeting id, "mc id" or the error)`` for each meeting it looked at. A meeting
        that cannot be re-homed now stays recorded on its old MC and is tried on the next
        sweep.
        """
        results: list[tuple[str, str]] = []
        for entry in self._directory:
            if self._hosted(entry):
                continue
            async with self._meeting_lock(entry.meeting_id):
                current = self._directory.get(entry.meeting_id)
                if current is None or self._hosted(current):
                    continue  # ended or re-homed while we waited for the lock
                try:
                    moved = await self._rehome(current, estimated_participants=1)
                except PlacementFailed as exc:
                    log.warning("cannot re-home meeting %s: %s", current.meeting_id, exc)
                    results.append((current.meeting_id, str(exc)))
                else:
                    log.info(
                        "meeting %s re-homed from %s to %s (generation %d)",
                        moved.meeting_id,
                        current.mc_id,
                        moved.mc_id,
                        moved.generation,
                    )
                    results.append((moved.meeting_id, moved.mc_id))
        return results

    async def locate(
        self, meeting_id: str, *, exclude: Collection[str] = ()
    ) -> directory_.MeetingEntry | None:
        """Ask every live MC (``GetMeeting``) and record the one with the newest generation."""
        now = self._clock()
        records = [
            record
            for record in self._registry
            if record.mc_id not in exclude and self._registry.hosts_meetings(record.mc_id, now=now)
        ]
        if not records:
            return None
        answers = await asyncio.gather(
            *(self._get_meeting(record, meeting_id) for record in records)
        )
        found = [
            (answer.fencing_generation, record)
            for record, answer in zip(records, answers, strict=True)
            if answer is not None and answer.found
        ]
        if not found:
            return None
        generation, record = max(found, key=lambda pair: pair[0])
        previous = self._directory.get(meeting_id)
        return self._directory.record(
            meeting_id=meeting_id,
            mc_id=record.mc_id,
            generation=generation,
            now=self._clock(),
            region=previous.region if previous is not None else record.region,
        )

    # --- internals --------------------------------------------------------------------------

    def _hosted(self, entry: directory_.MeetingEntry) -> bool:
        return self._registry.still_hosts(
            entry.mc_id, recorded_at=entry.placed_at, now=self._clock()
        )

    async def _rehome(
        self, entry: directory_.MeetingEntry, *, estimated_participants: int
    ) -> directory_.MeetingEntry:
        found = await self.locate(entry.meeting_id, exclude=(entry.mc_id,))
        if found is not None:
            return found
        placed, _ = await self._place(
            meeting_id=entry.meeting_id,
            region=entry.region,
            estimated_participants=estimated_participants,
            generation=entry.generation,
            exclude=(entry.mc_id,),
        )
        return placed

    async def _place(
        self,
        *,
        meeting_id: str,
        region: str | None,
        estimated_participants: int,
        generation: int,
        exclude: Collection[str],
    ) -> tuple[directory_.MeetingEntry, bool]:
        """Assign the meeting to the best candidate that accepts it.

        Returns the entry and ``True``, or ``False`` when a stale refusal showed the meeting
        already lives somewhere and it was located rather than assigned.
        """
        ranked = placement.rank(
            self._registry,
            region=region,
            now=self._clock(),
            liveness_window=self._registry.window,
            rng=self._rng,
            estimated_participants=estimated_participants,
            exclude=exclude,
        )
        attempts: list[Attempt] = []
        for ranked_record in ranked:
            # The registry may have changed while we awaited the previous MC (a drain notice,
            # a heartbeat): never offer a meeting to an MC that is no longer a candidate.
            record = self._registry.get(ranked_record.mc_id)
            if record is None or not placement.is_candidate(
                record,
                region=region,
                now=self._clock(),
                liveness_window=self._registry.window,
                estimated_participants=estimated_participants,
                exclude=exclude,
            ):
                continue
            attempt, response = await self._assign(
                record,
                meeting_id=meeting_id,
                generation=generation,
                estimated_participants=estimated_participants,
            )
            attempts.append(attempt)
            if response is not None and response.accepted:
                self._registry.note_assignment(record.mc_id, participants=estimated_participants)
                entry = self._directory.record(
                    meeting_id=meeting_id,
                    mc_id=record.mc_id,
                    generation=response.generation,
                    now=self._clock(),
                    region=region,
                )
                return entry, True
            if attempt.outcome == "stale_generation":
                located = await self.locate(meeting_id)
                if located is not None:
                    return located, False
                break
        raise PlacementFailed(meeting_id=meeting_id, region=region, attempts=attempts)

    async def _assign(
        self,
        record: registry_.McRecord,
        *,
        meeting_id: str,
        generation: int,
        estimated_participants: int,
    ) -> tuple[Attempt, internal_pb2.AssignMeetingResponse | None]:
        request = internal_pb2.AssignMeetingRequest(
            meeting_id=meeting_id,
            meeting_code=meeting_id,
            settings=internal_pb2.MeetingSettings(estimated_participants=estimated_participants),
            generation=generation,
            requesting_gc_id=self._gc_id,
        )
        stub = self._clients.stub(record.grpc_endpoint)
        try:
            response = await stub.AssignMeeting(request, timeout=self._rpc_timeout_s)
        except grpc.aio.AioRpcError as exc:
            attempt = await self._rpc_failed(record, exc)
            log.info("assigning %s to %s failed: %s", meeting_id, record.mc_id, attempt.detail)
            return attempt, None
        if response.accepted:
            return Attempt(record.mc_id, "accepted"), response
        outcome = _REJECTIONS.get(response.rejection_reason, "unspecified")
        if outcome == "draining":
            self._registry.mark_draining(record.mc_id)
        elif outcome == "shutting_down":
            self._registry.mark_shutting_down(record.mc_id)
        elif outcome == "at_capacity":
            self._registry.note_full(record.mc_id)
        elif outcome in ("unhealthy", "unspecified"):
            # A refusal without a known reason says as much about the MC as UNHEALTHY does.
            self._registry.note_unhealthy(record.mc_id)
        log.info(
            "%s refused meeting %s: %s %s", record.mc_id, meeting_id, outcome, response.message
        )
        return Attempt(record.mc_id, outcome, response.message), response

    async def _get_meeting(
        self, record: registry_.McRecord, meeting_id: str
    ) -> internal_pb2.GetMeetingResponse | None:
        stub = self._clients.stub(record.grpc_endpoint)
        try:
            return await stub.GetMeeting(
                internal_pb2.GetMeetingRequest(meeting_id=meeting_id), timeout=self._rpc_timeout_s
            )
        except grpc.aio.AioRpcError as exc:
            await self._rpc_failed(record, exc)
            return None

    async def _rpc_failed(self, record: registry_.McRecord, exc: grpc.aio.AioRpcError) -> Attempt:
        code = exc.code()
        if code in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED):
            await self._clients.discard(record.grpc_endpoint)
        outcome = {
            grpc.StatusCode.UNAVAILABLE: "unreachable",
            grpc.StatusCode.DEADLINE_EXCEEDED: "timeout",
        }.get(code, "error")
        return Attempt(record.mc_id, outcome, f"{code.name}: {exc.details()}")

    @contextlib.asynccontextmanager
    async def _meeting_lock(self, meeting_id: str) -> AsyncIterator[None]:
        lock = self._locks.setdefault(meeting_id, asyncio.Lock())
        self._lock_users[meeting_id] = self._lock_users.get(meeting_id, 0) + 1
        try:
            async with lock:
                yield
        finally:
            self._lock_users[meeting_id] -= 1
            if not self._lock_users[meeting_id]:
                del self._lock_users[meeting_id]
                del self._locks[meeting_id]
