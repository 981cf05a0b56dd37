"""The meeting actor: one meeting, its roster and its participants' connections.

It is the only owner of the meeting's :class:`~meeting_controller.core.roster.Roster`: joins,
client messages and connection losses all arrive in its mailbox and are applied in order, and
the deliveries the roster returns are handed to the connection actors. It supervises those
connection actors: one that ends (client gone) or crashes (a bug, counted in
``mc_actor_failures_total{actor="connection"}``) leaves its participant marked disconnected,
never silently lost.

On cancellation it gives every connection ``meeting_per_connection`` (5 s) to finish, then
cancels what is left.

Sessions: a join issues a signed, single-use session token; a participant whose connection
drops stays in the roster, marked disconnected, for the grace period, and may resume with its
token and the last sequence number it processed to receive exactly the events it missed. When
the grace period ends it leaves with TIMEOUT; when the last participant has left, the meeting
ends: its Redis keys are deleted and the controller is told why.

Persistence (through the fenced store, when one is configured): joins and host-mutes are
written before they are announced; self-mutes are written in the background (they are
informational). A write refused as fenced out means another MC owns the meeting now: the
actor stops at once and does not fight for it.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import dataclasses
import logging
import time
from collections.abc import Awaitable, Callable

from meeting_controller import metrics
from meeting_controller.actors import connection as conn
from meeting_controller.actors.cancellation import CancellationToken
from meeting_controller.actors.deadlines import ShutdownDeadlines
from meeting_controller.actors.mailbox import Mailbox
from meeting_controller.core.roster import Delivery, Roster, RosterError
from meeting_controller.errors import ActorError, ActorStopped, FencedOut, StoreError
from meeting_controller.protocol import internal_pb2, signaling_pb2
from meeting_controller.store.fenced import FencedRedisClient
from meeting_controller.tokens import session as session_tokens

log = logging.getLogger(__name__)

KIND = "meeting"
#: The meeting state hash field holding the hand-off snapshot (base64 MeetingHandoff).
HANDOFF_FIELD = "handoff"
#: State hash fields ``p:<participant id>`` hold each participant's session id.
SESSION_FIELD_PREFIX = "p:"
#: Requests held while a meeting is frozen for a hand-off (a freeze lasts milliseconds).
MAX_HELD_MESSAGES = 1024


@dataclasses.dataclass(frozen=True)
class MeetingSnapshot:
    """A meeting's real-time state, as its actor sees it right now."""

    meeting_id: str
    generation: int
    participants: int
    connected: int
    connections: int


@dataclasses.dataclass(frozen=True)
class MeetingServices:
    """What meeting actors need from outside the actor tree (all optional in unit tests)."""

    #: The fenced Redis store; ``None`` keeps the meeting in memory only.
    store: FencedRedisClient | None = None
    #: The fleet's session master secret; ``None`` issues no session tokens (no resume).
    session_secret: bytes | None = None
    session_ttl_s: float = 300.0
    disconnect_grace_s: float = 30.0
    #: Unix time in seconds (token expiry); the loop's clock drives the grace timers.
    wall_clock: Callable[[], float] = time.time
    #: Per-connection limit on client messages (``None``: unlimited, for tests).
    rate_limit: conn.RateLimit | None = None


@dataclasses.dataclass
class MeetingOutcome:
    """Why a meeting actor ended on its own (``None`` while it runs or when it was stopped)."""

    reason: str | None = None


#: Outcomes after which the meeting's Redis state belongs to another MC: never delete it.
_KEEP_STATE = frozenset({"fenced_out", "migrated"})


class _Released(Exception):
    """Internal: the meeting was released (fenced out) while handling a message."""


class JoinRefused(ActorError):
    """A join or resume was refused; ``code`` is the signaling ErrorCode for the client."""

    def __init__(
        self, code: signaling_pb2.ErrorCode.ValueType, message: str, *, rejoin_required: bool
    ) -> None:
        super().__init__(message)
        self.code = code
        self.rejoin_required = rejoin_required


@dataclasses.dataclass(frozen=True)
class JoinResult:
    participant_id: str
    connection: conn.ConnectionHandle
    session_token: str = ""
    resumed: bool = False
    recovered: int = 0


