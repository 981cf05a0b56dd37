"""WebTransport over HTTP/3 (aioquic): the signaling transport between clients and the MC.

One WebTransport session is one participant. Inside it the *client* opens exactly one
bidirectional stream (a browser does ``transport.createBidirectionalStream()``) and both sides
exchange length-prefixed frames on it (:mod:`meeting_controller.framing`). The server hands
each such stream to the application as a :class:`WebTransportSession`, which implements the
actor core's ``Transport`` protocol (``recv``/``send``/``close``).

How the pieces fit::

    UDP socket (SO_RCVBUF/SO_SNDBUF raised)
      QuicServer (aioquic)  - demultiplexes datagrams by connection ID
        WebTransportConnection  (one per QUIC connection; H3Connection inside)
          WebTransportSession   (one per extended CONNECT; one data stream)

Choices that are not obvious:

* **Coalesced transmits.** aioquic builds packets when ``transmit()`` is called; calling it
  per message sends one packet per message. ``send()`` only queues bytes and schedules one
  transmit per connection per loop iteration, so a fan-out that writes to a connection several
  times in one iteration pays for packets, not for messages (see ARCHITECTURE.md).
* **Bounded memory both ways.** Inbound frames wait in a queue bounded in bytes; a peer that
  outruns an application that does not read gets its session closed rather than buffered.
  Outbound, ``send()`` waits while more than ``send_high_water`` bytes are unacknowledged
  (the peer is not reading), and fails the session after ``send_stall_timeout``.
* **Orderly close.** ``close()`` finishes the data stream, then sends the
  CLOSE_WEBTRANSPORT_SESSION capsule and FIN on the CONNECT stream; it never waits. A peer's
  close is reported only after its data stream ended (or a short grace), so the frames it
  sent before closing - a redirect, say - are delivered, not dropped. The QUIC connection is
  closed once its sessions are over (immediately when both sides are done, after a linger
  otherwise), never in the same transmit as pending data: aioquic sends nothing but the
  CONNECTION_CLOSE once a close is pending.
* **aioquic's errors stay here.** Everything that leaves this module is ``ConnectionError``
  (the session is gone), ``connection.FrameError`` (the peer broke the framing) or a plain
  value.

The client side (``meeting_controller.client.transport``) reuses :class:`WebTransportConnection`
and :class:`WebTransportSession`, so both ends have the same semantics.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import functools
import logging
import socket
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Final

from aioquic.asyncio.protocol import QuicConnectionProtocol
from aioquic.asyncio.server import QuicServer
from aioquic.buffer import encode_uint_var
from aioquic.h3.connection import H3_ALPN, ErrorCode, FrameType, H3Connection, ProtocolError
from aioquic.h3.events import (
    DataReceived,
    H3Event,
    HeadersReceived,
    WebTransportStreamDataReceived,
)
from aioquic.quic.configuration import QuicConfiguration
from aioquic.quic.connection import NetworkAddress, QuicConnection, stream_is_unidirectional
from aioquic.quic.events import (
    ConnectionTerminated,
    ProtocolNegotiated,
    QuicEvent,
    StopSendingReceived,
    StreamDataReceived,
    StreamReset,
)

from meeting_controller import framing
from meeting_controller.actors import connection
from meeting_controller.protocol import signaling_pb2

log = logging.getLogger(__name__)

#: Capsule types of draft-ietf-webtrans-http3 carried in DATA frames on the CONNECT stream.
CLOSE_WEBTRANSPORT_SESSION: Final = 0x2843
#: Longest close reason the capsule may carry (bytes of UTF-8).
MAX_CLOSE_REASON_BYTES: Final = 1024
#: Longest capsule we parse; anything larger on the CONNECT stream is a broken peer.
_MAX_CAPSULE_BYTES: Final = 16 * 1024
#: Application error code for streams we refuse (a second stream, an unknown session, ...).
_STREAM_REJECTED: Final = ErrorCode.H3_REQUEST_REJECTED
#: Socket buffers big enough that a fan-out burst does not make the kernel drop ACKs.
DEFAULT_SOCKET_BUFFER_BYTES: Final = 4 * 1024 * 1024
#: Delay between the end of our data stream and the session's close capsule, so that a
#: browser reads the last messages before it learns the session is closed.
CLOSE_CAPSULE_DELAY: Final = 0.5  # below the connection linger (1 s)
#: Close codes of peers that ended a QUIC connection on purpose, not because of a failure.
_CLEAN_QUIC_CODES: Final = frozenset({0x0, ErrorCode.H3_NO_ERROR})


def encode_close_capsule(code: int, reason: str) -> bytes:
    """A CLOSE_WEBTRANSPORT_SESSION capsule: 32-bit code and a UTF-8 reason (truncated)."""
    message = reason.encode("utf-8")[:MAX_CLOSE_REASON_BYTES]
    message = message.decode("utf-8", errors="ignore").encode("utf-8")  # no split characters
    value = (code & 0xFFFFFFFF).to_bytes(4, "big") + message
    return encode_uint_var(CLOSE_WEBTRANSPORT_SESSION) + encode_uint_var(len(value)) + value


class CapsuleParser:
    """Split the CONNECT stream's bytes into capsules; purely data-manipulative."""

    def __init__(self) -> None:
        self._buffer = b""

    def feed(self, data: bytes) -> list[tuple[int, bytes]]:
        """Return every complete ``(type, value)``; raises ``ValueError`` on an absurd one."""
        self._buffer += data
        capsules: list[tuple[int, bytes]] = []
        while self._buffer:
            header = _pull_varints(self._buffer, 2)
            if header is None:
                break
            (capsule_type, length), start = header
            if length > _MAX_CAPSULE_BYTES:
                raise ValueError(f"capsule of {length} bytes on the CONNECT stream")
            if len(self._buffer) < start + length:
                break
            capsules.append((capsule_type, self._buffer[start : start + length]))
            self._buffer = self._buffer[start + length :]
        return capsules


