"""The connection actor: one participant's transport, in both directions.

It writes the messages its meeting gives it (in order, one at a time) and reads the client's
frames, decoding them and handing them to the meeting. It never decides anything about the
meeting: a bad frame is reported to the meeting like any other input, so the answer is
numbered in the participant's stream.

On cancellation it has ``connection_close`` (50 ms) to flush what is queued and send its close
frame; past that the transport is abandoned (the peer will notice the dead connection) and the
abandonment is counted.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
from collections.abc import Awaitable, Callable
from typing import Protocol

from google.protobuf.message import DecodeError

from meeting_controller import metrics
from meeting_controller.actors.cancellation import CancellationToken
from meeting_controller.actors.deadlines import ShutdownDeadlines
from meeting_controller.actors.mailbox import Mailbox
from meeting_controller.core.ratelimit import TokenBucket, Verdict
from meeting_controller.errors import ActorStopped, MailboxFull
from meeting_controller.protocol import signaling_pb2

log = logging.getLogger(__name__)

KIND = "connection"


class Transport(Protocol):
    """What a connection actor needs from a transport (WebTransport in production).

    Messages are whole protobuf payloads: framing is the transport's business.
    """

    async def recv(self) -> bytes | None:
        """The next message from the client, or ``None`` when the client closed cleanly."""

    async def send(self, payload: bytes) -> None:
        """Send one message to the client."""

    async def close(self, *, code: int, reason: str) -> None:
        """Send the close frame and release the transport."""


@dataclasses.dataclass(frozen=True)
class RateLimit:
    """How many client messages a connection may send: a token bucket."""

    per_second: float
    burst: int


class FrameError(Exception):
    """The transport received something that is not a valid frame (too large, truncated)."""

    def __init__(self, code: signaling_pb2.ErrorCode.ValueType, message: str) -> None:
        super().__init__(message)
        self.code = code


# -- messages to the connection actor ----------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Deliver:
    message: signaling_pb2.ServerMessage


@dataclasses.dataclass(frozen=True)
class Close:
    code: int
    reason: str


ConnectionMessage = Deliver | Close


# -- what the connection tells its meeting ---------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Inbound:
    """A decoded client message."""

    participant_id: str
    connection_id: int
    message: signaling_pb2.ClientMessage


@dataclasses.dataclass(frozen=True)
class InboundInvalid:
    """A frame that could not be decoded; the meeting answers with an Error."""

    participant_id: str
    connection_id: int
    code: signaling_pb2.ErrorCode.ValueType
    detail: str


#: How the connection hands inbound traffic to its meeting (awaits when the meeting is busy,
#: which is the back-pressure that keeps a flooding client from growing memory).
InboundSink = Callable[[Inbound | InboundInvalid], Awaitable[None]]


class ConnectionHandle:
    """The meeting's way to talk to a connection actor."""

    def __init__(
        self,
        *,
        participant_id: str,
        connection_id: int,
        mailbox: Mailbox[ConnectionMessage],
        token: CancellationToken,
        task: asyncio.Task[None],
    ) -> None:
        self.participant_id = participant_id
        self.connection_id = connection_id
        self._mailbox = mailbox
        self.token = token
        self.task = task

    def deliver(self, message: signaling_pb2.ServerMessage) -> bool:
        """Queue a message for the client; ``False`` when the connection cannot take it.

        A full mailbox means the client does not read: the message stays in the participant's
        recovery buffer and the connection is closed, so the client resumes and catches up
        instead of stalling the whole meeting.
        """
        try:
            self._mailbox.send_nowait(Deliver(message))
        except MailboxFull:
            log.warning(
                "connection mailbox full; closing the slow connection",
                extra={"participant_id": self.participant_id, "event": "slow_consumer"},
            )
            self.close(code=0, reason="slow consumer")
            return False
        except ActorStopped:
            return False
        return True

    def close(self, *, code: int, reason: str) -> None:
        """Ask the connection to close after what is already queued."""
        with contextlib.suppress(ActorStopped):
            self._mailbox.send_system(Close(code, reason))

    @property
    def queued(self) -> int:
        return len(self._mailbox)


