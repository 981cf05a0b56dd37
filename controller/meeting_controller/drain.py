"""The MC's drain: stop taking meetings, move the hosted ones live, never past the deadline.

A drain starts from the operator's admin ``Drain`` call (scale-down, rolling update) or from
SIGTERM (eviction, node drain). From that moment the MC answers assignments with DRAINING and
is not ready; the GC is told, so it stops placing meetings here. Each meeting is then
migrated live to another MC (:mod:`meeting_controller.migration`), a bounded number at a
time; a meeting that cannot move keeps being served here. At the deadline the MC closes those
still running (participants receive
``MeetingEnded`` with reason ``DRAIN_DEADLINE``), reports to the GC how many meetings ended,
moved or were closed, marks itself DRAINED and lets the process exit.

The deadline only ever moves earlier: a second request with a later deadline cannot keep an
MC alive longer than the first promised.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from collections.abc import Awaitable, Callable

from meeting_controller.actors.controller import McPhase, MeetingControllerHandle
from meeting_controller.actors.meeting import MeetingHandle
from meeting_controller.protocol import signaling_pb2

log = logging.getLogger(__name__)

#: How often the drain looks at the meeting count while it waits.
POLL_INTERVAL = 0.1
#: Meetings migrated at the same time (each is a few Redis writes and two gRPC calls).
MIGRATION_CONCURRENCY = 8


@dataclasses.dataclass
class DrainReport:
    """How the meetings left this MC: ended on their own, migrated, or closed at the deadline."""

    ended: int = 0
    migrated: int = 0
    closed: int = 0


class Drainer:
    """Runs at most one drain of this MC; see the module docstring."""

    def __init__(
        self,
        *,
        controller: MeetingControllerHandle,
        notify_draining: Callable[[int, str], Awaitable[None]],
        notify_drained: Callable[[DrainReport], Awaitable[None]],
        on_drained: Callable[[], None],
        migrate: Callable[[MeetingHandle], Awaitable[bool]] | None = None,
        wall_clock: Callable[[], float] = time.time,
        poll_interval: float = POLL_INTERVAL,
        migration_concurrency: int = MIGRATION_CONCURRENCY,
    ) -> None:
        self._controller = controller
        self._notify_draining = notify_draining
        self._notify_drained = notify_drained
        self._on_drained = on_drained
        self._wall_clock = wall_clock
        self._poll_interval = poll_interval
        self._migrate = migrate
        self._migration_concurrency = migration_concurrency
        self._deadline_ms: int | None = None
        self._changed = asyncio.Event()
        self._task: asyncio.Task[DrainReport] | None = None
        self.report = DrainReport()

    @property
    def draining(self) -> bool:
        return self._task is not None

    @property
    def deadline_ms(self) -> int | None:
        return self._deadline_ms

    def start(self, *, deadline_unix_ms: int, reason: str) -> int:
        """Begin (or tighten) the drain; returns the deadline in force."""
        if self._deadline_ms is None or deadline_unix_ms < self._deadline_ms:
            self._deadline_ms = deadline_unix_ms
            self._changed.set()
        if self._task is None:
            log.info(
                "drain started (%s); deadline in %.1f s",
                reason,
                self._remaining(),
                extra={"event": "drain_started", "deadline_unix_ms": self._deadline_ms},
            )
            self._controller.set_phase(McPhase.DRAINING)
            self._task = asyncio.create_task(self._run(reason), name="drain")
        return self._deadline_ms

    async def wait(self) -> DrainReport:
        assert self._task is not None, "no drain was started"
        return await self._task

    def _remaining(self) -> float:
        assert self._deadline_ms is not None
        return self._deadline_ms / 1000 - self._wall_clock()

    async def _run(self, reason: str) -> DrainReport:
        assert self._deadline_ms is not None
        # Told in parallel with the migrations: the GC needs no answer from us to pick
        # targets, and a slow GC must not delay the moves.
        telling = asyncio.create_task(self._tell_draining(self._deadline_ms, reason))
        initial = len(self._controller.hosted())
        if self._migrate is not None:
            await self._migrate_all(self._migrate)
        while self._controller.get_status().meetings > 0:
            if self._remaining() <= 0:
                self._close(set(self._controller.hosted()))
                break
            self._changed.clear()
            try:
                async with asyncio.timeout(min(self._poll_interval, max(self._remaining(), 0))):
                    await self._changed.wait()
            except TimeoutError:
                pass
        await self._wait_until_empty()
        await telling
        # Nothing new arrives while draining (assignments are refused), so whatever left
        # without being moved or closed ended on its own.
        self.report.ended = max(0, initial - self.report.migrated - self.report.closed)
        try:
            await self._notify_drained(self.report)
        except Exception as error:
            log.warning("could not tell the GC the drain finished: %s", error)
        self._controller.set_phase(McPhase.DRAINED)
        log.info(
            "drain finished: %d ended, %d migrated, %d closed at the deadline",
            self.report.ended,
            self.report.migrated,
            self.report.closed,
            extra={"event": "drained", **dataclasses.asdict(self.report)},
        )
        self._on_drained()
        return self.report

    async def _tell_draining(self, deadline_ms: int, reason: str) -> None:
        try:
            await self._notify_draining(deadline_ms, reason)
        except Exception as error:  # best effort: the heartbeats also say DRAINING
            log.warning("could not tell the GC about the drain: %s", error)

    async def _migrate_all(self, migrate: Callable[[MeetingHandle], Awaitable[bool]]) -> None:
        """Move every meeting away, a bounded number at a time, never past the deadline."""
        gate = asyncio.Semaphore(self._migration_concurrency)

        async def one(handle: MeetingHandle) -> None:
            async with gate:
                try:
                    if await migrate(handle):
                        self.report.migrated += 1
                except Exception as error:  # one meeting's failure must not stop the others
                    log.error(
                        "migration of %s failed: %r",
                        handle.meeting_id,
                        error,
                        exc_info=error,
                        extra={"meeting_id": handle.meeting_id},
                    )

        meetings = list(self._controller.hosted().values())
        try:
            async with asyncio.timeout(max(self._remaining(), 0)):
                await asyncio.gather(*(one(h) for h in meetings))
        except TimeoutError:
            log.warning(
                "drain deadline reached while migrating", extra={"event": "migration_deadline"}
            )

    def _close(self, meeting_ids: set[str]) -> None:
        hosted = self._controller.hosted()
        for meeting_id in sorted(meeting_ids):
            handle = hosted.get(meeting_id)
            if handle is None:
                continue
            handle.end(
                reason=signaling_pb2.MEETING_END_REASON_DRAIN_DEADLINE,
                message="this MC reached its drain deadline; the meeting is closed",
            )
            self.report.closed += 1
        log.warning(
            "drain deadline reached: closed %d meeting(s)",
            self.report.closed,
            extra={"event": "drain_deadline"},
        )

    async def _wait_until_empty(self) -> None:
        """Closed meetings take a moment to say goodbye and delete their keys."""
        for handle in list(self._controller.hosted().values()):
            await asyncio.wait({handle.task}, timeout=5.0)