def _pull_varints(data: bytes, count: int) -> tuple[list[int], int] | None:
    """Decode ``count`` QUIC variable-length integers; ``None`` if ``data`` is too short."""
    values: list[int] = []
    offset = 0
    for _ in range(count):
        if offset >= len(data):
            return None
        size = 1 << (data[offset] >> 6)
        if offset + size > len(data):
            return None
        value = data[offset] & 0x3F
        for byte in data[offset + 1 : offset + size]:
            value = (value << 8) | byte
        values.append(value)
        offset += size
    return values, offset


def decode_close_capsule(value: bytes) -> tuple[int, str]:
    """``(code, reason)`` of a CLOSE_WEBTRANSPORT_SESSION capsule's value."""
    if len(value) < 4:
        return 0, ""
    return int.from_bytes(value[:4], "big"), value[4:].decode("utf-8", errors="replace")


@dataclasses.dataclass(frozen=True)
class SessionLimits:
    """Per-session bounds, shared by the server and the client."""

    #: Largest frame payload accepted and sent.
    max_frame_size: int = framing.DEFAULT_MAX_FRAME_SIZE
    #: Inbound bytes queued for an application that does not read, before the session closes.
    max_buffered_bytes: int = 1024 * 1024
    #: Unacknowledged outbound bytes above which ``send()`` waits for the peer.
    send_high_water: int = 1024 * 1024
    #: How long ``send()`` waits for a peer that does not read before failing the session.
    send_stall_timeout: float = 10.0
    #: After the peer's close, how long its data stream may take to end before we stop waiting.
    close_grace: float = 1.0

    def __post_init__(self) -> None:
        if self.max_frame_size < 1:
            raise ValueError(f"max_frame_size must be >= 1, got {self.max_frame_size}")
        if self.max_buffered_bytes < self.max_frame_size:
            raise ValueError("max_buffered_bytes must be at least max_frame_size")


def resolve_limits(limits: SessionLimits | None, max_frame_size: int | None) -> SessionLimits:
    """``limits`` (or the defaults) with ``max_frame_size`` applied when it is given."""
    limits = limits or SessionLimits()
    if max_frame_size is not None and max_frame_size != limits.max_frame_size:
        limits = dataclasses.replace(
            limits,
            max_frame_size=max_frame_size,
            max_buffered_bytes=max(limits.max_buffered_bytes, max_frame_size),
        )
    return limits