# -- messages -----------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Attach:
    """Admit a participant on a transport whose JoinRequest was already validated."""

    participant_id: str
    display_name: str
    role: signaling_pb2.Role.ValueType
    transport: conn.Transport
    reply: asyncio.Future[JoinResult]
    user_id: str = ""


@dataclasses.dataclass(frozen=True)
class Resume:
    """Restore a session whose token was already verified (signature, expiry, meeting)."""

    participant_id: str
    session_id: str
    nonce: str
    last_sequence: int
    transport: conn.Transport
    reply: asyncio.Future[JoinResult]
    #: The user the resuming client's join token names ("" when unknown, e.g. unit tests).
    user_id: str = ""


@dataclasses.dataclass(frozen=True)
class End:
    """Close the meeting now: everyone is told why, then the meeting ends."""

    reason: signaling_pb2.MeetingEndReason.ValueType
    message: str


@dataclasses.dataclass(frozen=True)
class PrepareHandoff:
    """Live migration, step 1: freeze the meeting and write its hand-off state to Redis."""

    reply: asyncio.Future[internal_pb2.MeetingHandoff]


@dataclasses.dataclass(frozen=True)
class CompleteHandoff:
    """Step 2 (the target took over): redirect everyone to the target, then end here."""

    webtransport_endpoint: str


@dataclasses.dataclass(frozen=True)
class AbortHandoff:
    """The target refused: unfreeze and carry on here."""


@dataclasses.dataclass(frozen=True)
class RefreshSessions:
    """Periodic: fresh session tokens for connected participants, session TTLs extended."""


@dataclasses.dataclass(frozen=True)
class GraceExpired:
    participant_id: str
    epoch: int


@dataclasses.dataclass(frozen=True)
class GetState:
    reply: asyncio.Future[MeetingSnapshot]


@dataclasses.dataclass(frozen=True)
class ConnectionStopped:
    participant_id: str
    connection_id: int
    error: BaseException | None


