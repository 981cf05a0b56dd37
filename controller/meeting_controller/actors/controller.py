"""The controller actor: one per MC process, the root of the supervision tree.

It owns the registry of meeting actors and the MC's lifecycle phase. Two kinds of questions
reach it, and the specification wants them answered differently:

* :meth:`MeetingControllerHandle.get_status` - frequent health checks and heartbeats - answers
  from counts the controller caches as meetings report them. It never awaits any actor, so a
  meeting stuck on a slow operation cannot make the MC look dead.
* :meth:`MeetingControllerHandle.get_meeting` - assignment decisions - asks the meeting actor
  itself for its real-time participant count and fencing generation, at the price of waiting
  behind that meeting's queue.

A meeting actor that ends is removed; one that ends with an exception is logged and counted in
``mc_actor_failures_total{actor="meeting"}``. On shutdown the root token is cancelled, which
reaches every meeting and connection; the controller gives each meeting
``controller_per_meeting`` (30 s) and then cancels it.
"""

from __future__ import annotations

import asyncio
import dataclasses
import enum
import logging
from collections.abc import Callable

from meeting_controller import metrics
from meeting_controller.actors.cancellation import CancellationToken
from meeting_controller.actors.deadlines import DEFAULT_DEADLINES, ShutdownDeadlines
from meeting_controller.actors.mailbox import Mailbox
from meeting_controller.actors.meeting import (
    MeetingActor,
    MeetingHandle,
    MeetingServices,
    MeetingSnapshot,
)
from meeting_controller.errors import ActorStopped
from meeting_controller.protocol import internal_pb2

log = logging.getLogger(__name__)

KIND = "controller"
DEFAULT_EVENT_BUFFER_SIZE = 256


class McPhase(enum.Enum):
    """Where the MC is in its life; drives the accept/reject decisions."""

    STARTING = "starting"
    ACTIVE = "active"
    DRAINING = "draining"
    DRAINED = "drained"
    SHUTTING_DOWN = "shutting_down"


@dataclasses.dataclass(frozen=True)
class ControllerStatus:
    """The cached view :meth:`MeetingControllerHandle.get_status` returns."""

    mc_id: str
    region: str
    state: McPhase
    meetings: int
    participants: int
    connections: int
    max_meetings: int
    max_participants: int
    actor_failures: int


# -- messages -----------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class CreateMeeting:
    meeting_id: str
    generation: int
    reply: asyncio.Future[MeetingHandle]
    handoff: internal_pb2.MeetingHandoff | None = None


@dataclasses.dataclass(frozen=True)
class LookupMeeting:
    meeting_id: str
    reply: asyncio.Future[MeetingHandle | None]


@dataclasses.dataclass(frozen=True)
class MeetingCounts:
    meeting_id: str
    participants: int
    connections: int


@dataclasses.dataclass(frozen=True)
class MeetingStopped:
    meeting_id: str
    handle: MeetingHandle
    error: BaseException | None


@dataclasses.dataclass(frozen=True)
class SetPhase:
    phase: McPhase


#: ``(meeting_id, reason)``: a meeting ended on its own (e.g. its last participant left).
MeetingEndedListener = Callable[[str, str], None]

ControllerMessage = CreateMeeting | LookupMeeting | MeetingCounts | MeetingStopped | SetPhase