class WebTransportSession:
    """One WebTransport session and its single bidirectional data stream.

    Implements the actor core's ``Transport``: ``recv()`` yields whole frame payloads in order,
    ``None`` once the peer finished cleanly (or after a framing error was reported once);
    ``send()`` writes one frame; ``close()`` ends the session without waiting.
    """

    def __init__(
        self,
        *,
        owner: WebTransportConnection,
        session_id: int,
        limits: SessionLimits,
        path: str = "",
    ) -> None:
        self._owner = owner
        self._loop = owner.loop
        self._limits = limits
        self.session_id = session_id
        #: The request path of the extended CONNECT (query string included).
        self.path = path
        self._stream_id: int | None = None
        self._decoder = framing.FrameDecoder(max_size=limits.max_frame_size)
        self._inbound: deque[bytes] = deque()
        self._inbound_bytes = 0
        self._readable = asyncio.Event()
        self._writable = asyncio.Event()
        self._capsules = CapsuleParser()
        # Inbound side: no more frames once _eof; _error makes the end unclean.
        self._eof = False
        self._error: ConnectionError | None = None
        self._frame_error: connection.FrameError | None = None
        # Outbound side.
        self._send_error: ConnectionError | None = None
        self._local_closed = False
        self._capsule_sent = False
        # The peer's close: (code, reason) once it sent the capsule or ended the CONNECT stream.
        self._peer_close: tuple[int, str] | None = None
        self._peer_done = asyncio.Event()
        self._ended = asyncio.Event()
        self._grace: asyncio.TimerHandle | None = None

    # -- public ----------------------------------------------------------------------------

    @property
    def remote_address(self) -> tuple[str, int]:
        """The peer's (host, port), as seen by this endpoint."""
        return self._owner.remote_address

    @property
    def stream_id(self) -> int | None:
        """The QUIC stream carrying the frames (``None`` until it exists)."""
        return self._stream_id

    @property
    def peer_close(self) -> tuple[int, str] | None:
        """``(code, reason)`` the peer closed the session with, if it did."""
        return self._peer_close

    @property
    def closed(self) -> bool:
        """True once this side closed the session or it ended otherwise."""
        return self._local_closed or self._ended.is_set()

    async def recv(self) -> bytes | None:
        """The next frame payload; ``None`` at a clean end; ``ConnectionError`` if it died."""
        while True:
            if self._inbound:
                payload = self._inbound.popleft()
                self._inbound_bytes -= len(payload)
                return payload
            if self._frame_error is not None:
                error, self._frame_error = self._frame_error, None
                raise error
            if self._eof:
                if self._error is not None:
                    raise self._error
                return None
            self._readable.clear()
            await self._readable.wait()

    async def send(self, payload: bytes) -> None:
        """Queue one frame for the peer; the transmit happens once per loop iteration.

        Waits while the peer leaves too much unacknowledged; raises ``ConnectionError`` when
        the session is gone and :class:`~meeting_controller.framing.FrameTooLarge` (a bug of
        the caller) for a payload above ``max_frame_size``.
        """
        data = framing.encode_frame(payload, max_size=self._limits.max_frame_size)
        stream_id = self._check_sendable()
        if self._owner.unacked_bytes(stream_id) > self._limits.send_high_water:
            await self._wait_writable()
            stream_id = self._check_sendable()
        try:
            self._owner.quic.send_stream_data(stream_id, data)
        except (ValueError, AssertionError) as exc:  # aioquic asserts on a reset stream
            self._fail_send(ConnectionError(f"cannot send on the WebTransport stream: {exc}"))
            raise self._send_error or ConnectionError(str(exc)) from None
        self._owner.schedule_transmit()

    async def close(self, *, code: int = 0, reason: str = "", linger: bool = True) -> None:
        """Close the session: FIN the data stream, send the close capsule, FIN the CONNECT
        stream. Returns at once; the packets leave with the next transmit.

        With ``linger`` (the default) the capsule follows the data stream's end after
        :data:`CLOSE_CAPSULE_DELAY`, so a browser reads the last messages first.
        """
        self.close_nowait(code=code, reason=reason, linger=linger)

    def close_nowait(self, *, code: int = 0, reason: str = "", linger: bool = False) -> None:
        """:meth:`close` for callers that are not coroutines (timers, the server's stop)."""
        if self._local_closed:
            return
        self._local_closed = True
        self._end_inbound(error=None)
        self._finish_streams(capsule=None if self._peer_close else (code, reason), linger=linger)
        self._owner.session_changed(self)

    async def wait_closed(self) -> None:
        """Wait until the session is over on both sides (or the connection died)."""
        await self._ended.wait()

    # -- called by the owning connection -----------------------------------------------------

    def adopt_stream(self, stream_id: int) -> None:
        self._stream_id = stream_id

    def stream_data_received(self, data: bytes, ended: bool) -> None:
        """Bytes of the data stream: decode frames, bound the queue, note the end."""
        if self._eof:
            return
        if data:
            try:
                frames = self._decoder.feed(data)
            except framing.FrameTooLarge as exc:
                self._frame_error = connection.FrameError(
                    signaling_pb2.ERROR_CODE_FRAME_TOO_LARGE, str(exc)
                )
                self._stop_reading()
                self._end_inbound(error=None)
                return
            for frame in frames:
                self._inbound.append(frame)
                self._inbound_bytes += len(frame)
            if self._inbound_bytes > self._limits.max_buffered_bytes:
                self._overflow()
                return
            if frames:
                self._readable.set()
        if ended:
            try:
                self._decoder.finish()
            except framing.TruncatedFrame as exc:
                self._frame_error = connection.FrameError(
                    signaling_pb2.ERROR_CODE_MALFORMED_MESSAGE, str(exc)
                )
            self._end_inbound(error=None)

    def stream_reset(self, error_code: int) -> None:
        """The peer abandoned its sending half of the data stream."""
        if self._peer_close is not None:
            self._end_inbound(error=None)
        else:
            self._end_inbound(
                error=ConnectionResetError(f"the peer reset the stream (code {error_code:#x})")
            )

    def stop_sending_received(self, error_code: int) -> None:
        """The peer will not read any more: aioquic already reset our sending half."""
        self._fail_send(
            ConnectionResetError(f"the peer stopped reading the stream (code {error_code:#x})")
        )

    def connect_data_received(self, data: bytes, ended: bool) -> None:
        """Capsules (and FIN) on the CONNECT stream: the peer's way to close the session."""
        try:
            capsules = self._capsules.feed(data)
        except ValueError as exc:
            self._connection_lost(ConnectionError(f"bad capsule from the peer: {exc}"))
            return
        for capsule_type, value in capsules:
            if capsule_type == CLOSE_WEBTRANSPORT_SESSION and self._peer_close is None:
                self._peer_close = decode_close_capsule(value)
        if ended and self._peer_close is None:
            self._peer_close = (0, "")
        if self._peer_close is not None and not self._peer_done.is_set():
            self._peer_done.set()
            self._fail_send(ConnectionError("the peer closed the session"))
            if self._stream_id is None and not self._owner.peer_opens_streams:
                self._end_inbound(error=None)  # no stream of ours: nothing left to deliver
            elif not self._eof:
                # Let the data stream deliver what the peer sent before its close.
                self._grace = self._loop.call_later(
                    self._limits.close_grace, self._end_inbound, None
                )
            self._owner.session_changed(self)

    def connection_terminated(self, event: ConnectionTerminated | None) -> None:
        """The QUIC connection is gone: whatever is not over ends here."""
        clean = self._peer_close is not None or (
            event is not None and event.error_code in _CLEAN_QUIC_CODES
        )
        reason = (
            "the connection was closed"
            if event is None
            else f"the connection was closed (error {event.error_code:#x}"
            + (f": {event.reason_phrase})" if event.reason_phrase else ")")
        )
        self._connection_lost(None if clean else ConnectionError(reason), reason=reason)

    def is_finished(self) -> bool:
        """True when both sides are done with the session."""
        return self._local_closed and (self._peer_done.is_set() or self._ended.is_set())

    def has_stream(self) -> bool:
        return self._stream_id is not None

    def check_drained(self) -> None:
        """Wake a waiting ``send()`` once the peer acknowledged enough."""
        if self._stream_id is None or (
            self._owner.unacked_bytes(self._stream_id) <= self._limits.send_high_water
        ):
            self._writable.set()

    def mark_ended(self) -> None:
        self._ended.set()

    # -- private -------------------------------------------------------------------------

    def _check_sendable(self) -> int:
        if self._send_error is not None:
            raise self._send_error
        if self._local_closed:
            raise ConnectionError("the WebTransport session is closed")
        if self._stream_id is None:
            raise ConnectionError("the WebTransport session has no stream yet")
        return self._stream_id

    async def _wait_writable(self) -> None:
        deadline = self._loop.time() + self._limits.send_stall_timeout
        stream_id = self._check_sendable()
        while self._owner.unacked_bytes(stream_id) > self._limits.send_high_water:
            self._writable.clear()
            self._owner.wait_drain(self)
            remaining = deadline - self._loop.time()
            try:
                async with asyncio.timeout(max(remaining, 0)):
                    await self._writable.wait()
            except TimeoutError:
                error = ConnectionError(
                    f"the peer has not read for {self._limits.send_stall_timeout:g} s"
                )
                self._fail_send(error)
                self.close_nowait(
                    code=signaling_pb2.ERROR_CODE_RATE_LIMITED, reason="slow consumer"
                )
                raise error from None
            finally:
                self._owner.stop_waiting_drain(self)
            stream_id = self._check_sendable()

    def _fail_send(self, error: ConnectionError) -> None:
        if self._send_error is None:
            self._send_error = error
        self._writable.set()

    def _end_inbound(self, error: ConnectionError | None) -> None:
        if self._grace is not None:
            self._grace.cancel()
            self._grace = None
        if not self._eof:
            self._eof = True
            if error is not None and self._error is None:
                self._error = error
        self._readable.set()
        if self._peer_close is not None and not self._local_closed:
            # The peer closed and everything it sent before is queued: answer with our FINs.
            self._local_closed = True
            self._finish_streams(capsule=None, linger=False)
        self._owner.session_changed(self)

    def _overflow(self) -> None:
        log.warning(
            "inbound WebTransport buffer exceeded %d bytes; closing the session",
            self._limits.max_buffered_bytes,
            extra={"event": "webtransport_overflow", "session_id": self.session_id},
        )
        self._stop_reading()
        self._end_inbound(error=ConnectionError("the application does not read fast enough"))
        self.close_nowait(code=signaling_pb2.ERROR_CODE_RATE_LIMITED, reason="too much input")

    def _stop_reading(self) -> None:
        if self._stream_id is not None:
            with contextlib.suppress(ValueError):
                self._owner.quic.stop_stream(self._stream_id, _STREAM_REJECTED)
            self._owner.schedule_transmit()

    def _finish_streams(self, *, capsule: tuple[int, str] | None, linger: bool) -> None:
        """FIN our half of the data stream now; the capsule and FIN on CONNECT shortly after.

        Browsers discard stream data the page has not read yet once the session is closed, so
        a last message sent just before closing (a RedirectToMc, an Error) would be lost if
        the close capsule travelled with it. The data stream's FIN goes at once (the peer
        sees the end of the messages); the session itself closes ``CLOSE_CAPSULE_DELAY``
        later, or at once when the peer has already closed its side.
        """
        if self._owner.terminated:
            return
        quic = self._owner.quic
        if self._stream_id is not None and self._send_error is None:
            with contextlib.suppress(ValueError, AssertionError):
                quic.send_stream_data(self._stream_id, b"", end_stream=True)
        self._fail_send(ConnectionError("the WebTransport session is closed"))
        self._owner.schedule_transmit()
        if capsule is None or not linger:
            self._send_close_capsule(capsule)
        else:
            asyncio.get_running_loop().call_later(
                CLOSE_CAPSULE_DELAY, self._send_close_capsule, capsule
            )

    def _send_close_capsule(self, capsule: tuple[int, str] | None) -> None:
        if self._owner.terminated or self._capsule_sent:
            return
        self._capsule_sent = True
        data = encode_close_capsule(*capsule) if capsule is not None else b""
        with contextlib.suppress(ValueError, AssertionError, ProtocolError):
            self._owner.h3.send_data(self.session_id, data, end_stream=True)
        self._owner.schedule_transmit()

    def _connection_lost(self, error: ConnectionError | None, *, reason: str = "") -> None:
        self._fail_send(error or ConnectionError(reason or "the connection was closed"))
        self._local_closed = True
        self._peer_done.set()
        self._end_inbound(error=error)
        self._ended.set()