class ConnectionActor:
    """Owns one transport; see the module docstring."""

    def __init__(
        self,
        *,
        participant_id: str,
        connection_id: int,
        transport: Transport,
        sink: InboundSink,
        token: CancellationToken,
        mailbox_capacity: int,
        deadlines: ShutdownDeadlines,
        rate_limit: RateLimit | None = None,
    ) -> None:
        self.participant_id = participant_id
        self.connection_id = connection_id
        self._transport = transport
        self._sink = sink
        self._token = token
        self._deadlines = deadlines
        self._mailbox: Mailbox[ConnectionMessage] = Mailbox(
            capacity=mailbox_capacity, kind=KIND, token=token
        )
        self._close: Close | None = None
        self._rate_limit = rate_limit
        self._bucket = (
            TokenBucket(
                rate_per_second=rate_limit.per_second,
                burst=rate_limit.burst,
                now=asyncio.get_running_loop().time(),
            )
            if rate_limit is not None
            else None
        )

    @classmethod
    def spawn(
        cls,
        *,
        participant_id: str,
        connection_id: int,
        transport: Transport,
        sink: InboundSink,
        token: CancellationToken,
        mailbox_capacity: int,
        deadlines: ShutdownDeadlines,
        rate_limit: RateLimit | None = None,
    ) -> ConnectionHandle:
        actor = cls(
            participant_id=participant_id,
            connection_id=connection_id,
            transport=transport,
            sink=sink,
            token=token,
            mailbox_capacity=mailbox_capacity,
            deadlines=deadlines,
            rate_limit=rate_limit,
        )
        task = asyncio.create_task(actor.run(), name=f"connection:{participant_id}")
        return ConnectionHandle(
            participant_id=participant_id,
            connection_id=connection_id,
            mailbox=actor._mailbox,
            token=token,
            task=task,
        )

    async def run(self) -> None:
        """Write until told to stop; read concurrently; close within the deadline.

        The actor ends normally when the client goes away (the meeting learns it from the
        task's end) and with an exception only on a bug: a failed send is a lost connection,
        not a crash, so only unexpected errors reach the supervisor as failures.
        """
        metrics.connections_active.inc()
        reader = asyncio.create_task(self._read_loop(), name=f"reader:{self.participant_id}")
        reader.add_done_callback(self._on_reader_done)
        try:
            while (message := await self._mailbox.recv()) is not None:
                if isinstance(message, Close):
                    self._close = message
                    break
                if not await self._send(message.message):
                    break
            if reader.done() and not reader.cancelled():
                error = reader.exception()
                if error is not None:
                    raise error
        finally:
            reader.cancel()
            pending = [m for m in self._mailbox.drain() if isinstance(m, Deliver)]
            self._mailbox.close()
            metrics.connections_active.dec()
            await self._close_within_deadline(pending)

    async def _send(self, message: signaling_pb2.ServerMessage) -> bool:
        try:
            await self._transport.send(message.SerializeToString())
        except (ConnectionError, OSError) as error:
            log.info(
                "connection lost while sending: %s",
                error,
                extra={"participant_id": self.participant_id, "event": "connection_lost"},
            )
            return False
        return True

    def _on_reader_done(self, reader: asyncio.Task[None]) -> None:
        # The reader ends when the client closes or fails; the actor then stops too.
        self._token.cancel()

    async def _read_loop(self) -> None:
        try:
            await self._read_forever()
        except ActorStopped:
            return  # the meeting is gone: nobody left to read for

    async def _read_forever(self) -> None:
        while True:
            try:
                payload = await self._transport.recv()
            except FrameError as error:
                await self._sink(
                    InboundInvalid(self.participant_id, self.connection_id, error.code, str(error))
                )
                continue
            except (ConnectionError, OSError):
                return
            if payload is None:
                return
            if not await self._within_rate():
                continue
            message = signaling_pb2.ClientMessage()
            try:
                message.ParseFromString(payload)
            except DecodeError as error:
                await self._sink(
                    InboundInvalid(
                        self.participant_id,
                        self.connection_id,
                        signaling_pb2.ERROR_CODE_MALFORMED_MESSAGE,
                        f"the message could not be decoded: {error}",
                    )
                )
                continue
            await self._sink(Inbound(self.participant_id, self.connection_id, message))

    async def _within_rate(self) -> bool:
        """Apply the per-connection rate limit; a flood gets one RATE_LIMITED per second."""
        if self._bucket is None or self._rate_limit is None:
            return True
        verdict = self._bucket.check(asyncio.get_running_loop().time())
        if verdict is Verdict.ALLOW:
            return True
        if verdict is Verdict.DROP_AND_WARN:
            await self._sink(
                InboundInvalid(
                    self.participant_id,
                    self.connection_id,
                    signaling_pb2.ERROR_CODE_RATE_LIMITED,
                    f"too many messages: at most {self._rate_limit.per_second:g} per second "
                    f"(bursts of {self._rate_limit.burst}); messages beyond are dropped",
                )
            )
        return False

    async def _close_within_deadline(self, pending: list[Deliver]) -> None:
        close = self._close or Close(0, "shutting down")
        closing = asyncio.create_task(self._flush_and_close(pending, close))
        done, _ = await asyncio.wait({closing}, timeout=self._deadlines.connection_close)
        if not done:
            closing.cancel()
            metrics.actor_shutdown_abandoned_total.labels(actor=KIND).inc()
            log.warning(
                "close frame not sent within %.0f ms; connection abandoned",
                self._deadlines.connection_close * 1000,
                extra={"participant_id": self.participant_id, "event": "close_abandoned"},
            )
        elif not closing.cancelled() and closing.exception() is not None:
            log.info(
                "closing the connection failed: %s",
                closing.exception(),
                extra={"participant_id": self.participant_id},
            )

    async def _flush_and_close(self, pending: list[Deliver], close: Close) -> None:
        for item in pending:
            await self._transport.send(item.message.SerializeToString())
        await self._transport.close(code=close.code, reason=close.reason)
