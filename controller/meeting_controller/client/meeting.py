"""A meeting participant: join, receive one continuous event stream, mute, resume.

:class:`MeetingClient` is what tests, the demo and the benchmarks use to be a participant.
It joins over WebTransport with a join ticket from the GC, and then hides connection trouble
from the application: when the connection drops (or the MC redirects it), it reconnects with
backoff and jitter - asking the GC where the meeting is now if the old MC is gone - and
resumes with its session token and the last sequence number it processed. The missed events
arrive in the resume's ``recovery_data`` and are delivered in order, so :meth:`events` is
one continuous stream: every sequence number once, none skipped. A gap the MC can no longer
fill ends the stream with :class:`RejoinRequired`; the application decides whether to join
again as a new participant.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import random
from collections.abc import AsyncIterator

from google.protobuf.message import DecodeError

from meeting_controller.client import gc as gc_api
from meeting_controller.client import transport as wt
from meeting_controller.protocol import signaling_pb2 as sig

log = logging.getLogger(__name__)

#: Keepalive pings use nonces from here up; their pongs are not shown to the application.
KEEPALIVE_NONCES = 1 << 62


class SessionError(Exception):
    """The MC refused the session; ``error`` is its Error message."""

    def __init__(self, error: sig.Error) -> None:
        super().__init__(f"{sig.ErrorCode.Name(error.code)}: {error.message}")
        self.error = error


class RejoinRequired(SessionError):
    """The session cannot be resumed (gap beyond the buffer, spent or expired token, ...)."""


class SequenceViolation(Exception):
    """The MC sent a sequence number out of order: a protocol bug, never silently accepted."""


@dataclasses.dataclass(frozen=True)
class Trust:
    """How the client trusts the MC's certificate: a CA file, or a pinned SHA-256."""

    cafile: str | None = None
    certificate_hash: bytes | None = None


@dataclasses.dataclass(frozen=True)
class Reconnect:
    """Reconnection policy: exponential backoff with full jitter, bounded attempts."""

    initial: float = 0.05
    cap: float = 2.0
    attempts: int = 40
    #: Per connection attempt: a dead MC must not cost the default QUIC handshake timeout.
    connect_timeout: float = 2.0


@dataclasses.dataclass(frozen=True)
class Liveness:
    """How the client notices an MC that died without closing the connection.

    QUIC only notices a vanished peer at its idle timeout; the client pings every
    ``interval`` seconds and treats ``dead_after`` seconds of silence as a dead connection.
    """

    interval: float = 1.0
    dead_after: float = 3.5


