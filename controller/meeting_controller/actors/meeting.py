"""The meeting actor: one meeting, its roster and its participants' connections.

It is the only owner of the meeting's :class:`~meeting_controller.core.roster.Roster`: joins,
client messages and connection losses all arrive in its mailbox and are applied in order, and
the deliveries the roster returns are handed to the connection actors. It supervises those
connection actors: one that ends (client gone) or crashes (a bug, counted in
``mc_actor_failures_total{actor="connection"}``) leaves its participant marked disconnected,
never silently lost.

On cancellation it gives every connection ``meeting_per_connection`` (5 s) to finish, then
cancels what is left.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Callable

from meeting_controller import metrics
from meeting_controller.actors import connection as conn
from meeting_controller.actors.cancellation import CancellationToken
from meeting_controller.actors.deadlines import ShutdownDeadlines
from meeting_controller.actors.mailbox import Mailbox
from meeting_controller.core.roster import Delivery, Roster, RosterError
from meeting_controller.errors import ActorError, ActorStopped
from meeting_controller.protocol import signaling_pb2

log = logging.getLogger(__name__)

KIND = "meeting"


@dataclasses.dataclass(frozen=True)
class MeetingSnapshot:
    """A meeting's real-time state, as its actor sees it right now."""

    meeting_id: str
    generation: int
    participants: int
    connected: int
    connections: int


@dataclasses.dataclass(frozen=True)
class JoinResult:
    participant_id: str
    connection: conn.ConnectionHandle


# -- messages -----------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Attach:
    """Admit a participant on a transport whose JoinRequest was already validated."""

    participant_id: str
    display_name: str
    role: signaling_pb2.Role.ValueType
    transport: conn.Transport
    reply: asyncio.Future[JoinResult]


@dataclasses.dataclass(frozen=True)
class GetState:
    reply: asyncio.Future[MeetingSnapshot]


@dataclasses.dataclass(frozen=True)
class ConnectionStopped:
    participant_id: str
    connection_id: int
    error: BaseException | None


MeetingMessage = Attach | GetState | ConnectionStopped | conn.Inbound | conn.InboundInvalid

#: ``(meeting_id, participants, connections)``: how a meeting reports its counts upwards.
CountsListener = Callable[[str, int, int], None]


class MeetingHandle:
    """Everything outside the meeting actor talks to it through this."""

    def __init__(
        self,
        *,
        meeting_id: str,
        generation: int,
        mailbox: Mailbox[MeetingMessage],
        token: CancellationToken,
        task: asyncio.Task[None],
    ) -> None:
        self.meeting_id = meeting_id
        #: The fencing generation this MC holds the meeting under.
        self.generation = generation
        self._mailbox = mailbox
        self.token = token
        self.task = task

    async def attach(
        self,
        *,
        participant_id: str,
        display_name: str,
        role: signaling_pb2.Role.ValueType,
        transport: conn.Transport,
    ) -> JoinResult:
        reply: asyncio.Future[JoinResult] = asyncio.get_running_loop().create_future()
        await self._mailbox.send(Attach(participant_id, display_name, role, transport, reply))
        return await reply

    async def get_state(self, *, timeout: float = 1.0) -> MeetingSnapshot:
        """Ask the actor itself (real-time, but waits behind its queue: bounded by ``timeout``)."""
        reply: asyncio.Future[MeetingSnapshot] = asyncio.get_running_loop().create_future()
        self._mailbox.send_nowait(GetState(reply))
        try:
            return await asyncio.wait_for(reply, timeout)
        except TimeoutError:
            raise ActorError(
                f"meeting {self.meeting_id!r} did not answer within {timeout:.1f} s"
            ) from None

    async def post(self, message: conn.Inbound | conn.InboundInvalid) -> None:
        """Hand inbound client traffic over; waits while the meeting's mailbox is full."""
        await self._mailbox.send(message)

    def stop(self) -> None:
        self.token.cancel()