MeetingMessage = (
    Attach
    | End
    | RefreshSessions
    | PrepareHandoff
    | CompleteHandoff
    | AbortHandoff
    | Resume
    | GraceExpired
    | GetState
    | ConnectionStopped
    | conn.Inbound
    | conn.InboundInvalid
)

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
        outcome: MeetingOutcome,
    ) -> None:
        self.meeting_id = meeting_id
        #: The fencing generation this MC holds the meeting under.
        self.generation = generation
        self._mailbox = mailbox
        self.token = token
        self.task = task
        self.outcome = outcome

    async def attach(
        self,
        *,
        participant_id: str,
        display_name: str,
        role: signaling_pb2.Role.ValueType,
        transport: conn.Transport,
        user_id: str = "",
    ) -> JoinResult:
        """Admit a new participant (its join token already verified); raises JoinRefused."""
        reply: asyncio.Future[JoinResult] = asyncio.get_running_loop().create_future()
        await self._mailbox.send(
            Attach(participant_id, display_name, role, transport, reply, user_id=user_id)
        )
        return await reply

    async def resume(
        self,
        *,
        participant_id: str,
        session_id: str,
        nonce: str,
        last_sequence: int,
        transport: conn.Transport,
        user_id: str = "",
    ) -> JoinResult:
        """Restore a session (its token already verified); raises JoinRefused."""
        reply: asyncio.Future[JoinResult] = asyncio.get_running_loop().create_future()
        await self._mailbox.send(
            Resume(participant_id, session_id, nonce, last_sequence, transport, reply, user_id)
        )
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

    async def prepare_handoff(self, *, timeout: float = 5.0) -> internal_pb2.MeetingHandoff:
        """Freeze the meeting and persist its hand-off state; returns what was written."""
        reply: asyncio.Future[internal_pb2.MeetingHandoff] = (
            asyncio.get_running_loop().create_future()
        )
        self._mailbox.send_system(PrepareHandoff(reply))
        async with asyncio.timeout(timeout):
            return await reply

    def complete_handoff(self, *, webtransport_endpoint: str) -> None:
        with contextlib.suppress(ActorStopped):
            self._mailbox.send_system(CompleteHandoff(webtransport_endpoint))

    def abort_handoff(self) -> None:
        with contextlib.suppress(ActorStopped):
            self._mailbox.send_system(AbortHandoff())

    def end(self, *, reason: signaling_pb2.MeetingEndReason.ValueType, message: str) -> None:
        """Close the meeting: participants receive MeetingEnded, then it ends (keys deleted)."""
        with contextlib.suppress(ActorStopped):
            self._mailbox.send_system(End(reason, message))


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
        services: MeetingServices | None = None,
        handoff: internal_pb2.MeetingHandoff | None = None,
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
        self._services = services or MeetingServices()
        self._timers: list[asyncio.TimerHandle] = []
        self._background: set[asyncio.Task[None]] = set()
        self.outcome = MeetingOutcome()
        self._had_participants = False
        #: While frozen for a hand-off, everything that would change the meeting waits here.
        self._frozen = False
        self._stash: list[MeetingMessage] = []
        self._restored = self.roster.restore(list(handoff.participants)) if handoff else []
        #: How the restored participants got here: a live hand-off carries their streams.
        self._takeover_kind = (
            "migration"
            if handoff is not None and any(p.next_sequence for p in handoff.participants)
            else "failover"
        )
        self._had_participants = bool(self._restored)

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
        services: MeetingServices | None = None,
        handoff: internal_pb2.MeetingHandoff | None = None,
    ) -> MeetingHandle:
        actor = cls(
            meeting_id=meeting_id,
            generation=generation,
            token=token,
            mailbox_capacity=mailbox_capacity,
            buffer_size=buffer_size,
            deadlines=deadlines,
            on_counts=on_counts,
            services=services,
            handoff=handoff,
        )
        task = asyncio.create_task(actor.run(), name=f"meeting:{meeting_id}")
        return MeetingHandle(
            meeting_id=meeting_id,
            generation=generation,
            mailbox=actor._mailbox,
            token=token,
            task=task,
            outcome=actor.outcome,
        )

    # -- loop ----------------------------------------------------------------------------------

    async def run(self) -> None:
        for pid in self._restored:  # taken over: each must resume within the grace period
            self._arm_grace_timer(pid, self.roster.get(pid).disconnect_epoch)
        self._arm_refresh_timer()
        try:
            while (message := await self._mailbox.recv()) is not None:
                await self.handle(message)
                self._report_counts()
                if self.outcome.reason is not None:
                    break
        finally:
            for timer in self._timers:
                timer.cancel()
            self._fail_pending_requests()
            await self._stop_connections()
            self._report_counts(final=True)
            if self._background:  # let pending writes land before the keys go
                await asyncio.wait(set(self._background), timeout=1.0)
            if self.outcome.reason is not None and self.outcome.reason not in _KEEP_STATE:
                await self._forget_in_store()

    async def handle(self, message: MeetingMessage) -> None:
        """Apply one message. Any exception escaping here is a bug: the actor crashes."""
        if isinstance(message, PrepareHandoff):
            await self._on_prepare_handoff(message)
            return
        if isinstance(message, CompleteHandoff):
            self._on_complete_handoff(message)
            return
        if isinstance(message, AbortHandoff):
            await self._on_abort_handoff()
            return
        if self._frozen and not isinstance(message, GetState):
            self._hold(message)
            return
        if isinstance(message, conn.Inbound):
            await self._on_inbound(message)
        elif isinstance(message, conn.InboundInvalid):
            if self._is_current(message.participant_id, message.connection_id):
                self._carry_out(
                    self.roster.error_to(
                        message.participant_id, code=message.code, message=message.detail
                    )
                )
        elif isinstance(message, Attach):
            await self._on_attach(message)
        elif isinstance(message, Resume):
            await self._on_resume(message)
        elif isinstance(message, GraceExpired):
            self._on_grace_expired(message)
        elif isinstance(message, End):
            self._on_end(message)
        elif isinstance(message, RefreshSessions):
            self._on_refresh_sessions()
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

    async def _on_attach(self, message: Attach) -> None:
        if message.reply.done():  # the caller gave up waiting
            return
        pid = message.participant_id
        if pid in self.roster:
            message.reply.set_exception(
                JoinRefused(
                    signaling_pb2.ERROR_CODE_ALREADY_JOINED,
                    f"participant {pid!r} is already in this meeting",
                    rejoin_required=False,
                )
            )
            return
        secret = self._services.session_secret
        session_id = session_tokens.new_session_id() if secret else ""
        nonce = session_tokens.new_nonce() if secret else ""
        deliveries = self.roster.add(
            participant_id=pid,
            display_name=message.display_name,
            role=message.role,
            user_id=message.user_id,
            session_id=session_id,
            nonce=nonce,
        )
        try:
            if self._services.store is not None:
                await self._services.store.add_participant(
                    self.meeting_id, generation=self.generation, participant_id=pid
                )
                if session_id:  # so that a crash failover can find the session again
                    await self._services.store.update_state(
                        self.meeting_id,
                        generation=self.generation,
                        fields={SESSION_FIELD_PREFIX + pid: session_id},
                    )
            await self._persist_session(pid)
        except (StoreError, FencedOut) as error:
            self.roster.remove(pid, reason=signaling_pb2.LEAVE_REASON_REMOVED)
            message.reply.set_exception(self._store_refusal(error))
            return
        token, expiry_ms = self._issue_token(pid)
        handle = self._spawn_connection(pid, message.transport)
        welcome = signaling_pb2.ServerMessage(
            join_response=signaling_pb2.JoinResponse(
                participant_id=pid,
                meeting_id=self.meeting_id,
                role=message.role,
                roster=self.roster.snapshot(),
                session_token=token,
                expiry_timestamp=expiry_ms,
            )
        )
        self._carry_out([self.roster.deliver(pid, welcome), *deliveries])
        message.reply.set_result(JoinResult(pid, handle, session_token=token))

    async def _on_resume(self, message: Resume) -> None:
        if message.reply.done():
            return
        pid = message.participant_id
        record = self.roster.get(pid) if pid in self.roster else None
        if record is not None and record.session_id != message.session_id:
            record = None  # a token for an earlier session of the same participant id
        if record is not None and message.user_id and record.user_id != message.user_id:
            # A session token is bound to its participant: someone else's join token
            # cannot resume it, even with the token in hand.
            message.reply.set_exception(
                JoinRefused(
                    signaling_pb2.ERROR_CODE_INVALID_SESSION_TOKEN,
                    "this session belongs to another user: join with your own session",
                    rejoin_required=True,
                )
            )
            return
        new_nonce = session_tokens.new_nonce()
        was_taken_over = record is not None and record.awaiting_resume
        try:
            if record is None:
                raise RosterError(
                    signaling_pb2.ERROR_CODE_REJOIN_REQUIRED,
                    "this session has ended (it left or timed out): join again without a "
                    "session token",
                )
            missed, deliveries = self.roster.resume(
                pid,
                last_sequence=message.last_sequence,
                presented_nonce=message.nonce,
                new_nonce=new_nonce,
            )
        except RosterError as error:
            message.reply.set_exception(JoinRefused(error.code, str(error), rejoin_required=True))
            return
        try:
            await self._persist_session(pid)
        except (StoreError, FencedOut) as error:
            message.reply.set_exception(self._store_refusal(error))
            return
        previous = self._connections.pop(pid, None)
        if previous is not None:  # the old connection was not noticed dead yet
            previous.close(code=0, reason="replaced by a resumed connection")
        token, expiry_ms = self._issue_token(pid)
        handle = self._spawn_connection(pid, message.transport)
        welcome = signaling_pb2.ServerMessage(
            join_response=signaling_pb2.JoinResponse(
                participant_id=pid,
                meeting_id=self.meeting_id,
                role=self.roster.get(pid).role,
                roster=self.roster.snapshot(),
                session_token=token,
                expiry_timestamp=expiry_ms,
                recovery_data=signaling_pb2.RecoveryData(missed_events=missed),
                resumed=True,
            )
        )
        metrics.events_replayed_total.inc(len(missed))
        if was_taken_over:
            metrics.participants_resumed_total.labels(kind=self._takeover_kind).inc()
        self._carry_out([self.roster.deliver(pid, welcome), *deliveries])
        message.reply.set_result(
            JoinResult(pid, handle, session_token=token, resumed=True, recovered=len(missed))
        )

    async def _on_inbound(self, message: conn.Inbound) -> None:
        pid = message.participant_id
        if not self._is_current(pid, message.connection_id):
            return  # a late frame from a connection that was already replaced or closed
        payload = message.message.WhichOneof("payload")
        body = message.message
        try:
            if payload == "mute":
                deliveries = self.roster.set_self_muted(pid, muted=body.mute.muted)
                self._in_background(self._persist_session(pid))  # informational: async
            elif payload == "host_mute":
                target = body.host_mute.target_participant_id
                deliveries = self.roster.set_host_muted(
                    pid, target_id=target, muted=body.host_mute.muted
                )
                await self._persist_enforced(target)
            elif payload == "unmute_request":
                deliveries = self.roster.request_unmute(pid, reason=body.unmute_request.reason)
            elif payload == "unmute_decision":
                target = body.unmute_decision.participant_id
                deliveries = self.roster.decide_unmute(
                    pid, participant_id=target, approved=body.unmute_decision.approved
                )
                if body.unmute_decision.approved:
                    await self._persist_enforced(target)
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
        except _Released:
            return
        self._carry_out(deliveries)
        self._end_if_empty()

    # -- live migration ------------------------------------------------------------------------

    async def _on_prepare_handoff(self, message: PrepareHandoff) -> None:
        """Freeze, snapshot, persist (fenced). Nothing is numbered after the snapshot."""
        self._frozen = True
        handoff = internal_pb2.MeetingHandoff(
            meeting_id=self.meeting_id,
            generation=self.generation,
            participants=self.roster.handoff(),
        )
        try:
            if self._services.store is not None:
                await self._services.store.update_state(
                    self.meeting_id,
                    generation=self.generation,
                    fields={HANDOFF_FIELD: base64.b64encode(handoff.SerializeToString()).decode()},
                )
        except StoreError as error:
            await self._on_abort_handoff()
            if not message.reply.done():
                message.reply.set_exception(error)
            if isinstance(error, FencedOut):
                self._release(error)
            return
        if not message.reply.done():
            message.reply.set_result(handoff)

    def _on_complete_handoff(self, message: CompleteHandoff) -> None:
        """The target owns the meeting: send everyone there and end without a goodbye."""
        redirect = signaling_pb2.ServerMessage(
            sequence_number=0,  # about the connection, not the meeting: never numbered
            redirect=signaling_pb2.RedirectToMc(
                mc_endpoint=message.webtransport_endpoint,
                meeting_id=self.meeting_id,
                reason=signaling_pb2.REDIRECT_REASON_MIGRATION,
            ),
        )
        for handle in self._connections.values():
            handle.deliver(redirect)
            handle.close(code=0, reason="meeting migrated")
        self._connections.clear()
        dropped = len(self._stash)
        self._stash.clear()
        self.outcome.reason = "migrated"
        log.info(
            "meeting handed over to %s (%d pending request(s) dropped)",
            message.webtransport_endpoint,
            dropped,
            extra={"meeting_id": self.meeting_id, "event": "migrated"},
        )

    async def _on_abort_handoff(self) -> None:
        self._frozen = False
        held, self._stash = self._stash, []
        for message in held:
            await self.handle(message)

    def _hold(self, message: MeetingMessage) -> None:
        if isinstance(message, Attach | Resume):
            if not message.reply.done():
                message.reply.set_exception(
                    JoinRefused(
                        signaling_pb2.ERROR_CODE_MEETING_NOT_FOUND,
                        "this meeting is moving to another MC: ask the Global Controller "
                        "where it is",
                        rejoin_required=False,
                    )
                )
            return
        if len(self._stash) < MAX_HELD_MESSAGES:
            self._stash.append(message)

    def _on_refresh_sessions(self) -> None:
        """Keep sessions resumable however long the meeting lasts.

        A session token expires ``session_ttl_s`` after it was issued, and a resume is the only
        other thing that issues one; so connected participants get a fresh token (same nonce:
        a refresh does not spend the previous token) every half TTL, and every session's Redis
        key gets its TTL extended, so a crash failover still finds quiet participants.
        """
        deliveries: list[Delivery] = []
        for record in self.roster.participants():
            if not record.session_id:
                continue
            self._in_background(self._persist_session(record.participant_id))
            if record.participant_id in self._connections and not record.awaiting_resume:
                token, expiry_ms = self._issue_token(record.participant_id)
                refresh = signaling_pb2.ServerMessage(
                    session_refresh=signaling_pb2.SessionRefresh(
                        session_token=token, expiry_timestamp=expiry_ms
                    )
                )
                deliveries.append(self.roster.deliver(record.participant_id, refresh))
        self._carry_out(deliveries)
        self._arm_refresh_timer()

    def _arm_refresh_timer(self) -> None:
        if self._services.session_secret is None:
            return

        def fire() -> None:
            with contextlib.suppress(ActorStopped):
                self._mailbox.send_system(RefreshSessions())

        loop = asyncio.get_running_loop()
        self._timers.append(loop.call_later(self._services.session_ttl_s / 2, fire))

    def _on_end(self, message: End) -> None:
        if self.outcome.reason is not None:
            return
        ended = signaling_pb2.ServerMessage(
            meeting_ended=signaling_pb2.MeetingEnded(
                meeting_id=self.meeting_id, reason=message.reason, message=message.message
            )
        )
        self._carry_out(
            [self.roster.deliver(p.participant_id, ended) for p in self.roster.participants()]
        )
        self.outcome.reason = (
            signaling_pb2.MeetingEndReason.Name(message.reason)
            .removeprefix("MEETING_END_REASON_")
            .lower()
        )
        log.info(
            "meeting closed: %s",
            message.message,
            extra={"meeting_id": self.meeting_id, "event": "meeting_closed"},
        )

    def _on_grace_expired(self, message: GraceExpired) -> None:
        pid = message.participant_id
        if pid not in self.roster:
            return
        session_id = self.roster.get(pid).session_id
        was_taken_over = self.roster.get(pid).awaiting_resume
        deliveries = self.roster.expire(pid, epoch=message.epoch)
        if pid not in self.roster:
            if was_taken_over:
                metrics.participants_lost_total.inc()
            log.info(
                "participant timed out after the grace period",
                extra={"meeting_id": self.meeting_id, "participant_id": pid, "event": "timeout"},
            )
            store = self._services.store
            if store is not None:
                self._in_background(self._forget_participant(store, pid, session_id))
        self._carry_out(deliveries)
        self._end_if_empty()

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
            epoch, deliveries = self.roster.disconnect(pid)
            self._carry_out(deliveries)
            self._arm_grace_timer(pid, epoch)

    # -- sessions and persistence --------------------------------------------------------------

    def _issue_token(self, participant_id: str) -> tuple[str, int]:
        secret = self._services.session_secret
        if secret is None:
            return "", 0
        record = self.roster.get(participant_id)
        expiry_ms = int((self._services.wall_clock() + self._services.session_ttl_s) * 1000)
        token = session_tokens.issue_session_token(
            master_secret=secret,
            session_id=record.session_id,
            participant_id=participant_id,
            meeting_id=self.meeting_id,
            expires_at_ms=expiry_ms,
            nonce=record.nonce,
        )
        return token, expiry_ms

    async def _persist_session(self, participant_id: str) -> None:
        """Write the participant's session (role, mute flags, current token nonce)."""
        store = self._services.store
        if store is None or participant_id not in self.roster:
            return
        record = self.roster.get(participant_id)
        if not record.session_id:
            return
        await store.put_session(
            self.meeting_id,
            generation=self.generation,
            session_id=record.session_id,
            data={
                "participant_id": participant_id,
                "meeting_id": self.meeting_id,
                "user_id": record.user_id,
                "display_name": record.display_name,
                "role": signaling_pb2.Role.Name(record.role),
                "nonce": record.nonce,
                "is_self_muted": "1" if record.is_self_muted else "0",
                "is_host_muted": "1" if record.is_host_muted else "0",
            },
            ttl_ms=int((self._services.session_ttl_s + self._services.disconnect_grace_s) * 1000),
        )

    async def _persist_enforced(self, participant_id: str) -> None:
        """Host-mute changes are enforced: written before anyone is told about them."""
        try:
            await self._persist_session(participant_id)
        except FencedOut as error:
            self._release(error)
            raise _Released from error
        except StoreError as error:
            log.error(
                "could not persist a host-mute change: %s",
                error,
                extra={"meeting_id": self.meeting_id, "participant_id": participant_id},
            )

    def _store_refusal(self, error: StoreError) -> JoinRefused:
        if isinstance(error, FencedOut):
            self._release(error)
            return JoinRefused(
                signaling_pb2.ERROR_CODE_MEETING_NOT_FOUND,
                "this meeting has moved to another MC: ask the Global Controller where it is",
                rejoin_required=False,
            )
        return JoinRefused(
            signaling_pb2.ERROR_CODE_INTERNAL,
            "the meeting's state could not be stored; try again",
            rejoin_required=False,
        )

    def _release(self, error: FencedOut) -> None:
        """Another MC owns the meeting now: stop at once, without touching its state."""
        log.warning("%s; releasing the meeting", error, extra={"meeting_id": self.meeting_id})
        self.outcome.reason = "fenced_out"

    def _in_background(self, write: Awaitable[None]) -> None:
        async def guarded() -> None:
            try:
                await write
            except FencedOut as error:
                self._release(error)
                self._token.cancel()
            except StoreError as error:
                log.warning(
                    "background write failed: %s", error, extra={"meeting_id": self.meeting_id}
                )

        task = asyncio.create_task(guarded())
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _forget_participant(
        self, store: FencedRedisClient, participant_id: str, session_id: str
    ) -> None:
        await store.remove_participant(
            self.meeting_id, generation=self.generation, participant_id=participant_id
        )
        if session_id:
            await store.delete_session(
                self.meeting_id, generation=self.generation, session_id=session_id
            )

    async def _forget_in_store(self) -> None:
        store = self._services.store
        if store is None:
            return
        try:
            await store.delete_meeting(self.meeting_id, generation=self.generation)
        except StoreError as error:  # FencedOut included: then it is not ours to delete
            log.warning(
                "could not delete the ended meeting's keys (%s); they expire with their TTL",
                error,
                extra={"meeting_id": self.meeting_id},
            )

    # -- lifecycle -----------------------------------------------------------------------------

    def _arm_grace_timer(self, participant_id: str, epoch: int) -> None:
        def fire() -> None:
            with contextlib.suppress(ActorStopped):
                self._mailbox.send_system(GraceExpired(participant_id, epoch))

        loop = asyncio.get_running_loop()
        self._timers = [t for t in self._timers if not t.cancelled() and t.when() > loop.time()]
        self._timers.append(loop.call_later(self._services.disconnect_grace_s, fire))

    def _end_if_empty(self) -> None:
        if len(self.roster) == 0 and self._had_participants and self.outcome.reason is None:
            self.outcome.reason = "last_participant_left"
            log.info(
                "meeting ended: the last participant left",
                extra={"meeting_id": self.meeting_id, "event": "meeting_ended"},
            )

    # -- helpers -------------------------------------------------------------------------------

    def _is_current(self, participant_id: str, connection_id: int) -> bool:
        handle = self._connections.get(participant_id)
        return handle is not None and handle.connection_id == connection_id

    def _remove(
        self, participant_id: str, *, reason: signaling_pb2.LeaveReason.ValueType
    ) -> list[Delivery]:
        record = self.roster.get(participant_id)
        deliveries = self.roster.remove(participant_id, reason=reason)
        store = self._services.store
        if store is not None:
            self._in_background(self._forget_participant(store, participant_id, record.session_id))
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
            rate_limit=self._services.rate_limit,
        )
        self._connections[participant_id] = handle
        self._had_participants = True

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
        metrics.events_buffered_total.inc(len(deliveries))
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