class WebTransportConnection(QuicConnectionProtocol):
    """One QUIC connection speaking HTTP/3 with WebTransport; hosts its sessions.

    The server and client subclasses decide what an extended CONNECT means; this base routes
    QUIC and H3 events to sessions, coalesces transmits and closes the connection when its
    sessions are over.
    """

    #: How long a connection whose sessions all closed locally waits for the peer to close it.
    close_linger: float = 1.0
    #: Whether the peer opens the data streams (the server's view): a stream may then still be
    #: on its way when the peer's close arrives, and its frames are delivered first.
    peer_opens_streams: bool = False

    def __init__(self, quic: QuicConnection, stream_handler: None = None) -> None:
        super().__init__(quic)
        self.loop = asyncio.get_running_loop()
        self.quic = quic
        self._h3: H3Connection | None = None
        self.sessions: dict[int, WebTransportSession] = {}
        self._stream_sessions: dict[int, WebTransportSession] = {}
        self._rejected_streams: set[int] = set()
        self._transmit_scheduled = False
        self._drain_waiters: set[WebTransportSession] = set()
        self._remote_address: NetworkAddress | None = None
        self._linger: asyncio.TimerHandle | None = None
        self.terminated = False
        self.termination: ConnectionTerminated | None = None
        self.closed_event = asyncio.Event()

    @property
    def h3(self) -> H3Connection:
        if self._h3 is None:
            self._h3 = H3Connection(self.quic, enable_webtransport=True)
        return self._h3

    @property
    def remote_address(self) -> tuple[str, int]:
        address = self._remote_address
        if address is None:
            return ("", 0)
        host = str(address[0]).removeprefix("::ffff:")
        return (host, int(address[1]))

    def schedule_transmit(self) -> None:
        """Transmit once, at the end of this loop iteration, whatever was queued by then."""
        if not self._transmit_scheduled:
            self._transmit_scheduled = True
            self.loop.call_soon(self._transmit_now)

    def _transmit_now(self) -> None:
        self._transmit_scheduled = False
        if self._transport is not None and not self._transport.is_closing():
            self.transmit()

    def unacked_bytes(self, stream_id: int) -> int:
        """Bytes written to ``stream_id`` and not yet acknowledged by the peer.

        aioquic has no public accessor; its sender keeps exactly these bytes in a buffer.
        """
        stream = self.quic._streams.get(stream_id)
        return 0 if stream is None else len(stream.sender._buffer)

    def wait_drain(self, session: WebTransportSession) -> None:
        self._drain_waiters.add(session)

    def stop_waiting_drain(self, session: WebTransportSession) -> None:
        self._drain_waiters.discard(session)

    # -- asyncio / aioquic plumbing ----------------------------------------------------------

    def datagram_received(self, data: bytes | str, addr: NetworkAddress) -> None:
        if self._remote_address is None:
            self._remote_address = addr
        super().datagram_received(data, addr)
        # ACKs arrive in datagrams: that is when a blocked send() may proceed.
        for session in list(self._drain_waiters):
            session.check_drained()

    def quic_event_received(self, event: QuicEvent) -> None:
        if isinstance(event, ProtocolNegotiated):
            _ = self.h3
        elif isinstance(event, StreamReset):
            session = self._stream_sessions.get(event.stream_id)
            if session is not None:
                session.stream_reset(event.error_code)
            elif event.stream_id in self.sessions:
                self.sessions[event.stream_id].connect_data_received(b"", True)
        elif isinstance(event, StopSendingReceived):
            session = self._stream_sessions.get(event.stream_id)
            if session is not None:
                session.stop_sending_received(event.error_code)
        elif isinstance(event, ConnectionTerminated):
            self._terminate(event)
            return
        if self._h3 is not None:
            for http_event in self._h3.handle_event(event):
                self._http_event_received(http_event)
            if isinstance(event, StreamDataReceived):
                self._notice_empty_stream(event.stream_id)

    def _notice_empty_stream(self, stream_id: int) -> None:
        """Adopt a WebTransport stream whose opening carried no payload yet.

        aioquic reports a peer's bidirectional WebTransport stream only with its first payload
        byte; a browser that opens the stream and waits would stay invisible (and be closed by
        the no-stream timeout). Its H3 stream state already knows, so look there.
        """
        if (
            self._h3 is None
            or stream_id in self._stream_sessions
            or stream_id in self._rejected_streams
            or stream_id in self.sessions
        ):
            return
        stream = self._h3._stream.get(stream_id)
        if (
            stream is not None
            and stream.frame_type == FrameType.WEBTRANSPORT_STREAM
            and stream.session_id is not None
        ):
            self._stream_data_received(
                WebTransportStreamDataReceived(
                    data=b"", session_id=stream.session_id, stream_id=stream_id, stream_ended=False
                )
            )

    def _http_event_received(self, event: H3Event) -> None:
        if isinstance(event, WebTransportStreamDataReceived):
            self._stream_data_received(event)
        elif isinstance(event, DataReceived):
            session = self.sessions.get(event.stream_id)
            if session is not None:
                session.connect_data_received(event.data, event.stream_ended)
        elif isinstance(event, HeadersReceived):
            self.headers_received(event)

    def _stream_data_received(self, event: WebTransportStreamDataReceived) -> None:
        session = self._stream_sessions.get(event.stream_id)
        if session is None:
            if event.stream_id in self._rejected_streams:
                return
            candidate = self.sessions.get(event.session_id)
            if candidate is None or not self.accept_stream(candidate, event.stream_id):
                self._reject_stream(event.stream_id)
                return
            session = candidate
            self._stream_sessions[event.stream_id] = session
        session.stream_data_received(event.data, event.stream_ended)

    def _reject_stream(self, stream_id: int) -> None:
        self._rejected_streams.add(stream_id)
        with contextlib.suppress(ValueError):
            self.quic.stop_stream(stream_id, _STREAM_REJECTED)
        if not stream_is_unidirectional(stream_id):
            with contextlib.suppress(ValueError, AssertionError):
                self.quic.reset_stream(stream_id, _STREAM_REJECTED)
        self.schedule_transmit()

    def register_stream(self, session: WebTransportSession, stream_id: int) -> None:
        """A stream this side opened for ``session``."""
        session.adopt_stream(stream_id)
        self._stream_sessions[stream_id] = session

    # -- overridden by the server and the client ---------------------------------------------

    def headers_received(self, event: HeadersReceived) -> None:
        """An HTTP/3 HEADERS frame (a CONNECT request, or its response)."""

    def accept_stream(self, session: WebTransportSession, stream_id: int) -> bool:
        """Whether a stream the peer opened in ``session`` is taken; the default refuses."""
        return False

    def session_ended(self, session: WebTransportSession) -> None:
        """A session is over and was removed from :attr:`sessions`."""

    # -- lifecycle ---------------------------------------------------------------------------

    def session_changed(self, session: WebTransportSession) -> None:
        """Re-evaluate a session after a state change: forget it, close the connection."""
        self.schedule_transmit()
        if session.is_finished() and self.sessions.get(session.session_id) is session:
            del self.sessions[session.session_id]
            if session.stream_id is not None:
                self._stream_sessions.pop(session.stream_id, None)
            self._drain_waiters.discard(session)
            session.mark_ended()
            self.session_ended(session)
        if self.terminated or any(not s.closed for s in self.sessions.values()):
            return
        if not self.sessions:
            # Both sides are done: flush the FINs, then close in a later iteration.
            self.loop.call_soon(self.close_now)
        elif self._linger is None:
            self._linger = self.loop.call_later(self.close_linger, self.close_now)

    def close_now(self, error_code: int = ErrorCode.H3_NO_ERROR, reason: str = "") -> None:
        """Close the QUIC connection, after flushing what is already queued."""
        if self.terminated:
            return
        if self._transport is not None and not self._transport.is_closing():
            self.transmit()  # pending stream data first: a pending close sends nothing else
        self.quic.close(error_code=error_code, reason_phrase=reason)
        self._transmit_now()

    def _terminate(self, event: ConnectionTerminated | None) -> None:
        if self.terminated:
            return
        self.terminated = True
        self.termination = event
        if self._linger is not None:
            self._linger.cancel()
        for session in list(self.sessions.values()):
            session.connection_terminated(event)  # finishes it: session_changed forgets it
        self._stream_sessions.clear()
        self._drain_waiters.clear()
        self.closed_event.set()