class MeetingControllerHandle:
    """The rest of the process (gRPC, WebTransport, HTTP) talks to the controller via this."""

    def __init__(self, actor: MeetingControllerActor, task: asyncio.Task[None]) -> None:
        self._actor = actor
        self.task = task

    def get_status(self) -> ControllerStatus:
        """Cached counts: never waits for any actor (for frequent health checks)."""
        return self._actor.status

    @property
    def shutting_down(self) -> bool:
        return self._actor.root.cancelled

    async def create_meeting(
        self,
        meeting_id: str,
        *,
        generation: int,
        handoff: internal_pb2.MeetingHandoff | None = None,
    ) -> MeetingHandle:
        """Start the meeting actor (idempotent: an existing meeting's handle is returned).

        With ``handoff`` the meeting continues a roster taken over from another MC.
        """
        reply: asyncio.Future[MeetingHandle] = asyncio.get_running_loop().create_future()
        await self._actor.mailbox.send(CreateMeeting(meeting_id, generation, reply, handoff))
        return await reply

    async def meeting(self, meeting_id: str) -> MeetingHandle | None:
        """The live meeting's handle, or ``None`` when this MC does not host it."""
        reply: asyncio.Future[MeetingHandle | None] = asyncio.get_running_loop().create_future()
        await self._actor.mailbox.send(LookupMeeting(meeting_id, reply))
        return await reply

    async def get_meeting(self, meeting_id: str, *, timeout: float = 1.0) -> MeetingSnapshot | None:
        """Real-time state from the meeting actor itself (for assignment decisions)."""
        handle = await self.meeting(meeting_id)
        if handle is None:
            return None
        try:
            return await handle.get_state(timeout=timeout)
        except ActorStopped:
            return None

    def hosted(self) -> dict[str, MeetingHandle]:
        """A copy of the live meetings' handles (read-only view of the actor's registry)."""
        return dict(self._actor.meetings)

    def set_phase(self, phase: McPhase) -> None:
        self._actor.mailbox.send_system(SetPhase(phase))

    async def shutdown(self) -> None:
        """Cancel the root token and wait until the whole tree has stopped (bounded)."""
        self._actor.root.cancel()
        await asyncio.wait({self.task})

    async def wait(self) -> None:
        """Wait for the controller to stop; raises if the controller itself crashed."""
        await self.task