class MeetingClient:
    """One participant's session; see the module docstring."""

    def __init__(
        self,
        *,
        ticket: gc_api.JoinTicket,
        display_name: str = "",
        trust: Trust | None = None,
        gc_url: str | None = None,
        reconnect: Reconnect | None = None,
        liveness: Liveness | None = Liveness(),
        rng: random.Random | None = None,
    ) -> None:
        self.ticket = ticket
        self.display_name = display_name
        self._trust = trust or Trust()
        self._gc_url = gc_url
        self._reconnect = reconnect or Reconnect()
        self._rng = rng or random.Random()
        self.endpoint = ticket.mc_endpoint
        self.participant_id = ""
        self.session_token = ""
        self.last_sequence = 0
        #: Every sequence number accepted, in order (1, 2, 3, ... when all is well).
        self.sequence_log: list[int] = []
        self.join_response: sig.JoinResponse | None = None
        self.resumes = 0
        self.redirects = 0
        self._transport: wt.ClientTransport | None = None
        self._events: asyncio.Queue[sig.ServerMessage | BaseException] = asyncio.Queue()
        self._reader: asyncio.Task[None] | None = None
        self._closing = False
        self._redirect_to: str | None = None
        self._resume_delay = 0.0
        self._liveness = liveness
        self._keepalive: asyncio.Task[None] | None = None
        self._last_heard = 0.0
        self._resuming = False
        self._closers: set[asyncio.Task[None]] = set()

    # -- connecting ----------------------------------------------------------------------------

    async def connect(self) -> sig.JoinResponse:
        """Join the meeting (first join); raises SessionError when refused."""
        response = await self._open(resume=False)
        self._reader = asyncio.create_task(self._read_forever(), name="client-reader")
        if self._liveness is not None:
            self._keepalive = asyncio.create_task(
                self._keep_alive(self._liveness), name="client-keepalive"
            )
        return response

    async def _open(self, *, resume: bool) -> sig.JoinResponse:
        transport = await wt.connect(
            self.endpoint,
            cafile=self._trust.cafile,
            certificate_hash=self._trust.certificate_hash,
            timeout=self._reconnect.connect_timeout if resume else 10.0,
        )
        request = sig.JoinRequest(
            meeting_id=self.ticket.meeting_id,
            join_token=self.ticket.join_token,
            display_name=self.display_name,
        )
        if resume:
            request.session_token = self.session_token
            request.last_sequence_number = self.last_sequence
        try:
            await transport.send(sig.ClientMessage(join=request).SerializeToString())
            first = await self._recv(transport)
        except BaseException:
            await transport.close()
            raise
        if first is None:
            await transport.close()
            raise ConnectionError("the MC closed the session before answering the join")
        if first.WhichOneof("payload") == "error":
            await transport.close()
            if first.error.rejoin_required:
                raise RejoinRequired(first.error)
            raise SessionError(first.error)
        if first.WhichOneof("payload") != "join_response":
            await transport.close()
            raise SequenceViolation(f"expected a JoinResponse, got {first.WhichOneof('payload')}")
        response = first.join_response
        for missed in response.recovery_data.missed_events:
            self._accept(missed)
        self._accept(first)
        self.join_response = response
        self.participant_id = response.participant_id
        self.session_token = response.session_token
        self._transport = transport
        self._last_heard = asyncio.get_running_loop().time()
        return response

    @staticmethod
    async def _recv(transport: wt.ClientTransport) -> sig.ServerMessage | None:
        payload = await transport.recv()
        if payload is None:
            return None
        message = sig.ServerMessage()
        try:
            message.ParseFromString(payload)
        except DecodeError as error:
            raise SequenceViolation(f"undecodable frame from the MC: {error}") from error
        return message

    def _accept(self, message: sig.ServerMessage) -> None:
        """Deliver a numbered message once, in order; refuse gaps (never a silent hole)."""
        seq = message.sequence_number
        if seq == 0:  # not part of the stream (only pre-join errors carry 0)
            self._events.put_nowait(message)
            return
        if seq <= self.last_sequence:
            return  # already delivered (e.g. replayed after a resume)
        if seq != self.last_sequence + 1:
            raise SequenceViolation(f"sequence gap: expected {self.last_sequence + 1}, got {seq}")
        self.last_sequence = seq
        self.sequence_log.append(seq)
        kind = message.WhichOneof("payload")
        if kind == "join_response":
            return
        if kind == "session_refresh":
            self.session_token = message.session_refresh.session_token
            return
        if kind == "pong" and message.pong.nonce >= KEEPALIVE_NONCES:
            return  # the client's own keepalive, not the application's business
        self._events.put_nowait(message)

    # -- the event stream ----------------------------------------------------------------------

    async def events(self) -> AsyncIterator[sig.ServerMessage]:
        """Every event after the join, in order, across reconnects and redirects."""
        while True:
            item = await self._events.get()
            if isinstance(item, BaseException):
                raise item
            yield item

    async def next_event(self, *, timeout: float = 5.0) -> sig.ServerMessage:
        async with asyncio.timeout(timeout):
            item = await self._events.get()
        if isinstance(item, BaseException):
            raise item
        return item

    def pending_events(self) -> list[sig.ServerMessage]:
        items: list[sig.ServerMessage] = []
        while not self._events.empty():
            item = self._events.get_nowait()
            if isinstance(item, BaseException):
                self._events.put_nowait(item)
                break
            items.append(item)
        return items

    async def _read_forever(self) -> None:
        while not self._closing:
            transport = self._transport
            assert transport is not None
            try:
                message = await self._recv(transport)
            except (ConnectionError, OSError):
                message = None
            except SequenceViolation as error:
                self._events.put_nowait(error)
                return
            if message is not None:
                self._last_heard = asyncio.get_running_loop().time()
                if message.WhichOneof("payload") == "redirect":
                    self.redirects += 1
                    self._redirect_to = message.redirect.mc_endpoint
                try:
                    self._accept(message)
                except SequenceViolation as error:
                    self._events.put_nowait(error)
                    return
                if self._redirect_to is None:
                    continue
            if self._closing:
                return
            # Close the old connection in the background: its orderly close waits for the
            # server's answer, which must not delay the resume (after a redirect the old MC
            # only closes the session a moment later).
            self._close_in_background(transport)
            try:
                await self._resume()
            except (SessionError, SequenceViolation, ConnectionError, OSError) as error:
                self._events.put_nowait(error)
                return

    def _close_in_background(self, transport: wt.ClientTransport) -> None:
        async def close() -> None:
            with contextlib.suppress(Exception):
                await transport.close()

        task = asyncio.create_task(close())
        self._closers.add(task)
        task.add_done_callback(self._closers.discard)

    async def _keep_alive(self, liveness: Liveness) -> None:
        """Ping while connected; abandon a connection that stays silent (a dead MC)."""
        loop = asyncio.get_running_loop()
        nonce = 0
        while not self._closing:
            await asyncio.sleep(liveness.interval)
            transport = self._transport
            if transport is None or self._resuming:
                continue
            if loop.time() - self._last_heard > liveness.dead_after:
                log.info(
                    "no word from %s for %.1f s: reconnecting", self.endpoint, liveness.dead_after
                )
                self._last_heard = loop.time()
                with contextlib.suppress(Exception):
                    await transport.close(code=0, reason="peer silent")
                continue
            nonce += 1
            ping = sig.ClientMessage(ping=sig.Ping(nonce=KEEPALIVE_NONCES + nonce))
            with contextlib.suppress(ConnectionError, OSError):
                await transport.send(ping.SerializeToString())

    async def _resume(self) -> None:
        self._resuming = True
        try:
            await self._resume_now()
        finally:
            self._resuming = False

    async def _resume_now(self) -> None:
        """Reconnect and resume, with backoff and jitter, following redirects and the GC."""
        if self._redirect_to is not None:
            self.endpoint, self._redirect_to = self._redirect_to, None
        if self._resume_delay:
            await asyncio.sleep(self._resume_delay)
            self._resume_delay = 0.0
        delay = self._reconnect.initial
        last_error: BaseException | None = None
        for attempt in range(self._reconnect.attempts):
            if attempt:
                await asyncio.sleep(self._rng.uniform(0, delay))
                delay = min(self._reconnect.cap, delay * 2)
            try:
                await self._open(resume=True)
            except RejoinRequired:
                raise
            except SessionError as error:
                last_error = error
                if error.error.code != sig.ERROR_CODE_MEETING_NOT_FOUND:
                    raise
                await self._relocate()
                continue
            except (ConnectionError, OSError, TimeoutError) as error:
                last_error = error
                await self._relocate()
                continue
            self.resumes += 1
            return
        raise ConnectionError(
            f"could not resume after {self._reconnect.attempts} attempts: {last_error}"
        )

    async def _relocate(self) -> None:
        """Ask the GC where the meeting lives now (after a failover or migration)."""
        if self._gc_url is None:
            return
        with contextlib.suppress(gc_api.GcRequestError):
            endpoint = await gc_api.locate(self._gc_url, self.ticket.meeting_id)
            if endpoint:
                self.endpoint = endpoint

    # -- requests ------------------------------------------------------------------------------

    async def _send(self, message: sig.ClientMessage) -> None:
        if self._transport is None:
            raise ConnectionError("not connected")
        await self._transport.send(message.SerializeToString())

    async def mute(self, muted: bool) -> None:
        await self._send(sig.ClientMessage(mute=sig.MuteRequest(muted=muted)))

    async def host_mute(self, participant_id: str, muted: bool = True) -> None:
        await self._send(
            sig.ClientMessage(
                host_mute=sig.HostMuteRequest(target_participant_id=participant_id, muted=muted)
            )
        )

    async def request_unmute(self, reason: str = "") -> None:
        await self._send(sig.ClientMessage(unmute_request=sig.UnmuteRequest(reason=reason)))

    async def decide_unmute(self, participant_id: str, *, approved: bool) -> None:
        await self._send(
            sig.ClientMessage(
                unmute_decision=sig.UnmuteDecision(participant_id=participant_id, approved=approved)
            )
        )

    async def ping(self, nonce: int = 0) -> None:
        await self._send(sig.ClientMessage(ping=sig.Ping(nonce=nonce)))

    async def leave(self) -> None:
        """Leave the meeting for good (no resume)."""
        self._closing = True
        with contextlib.suppress(ConnectionError, OSError):
            await self._send(sig.ClientMessage(leave=sig.LeaveRequest()))
        await self.close()

    async def drop_connection(self, *, resume_after: float = 0.0) -> None:
        """Cut the connection without leaving (simulates a network failure).

        The client resumes by itself, after ``resume_after`` seconds: tests use the pause to
        let the meeting move on while this participant is away.
        """
        self._resume_delay = resume_after
        if self._transport is not None:
            await self._transport.close(code=0, reason="simulated drop")

    async def close(self) -> None:
        self._closing = True
        if self._keepalive is not None:
            self._keepalive.cancel()
        if self._closers:
            await asyncio.wait(set(self._closers), timeout=2.0)
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
        if self._transport is not None:
            with contextlib.suppress(Exception):
                await self._transport.close()