# -- the server ----------------------------------------------------------------------------

SessionHandler = Callable[[WebTransportSession], Awaitable[None]]


class _ServerConnection(WebTransportConnection):
    """A client's QUIC connection to the server: accepts or refuses its CONNECTs."""

    peer_opens_streams = True

    def __init__(
        self,
        quic: QuicConnection,
        stream_handler: None = None,
        *,
        server: WebTransportServer,
    ) -> None:
        super().__init__(quic)
        self._server = server
        self._ever_accepted = False
        self._handshake_timer = self.loop.call_later(
            server.handshake_timeout, self._handshake_expired
        )
        self._stream_timers: dict[int, asyncio.TimerHandle] = {}
        server._connections.add(self)

    def headers_received(self, event: HeadersReceived) -> None:
        if event.stream_id in self.sessions or stream_is_unidirectional(event.stream_id):
            return  # trailers or nonsense on an established session: nothing to do
        headers = dict(event.headers)
        method, protocol = headers.get(b":method"), headers.get(b":protocol")
        raw_path = headers.get(b":path", b"").decode("utf-8", errors="replace")
        if method != b"CONNECT" or protocol != b"webtransport":
            self._respond(event.stream_id, 400 if method == b"CONNECT" else 405)
        elif raw_path.split("?", 1)[0] != self._server.path:
            self._respond(event.stream_id, 404)
        elif not self._server._admit():
            self._respond(event.stream_id, 503)
        elif event.stream_ended:
            self._respond(event.stream_id, 400)
            self._server._release()
        else:
            self._accept(event.stream_id, raw_path)

    def _respond(self, stream_id: int, status: int) -> None:
        with contextlib.suppress(ProtocolError, ValueError):
            self.h3.send_headers(stream_id, [(b":status", str(status).encode())], end_stream=True)
        self.schedule_transmit()

    def _accept(self, stream_id: int, path: str) -> None:
        self._ever_accepted = True
        self._handshake_timer.cancel()
        self.h3.send_headers(
            stream_id,
            [(b":status", b"200"), (b"sec-webtransport-http3-draft", b"draft02")],
        )
        session = WebTransportSession(
            owner=self, session_id=stream_id, limits=self._server.limits, path=path
        )
        self.sessions[stream_id] = session
        self._stream_timers[stream_id] = self.loop.call_later(
            self._server.handshake_timeout, self._stream_expired, session
        )
        self.schedule_transmit()

    def accept_stream(self, session: WebTransportSession, stream_id: int) -> bool:
        # One client-opened bidirectional stream per session, while the session is open.
        if (
            session.has_stream()
            or session.closed
            or stream_is_unidirectional(stream_id)
            or stream_id % 4 != 0  # client-initiated bidirectional only
        ):
            return False
        session.adopt_stream(stream_id)
        timer = self._stream_timers.pop(session.session_id, None)
        if timer is not None:
            timer.cancel()
        self._server._start(session)
        return True

    def session_ended(self, session: WebTransportSession) -> None:
        timer = self._stream_timers.pop(session.session_id, None)
        if timer is not None:
            timer.cancel()
        self._server._release()

    def _stream_expired(self, session: WebTransportSession) -> None:
        self._stream_timers.pop(session.session_id, None)
        if not session.has_stream() and not session.closed:
            log.info(
                "WebTransport session opened no stream within %g s; closing it",
                self._server.handshake_timeout,
                extra={"event": "webtransport_no_stream"},
            )
            session.close_nowait(code=0, reason="no stream opened in time")

    def _handshake_expired(self) -> None:
        if not self._ever_accepted and not self.terminated:
            log.info(
                "QUIC connection sent no WebTransport CONNECT within %g s; closing it",
                self._server.handshake_timeout,
                extra={"event": "webtransport_handshake_timeout"},
            )
            self.close_now(ErrorCode.H3_REQUEST_REJECTED, "no WebTransport session in time")

    def _terminate(self, event: ConnectionTerminated | None) -> None:
        self._handshake_timer.cancel()
        for timer in self._stream_timers.values():
            timer.cancel()
        self._stream_timers.clear()
        super()._terminate(event)
        self._server._connections.discard(self)