class MeetingControllerActor:
    """See the module docstring."""

    def __init__(
        self,
        *,
        mc_id: str,
        region: str,
        max_meetings: int,
        max_participants: int,
        mailbox_capacity: int,
        buffer_size: int,
        deadlines: ShutdownDeadlines,
        root: CancellationToken,
        services: MeetingServices | None = None,
        on_meeting_ended: MeetingEndedListener | None = None,
    ) -> None:
        self.root = root
        self._services = services
        self._on_meeting_ended = on_meeting_ended
        self.mailbox: Mailbox[ControllerMessage] = Mailbox(
            capacity=mailbox_capacity, kind=KIND, token=root
        )
        self._mailbox_capacity = mailbox_capacity
        self._buffer_size = buffer_size
        self._deadlines = deadlines
        self._meetings: dict[str, MeetingHandle] = {}
        self._counts: dict[str, tuple[int, int]] = {}
        self.status = ControllerStatus(
            mc_id=mc_id,
            region=region,
            state=McPhase.STARTING,
            meetings=0,
            participants=0,
            connections=0,
            max_meetings=max_meetings,
            max_participants=max_participants,
            actor_failures=0,
        )

    async def run(self) -> None:
        self._update(state=McPhase.ACTIVE)
        try:
            while (message := await self.mailbox.recv()) is not None:
                self.handle(message)
        finally:
            self._update(state=McPhase.SHUTTING_DOWN)
            pending = self.mailbox.drain()
            self.mailbox.close()
            for message in pending:
                if isinstance(message, CreateMeeting | LookupMeeting) and not message.reply.done():
                    message.reply.set_exception(ActorStopped("the MC is shutting down"))
            await self._stop_meetings()

    def handle(self, message: ControllerMessage) -> None:
        if isinstance(message, CreateMeeting):
            self._on_create(message)
        elif isinstance(message, LookupMeeting):
            if not message.reply.done():
                message.reply.set_result(self._meetings.get(message.meeting_id))
        elif isinstance(message, MeetingCounts):
            self._on_counts(message)
        elif isinstance(message, MeetingStopped):
            self._on_stopped(message)
        elif isinstance(message, SetPhase):
            self._update(state=message.phase)
        else:  # pragma: no cover - exhaustiveness guard
            raise TypeError(f"unexpected message {message!r}")

    @property
    def meetings(self) -> dict[str, MeetingHandle]:
        return self._meetings

    # -- handlers ------------------------------------------------------------------------------

    def _on_create(self, message: CreateMeeting) -> None:
        if message.reply.done():
            return
        existing = self._meetings.get(message.meeting_id)
        if existing is not None:
            message.reply.set_result(existing)
            return
        handle = MeetingActor.spawn(
            meeting_id=message.meeting_id,
            generation=message.generation,
            token=self.root.child(),
            mailbox_capacity=self._mailbox_capacity,
            buffer_size=self._buffer_size,
            deadlines=self._deadlines,
            on_counts=self._post_counts,
            services=self._services,
            handoff=message.handoff,
        )
        self._meetings[message.meeting_id] = handle
        self._counts[message.meeting_id] = (0, 0)
        metrics.meetings_active.inc()
        self._recount()

        def stopped(task: asyncio.Task[None]) -> None:
            error = None if task.cancelled() else task.exception()
            try:
                self.mailbox.send_system(MeetingStopped(message.meeting_id, handle, error))
            except ActorStopped:
                self._forget(message.meeting_id, handle, error)

        handle.task.add_done_callback(stopped)
        message.reply.set_result(handle)

    def _post_counts(self, meeting_id: str, participants: int, connections: int) -> None:
        try:
            self.mailbox.send_system(MeetingCounts(meeting_id, participants, connections))
        except ActorStopped:
            self._apply_counts(meeting_id, participants, connections)

    def _on_counts(self, message: MeetingCounts) -> None:
        self._apply_counts(message.meeting_id, message.participants, message.connections)

    def _apply_counts(self, meeting_id: str, participants: int, connections: int) -> None:
        if meeting_id not in self._counts:
            return  # a late report from a meeting that already stopped
        old_participants, _ = self._counts[meeting_id]
        self._counts[meeting_id] = (participants, connections)
        metrics.participants_active.inc(participants - old_participants)
        self._recount()

    def _on_stopped(self, message: MeetingStopped) -> None:
        self._forget(message.meeting_id, message.handle, message.error)

    def _forget(self, meeting_id: str, handle: MeetingHandle, error: BaseException | None) -> None:
        if error is not None:
            metrics.actor_failures_total.labels(actor="meeting").inc()
            self._update(actor_failures=self.status.actor_failures + 1)
            log.error(
                "meeting actor crashed: %r",
                error,
                exc_info=error,
                extra={"meeting_id": meeting_id, "event": "actor_crashed"},
            )
        if self._meetings.get(meeting_id) is not handle:
            return
        del self._meetings[meeting_id]
        reason = handle.outcome.reason
        if (
            error is None
            and reason not in (None, "migrated", "fenced_out")
            and self._on_meeting_ended is not None
        ):
            self._on_meeting_ended(meeting_id, reason)
        participants, _ = self._counts.pop(meeting_id, (0, 0))
        metrics.participants_active.dec(participants)
        metrics.meetings_active.dec()
        self._recount()

    # -- helpers -------------------------------------------------------------------------------

    def _recount(self) -> None:
        self._update(
            meetings=len(self._meetings),
            participants=sum(p for p, _ in self._counts.values()),
            connections=sum(c for _, c in self._counts.values()),
        )

    def _update(self, **changes: object) -> None:
        self.status = dataclasses.replace(self.status, **changes)  # type: ignore[arg-type]

    async def _stop_meetings(self) -> None:
        handles = list(self._meetings.items())
        for _, handle in handles:
            handle.stop()
        await asyncio.gather(*(self._await_meeting(mid, h) for mid, h in handles))

    async def _await_meeting(self, meeting_id: str, handle: MeetingHandle) -> None:
        # The meeting's done-callback removes it from the registry (and counts a crash).
        done, _ = await asyncio.wait({handle.task}, timeout=self._deadlines.controller_per_meeting)
        if done:
            return
        handle.task.cancel()
        metrics.actor_shutdown_abandoned_total.labels(actor="meeting").inc()
        log.warning(
            "meeting did not stop within %.0f s; cancelled",
            self._deadlines.controller_per_meeting,
            extra={"meeting_id": meeting_id, "event": "meeting_abandoned"},
        )


def spawn_controller(
    *,
    mc_id: str,
    region: str,
    max_meetings: int,
    max_participants: int,
    mailbox_capacity: int = 1024,
    buffer_size: int = DEFAULT_EVENT_BUFFER_SIZE,
    deadlines: ShutdownDeadlines = DEFAULT_DEADLINES,
    services: MeetingServices | None = None,
    on_meeting_ended: MeetingEndedListener | None = None,
) -> MeetingControllerHandle:
    """Start the root actor of an MC process (call from inside the running event loop)."""
    actor = MeetingControllerActor(
        mc_id=mc_id,
        region=region,
        max_meetings=max_meetings,
        max_participants=max_participants,
        mailbox_capacity=mailbox_capacity,
        buffer_size=buffer_size,
        deadlines=deadlines,
        root=CancellationToken(),
        services=services,
        on_meeting_ended=on_meeting_ended,
    )
    task = asyncio.create_task(actor.run(), name=f"controller:{mc_id}")
    return MeetingControllerHandle(actor, task)