class MeetingActor:
    """See the module docstring."""

    def __init__(
        self,
        *,
        meeting_id: str,
        generation: int,
        token: CancellationToken,
        mailbox_capacity: int,
        buffer_size: int,
        deadlines: ShutdownDeadlines,
        on_counts: CountsListener,
    ) -> None:
        self.meeting_id = meeting_id
        self.generation = generation
        self._token = token
        self._mailbox_capacity = mailbox_capacity
        self._deadlines = deadlines
        self._on_counts = on_counts
        self._mailbox: Mailbox[MeetingMessage] = Mailbox(
            capacity=mailbox_capacity, kind=KIND, token=token
        )
        self.roster = Roster(buffer_size=buffer_size)
        self._connections: dict[str, conn.ConnectionHandle] = {}
        self._next_connection_id = 1
        self._reported = (0, 0)

    @classmethod
    def spawn(
        cls,
        *,
        meeting_id: str,
        generation: int,
        token: CancellationToken,
        mailbox_capacity: int,
        buffer_size: int,
        deadlines: ShutdownDeadlines,
        on_counts: CountsListener,
    ) -> MeetingHandle:
        actor = cls(
            meeting_id=meeting_id,
            generation=generation,
            token=token,
            mailbox_capacity=mailbox_capacity,
            buffer_size=buffer_size,
            deadlines=deadlines,
            on_counts=on_counts,
        )
        task = asyncio.create_task(actor.run(), name=f"meeting:{meeting_id}")
        return MeetingHandle(
            meeting_id=meeting_id,
            generation=generation,
            mailbox=actor._mailbox,
            token=token,
            task=task,
        )

    # -- loop ----------------------------------------------------------------------------------

    async def run(self) -> None:
        try:
            while (message := await self._mailbox.recv()) is not None:
                await self.handle(message)
                self._report_counts()
        finally:
            self._fail_pending_requests()
            await self._stop_connections()
            self._report_counts(final=True)

    async def handle(self, message: MeetingMessage) -> None:
        """Apply one message. Any exception escaping here is a bug: the actor crashes."""
        if isinstance(message, conn.Inbound):
            self._on_inbound(message)
        elif isinstance(message, conn.InboundInvalid):
            if self._is_current(message.participant_id, message.connection_id):
                self._carry_out(
                    self.roster.error_to(
                        message.participant_id, code=message.code, message=message.detail
                    )
                )
        elif isinstance(message, Attach):
            self._on_attach(message)
        elif isinstance(message, ConnectionStopped):
            self._on_connection_stopped(message)
        elif isinstance(message, GetState):
            if not message.reply.done():
                message.reply.set_result(self.snapshot())
        else:  # pragma: no cover - exhaustiveness guard
            raise TypeError(f"unexpected message {message!r}")

    def snapshot(self) -> MeetingSnapshot:
        return MeetingSnapshot(
            meeting_id=self.meeting_id,
            generation=self.generation,
            participants=len(self.roster),
            connected=self.roster.connected_count,
            connections=len(self._connections),
        )

    # -- handlers ------------------------------------------------------------------------------

    def _on_attach(self, message: Attach) -> None:
        if message.reply.done():  # the caller gave up waiting
            return
        try:
            deliveries = self.roster.add(
                participant_id=message.participant_id,
                display_name=message.display_name,
                role=message.role,
            )
        except RosterError as error:
            message.reply.set_exception(ActorError(str(error)))
            return
        handle = self._spawn_connection(message.participant_id, message.transport)
        welcome = signaling_pb2.ServerMessage(
            join_response=signaling_pb2.JoinResponse(
                participant_id=message.participant_id,
                meeting_id=self.meeting_id,
                role=message.role,
                roster=self.roster.snapshot(),
            )
        )
        self._carry_out([self.roster.deliver(message.participant_id, welcome), *deliveries])
        message.reply.set_result(JoinResult(message.participant_id, handle))

    def _on_inbound(self, message: conn.Inbound) -> None:
        pid = message.participant_id
        if not self._is_current(pid, message.connection_id):
            return  # a late frame from a connection that was already replaced or closed
        payload = message.message.WhichOneof("payload")
        body = message.message
        try:
            if payload == "mute":
                deliveries = self.roster.set_self_muted(pid, muted=body.mute.muted)
            elif payload == "host_mute":
                deliveries = self.roster.set_host_muted(
                    pid, target_id=body.host_mute.target_participant_id, muted=body.host_mute.muted
                )
            elif payload == "unmute_request":
                deliveries = self.roster.request_unmute(pid, reason=body.unmute_request.reason)
            elif payload == "unmute_decision":
                deliveries = self.roster.decide_unmute(
                    pid,
                    participant_id=body.unmute_decision.participant_id,
                    approved=body.unmute_decision.approved,
                )
            elif payload == "ping":
                pong = signaling_pb2.ServerMessage(pong=signaling_pb2.Pong(nonce=body.ping.nonce))
                deliveries = [self.roster.deliver(pid, pong)]
            elif payload == "leave":
                deliveries = self._remove(pid, reason=signaling_pb2.LEAVE_REASON_LEFT)
            elif payload == "join":
                deliveries = self.roster.error_to(
                    pid,
                    code=signaling_pb2.ERROR_CODE_ALREADY_JOINED,
                    message="this session has already joined the meeting",
                )
            else:
                deliveries = self.roster.error_to(
                    pid,
                    code=signaling_pb2.ERROR_CODE_MALFORMED_MESSAGE,
                    message="the message carries no known payload",
                )
        except RosterError as error:
            deliveries = self.roster.error_to(pid, code=error.code, message=str(error))
        self._carry_out(deliveries)

    def _on_connection_stopped(self, message: ConnectionStopped) -> None:
        pid = message.participant_id
        if message.error is not None:
            metrics.actor_failures_total.labels(actor=conn.KIND).inc()
            log.error(
                "connection actor crashed: %r",
                message.error,
                exc_info=message.error,
                extra={
                    "meeting_id": self.meeting_id,
                    "participant_id": pid,
                    "event": "actor_crashed",
                },
            )
        if not self._is_current(pid, message.connection_id):
            return
        del self._connections[pid]
        if pid in self.roster:
            self._carry_out(self.roster.set_connected(pid, connected=False))

    # -- helpers -------------------------------------------------------------------------------

    def _is_current(self, participant_id: str, connection_id: int) -> bool:
        handle = self._connections.get(participant_id)
        return handle is not None and handle.connection_id == connection_id

    def _remove(
        self, participant_id: str, *, reason: signaling_pb2.LeaveReason.ValueType
    ) -> list[Delivery]:
        deliveries = self.roster.remove(participant_id, reason=reason)
        handle = self._connections.pop(participant_id, None)
        if handle is not None:
            handle.close(code=0, reason="left the meeting")
        return deliveries

    def _spawn_connection(
        self, participant_id: str, transport: conn.Transport
    ) -> conn.ConnectionHandle:
        connection_id = self._next_connection_id
        self._next_connection_id += 1
        handle = conn.ConnectionActor.spawn(
            participant_id=participant_id,
            connection_id=connection_id,
            transport=transport,
            sink=self._mailbox.send,
            token=self._token.child(),
            mailbox_capacity=self._mailbox_capacity,
            deadlines=self._deadlines,
        )
        self._connections[participant_id] = handle

        def stopped(task: asyncio.Task[None]) -> None:
            error = None if task.cancelled() else task.exception()
            try:
                self._mailbox.send_system(ConnectionStopped(participant_id, connection_id, error))
            except ActorStopped:
                if error is not None:  # the meeting is gone; still count and log the crash
                    metrics.actor_failures_total.labels(actor=conn.KIND).inc()
                    log.error("connection actor crashed: %r", error, exc_info=error)

        handle.task.add_done_callback(stopped)
        return handle

    def _carry_out(self, deliveries: list[Delivery]) -> None:
        for delivery in deliveries:
            handle = self._connections.get(delivery.participant_id)
            if handle is not None:
                handle.deliver(delivery.message)
            # Without a connection the message waits in the participant's recovery buffer.

    def _report_counts(self, *, final: bool = False) -> None:
        counts = (0, 0) if final else (len(self.roster), len(self._connections))
        if counts != self._reported:
            self._reported = counts
            self._on_counts(self.meeting_id, *counts)

    def _fail_pending_requests(self) -> None:
        for message in self._mailbox.drain():
            if isinstance(message, Attach | GetState) and not message.reply.done():
                message.reply.set_exception(
                    ActorStopped(f"meeting {self.meeting_id!r} has stopped")
                )
        self._mailbox.close()

    async def _stop_connections(self) -> None:
        """Give each connection its deadline to finish, concurrently; cancel the rest."""
        handles = list(self._connections.values())
        self._connections.clear()
        for handle in handles:
            handle.token.cancel()
        await asyncio.gather(*(self._await_connection(h) for h in handles))

    async def _await_connection(self, handle: conn.ConnectionHandle) -> None:
        done, _ = await asyncio.wait({handle.task}, timeout=self._deadlines.meeting_per_connection)
        if done:
            return
        handle.task.cancel()
        metrics.actor_shutdown_abandoned_total.labels(actor=conn.KIND).inc()
        log.warning(
            "connection did not stop within %.1f s; cancelled",
            self._deadlines.meeting_per_connection,
            extra={
                "meeting_id": self.meeting_id,
                "participant_id": handle.participant_id,
                "event": "connection_abandoned",
            },
        )