class WebTransportServer:
    """The MC's WebTransport endpoint: one ``on_session`` call per participant stream.

    ``on_session`` runs as its own task; when it returns (or fails) the session is closed. It
    is called once the client opened its bidirectional stream, so ``send()`` works at once.
    """

    def __init__(
        self,
        *,
        host: str,
        port: int,
        certificate_file: str,
        private_key_file: str,
        on_session: SessionHandler,
        path: str = "/signaling",
        max_frame_size: int | None = None,
        max_sessions: int = 10_000,
        handshake_timeout: float = 10.0,
        idle_timeout: float = 60.0,
        socket_buffer_bytes: int = DEFAULT_SOCKET_BUFFER_BYTES,
        limits: SessionLimits | None = None,
    ) -> None:
        if not path.startswith("/"):
            raise ValueError(f"path must start with '/', got {path!r}")
        self.host = host
        self._requested_port = port
        self.path = path
        self.max_sessions = max_sessions
        #: Seconds a connection has to send its CONNECT, and a session to open its stream.
        self.handshake_timeout = handshake_timeout
        self.limits = resolve_limits(limits, max_frame_size)
        self._on_session = on_session
        self._socket_buffer_bytes = socket_buffer_bytes
        self._configuration = QuicConfiguration(
            alpn_protocols=H3_ALPN,
            is_client=False,
            max_datagram_frame_size=65536,
            idle_timeout=idle_timeout,
        )
        self._configuration.load_cert_chain(certificate_file, private_key_file)
        self._quic_server: QuicServer | None = None
        self._connections: set[_ServerConnection] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._admitted = 0
        self._stopping = False
        self._port = 0

    @property
    def port(self) -> int:
        """The bound UDP port (useful with ``port=0``)."""
        return self._port

    @property
    def session_count(self) -> int:
        """Sessions accepted and not yet over."""
        return self._admitted

    async def start(self) -> None:
        """Bind the UDP socket and start accepting sessions."""
        loop = asyncio.get_running_loop()
        sock = _bind_udp(self.host, self._requested_port, self._socket_buffer_bytes)
        try:
            _, protocol = await loop.create_datagram_endpoint(
                lambda: QuicServer(
                    configuration=self._configuration,
                    create_protocol=functools.partial(_ServerConnection, server=self),
                ),
                sock=sock,
            )
        except BaseException:
            sock.close()
            raise
        self._quic_server = protocol
        self._port = sock.getsockname()[1]
        log.info(
            "WebTransport listening on %s:%d%s",
            self.host,
            self._port,
            self.path,
            extra={"event": "webtransport_listening"},
        )

    async def stop(self, *, timeout: float = 2.0, reason: str = "server stopping") -> None:
        """Close every session, wait (at most ``timeout``) for handlers, close the socket."""
        self._stopping = True
        for conn in list(self._connections):
            for session in list(conn.sessions.values()):
                session.close_nowait(code=0, reason=reason)
        if self._tasks:
            _, pending = await asyncio.wait(set(self._tasks), timeout=timeout)
            for task in pending:
                task.cancel()
            if pending:
                await asyncio.wait(pending, timeout=timeout)
        for conn in list(self._connections):
            conn.close_now(ErrorCode.H3_NO_ERROR, reason)
            conn._terminate(None)  # settle every session now, not when aioquic's timer fires
        if self._quic_server is not None:
            self._quic_server.close()
            self._quic_server = None
        self._connections.clear()

    async def __aenter__(self) -> WebTransportServer:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    # -- used by the connections -------------------------------------------------------------

    def _admit(self) -> bool:
        if self._stopping or self._admitted >= self.max_sessions:
            return False
        self._admitted += 1
        return True

    def _release(self) -> None:
        self._admitted -= 1

    def _start(self, session: WebTransportSession) -> None:
        task = asyncio.create_task(self._run(session), name=f"webtransport:{session.session_id}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _run(self, session: WebTransportSession) -> None:
        try:
            await self._on_session(session)
        except Exception:
            log.exception(
                "WebTransport session handler failed", extra={"event": "webtransport_handler"}
            )
        finally:
            session.close_nowait(code=0, reason="")


def _bind_udp(host: str, port: int, buffer_bytes: int) -> socket.socket:
    """A bound UDP socket with large kernel buffers (fan-out bursts overflow the default)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_DGRAM)
    try:
        if family == socket.AF_INET6:
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        for option in (socket.SO_RCVBUF, socket.SO_SNDBUF):
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.SOL_SOCKET, option, buffer_bytes)
        sock.bind((host, port))
        sock.setblocking(False)
    except BaseException:
        sock.close()
        raise
    received = sock.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF)
    if received < buffer_bytes:  # Linux reports twice the request; less means it was capped
        log.warning(
            "UDP receive buffer capped at %d bytes (asked %d): raise net.core.rmem_max",
            received,
            buffer_bytes,
            extra={"event": "webtransport_socket_buffer"},
        )
    return sock
