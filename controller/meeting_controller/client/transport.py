"""The client end of the signaling transport: one WebTransport session, one stream.

It does what a browser does - QUIC + HTTP/3, an extended CONNECT (``:protocol webtransport``)
to the URL's path, then one bidirectional stream - so the SDK, the demo, the benchmarks and the
tests exercise the MC exactly as browsers do. ``send``/``recv``/``close`` have the semantics
of the server's :class:`~meeting_controller.adapters.webtransport.WebTransportSession` (the
same class carries the session on both ends).

Certificate trust, like a browser's:

* ``cafile``: a PEM file of trusted certificates (for a self-signed MC, the certificate
  itself); the usual chain and name checks apply;
* ``certificate_hash``: the SHA-256 of the server's DER certificate, like
  ``serverCertificateHashes``; the chain is not checked, the hash must match, and it is
  checked after the TLS handshake and before any HTTP/3 byte is sent;
* neither: the system's trusted CAs.

aioquic quirk handled here: the side that *opens* a bidirectional WebTransport stream is not
told by aioquic that the stream is a WebTransport stream, so the peer's bytes on it would be
parsed as HTTP/3 frames and the connection would die (H3_FRAME_ERROR). The stream is marked
by hand right after it is created (:func:`_mark_webtransport_stream`).
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import ssl
from collections.abc import Coroutine, Generator
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit

from aioquic.h3.connection import H3_ALPN, FrameType, Setting
from aioquic.h3.events import HeadersReceived
from aioquic.quic.configuration import QuicConfiguration
from aioquic.quic.connection import QuicConnection
from aioquic.quic.events import ConnectionTerminated, HandshakeCompleted, QuicEvent
from cryptography.hazmat.primitives import serialization

from meeting_controller.adapters import webtransport
from meeting_controller.adapters.webtransport import SessionLimits, WebTransportSession
from meeting_controller.tls import certificate_sha256

DEFAULT_TIMEOUT = 10.0
#: How long ``close()`` waits for the server to acknowledge the close before dropping QUIC.
CLOSE_TIMEOUT = 1.0


class WebTransportRefused(ConnectionRefusedError):
    """The server could not be reached as a WebTransport endpoint."""


class HandshakeFailed(WebTransportRefused):
    """The QUIC/TLS handshake failed (for example, the certificate is not trusted)."""


class CertificateMismatch(HandshakeFailed):
    """The server's certificate does not have the pinned SHA-256 hash."""


class SessionRefused(WebTransportRefused):
    """The server answered the extended CONNECT with a status other than 200."""

    def __init__(self, status: int, url: str) -> None:
        super().__init__(f"the server refused the WebTransport session to {url}: HTTP {status}")
        self.status = status


class _ClientConnection(webtransport.WebTransportConnection):
    """The client's QUIC connection: settings, the CONNECT's response, the handshake."""

    def __init__(self, quic: QuicConnection) -> None:
        super().__init__(quic)
        self.settings_received = self.loop.create_future()
        self.handshake_done = self.loop.create_future()
        self.responses: dict[int, asyncio.Future[int]] = {}
        _ = self.h3  # a client may speak HTTP/3 from the first flight

    def quic_event_received(self, event: QuicEvent) -> None:
        if isinstance(event, HandshakeCompleted) and not self.handshake_done.done():
            self.handshake_done.set_result(None)
        super().quic_event_received(event)
        if not self.settings_received.done() and self.h3.received_settings is not None:
            self.settings_received.set_result(self.h3.received_settings)
        if isinstance(event, ConnectionTerminated):
            error = ConnectionError(
                f"the connection was closed (error {event.error_code:#x}"
                + (f": {event.reason_phrase})" if event.reason_phrase else ")")
            )
            waiters: list[asyncio.Future[Any]] = [
                self.handshake_done,
                self.settings_received,
                *self.responses.values(),
            ]
            for waiter in waiters:
                if not waiter.done():
                    waiter.set_exception(error)
                    waiter.exception()  # nobody may be waiting: do not log it as unretrieved

    def headers_received(self, event: HeadersReceived) -> None:
        future = self.responses.get(event.stream_id)
        if future is None or future.done():
            return
        status = dict(event.headers).get(b":status", b"0")
        if status.startswith(b"1"):
            return  # an interim response; the final one follows
        future.set_result(int(status) if status.isdigit() else 0)

    def terminate(self) -> None:
        self._terminate(None)


class ClientTransport:
    """One participant's signaling transport to an MC (see the module docstring).

    Use ``async with await connect(...)`` or ``async with connect(...)``; ``close()`` is
    idempotent and also ends the QUIC connection and releases the UDP socket.
    """

    def __init__(
        self,
        *,
        connection: _ClientConnection,
        transport: asyncio.DatagramTransport,
        session: WebTransportSession,
    ) -> None:
        self._connection = connection
        self._transport = transport
        self._session = session
        self._closed = False

    @property
    def session(self) -> WebTransportSession:
        """The underlying session (``peer_close`` tells how the server closed it)."""
        return self._session

    @property
    def remote_address(self) -> tuple[str, int]:
        return self._session.remote_address

    @property
    def session_id(self) -> int:
        return self._session.session_id

    async def recv(self) -> bytes | None:
        """The next frame; ``None`` when the server closed cleanly; ``ConnectionError``."""
        return await self._session.recv()

    async def send(self, payload: bytes) -> None:
        """Send one frame; ``ConnectionError`` once the session is gone."""
        await self._session.send(payload)

    async def close(self, *, code: int = 0, reason: str = "") -> None:
        """Close the session, give the server a moment to acknowledge, close QUIC."""
        if self._closed:
            return
        self._closed = True
        self._session.close_nowait(code=code, reason=reason)
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(CLOSE_TIMEOUT):
                await self._session.wait_closed()
        await _shutdown(self._connection, self._transport)

    async def __aenter__(self) -> ClientTransport:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()


def connect(
    url: str,
    *,
    cafile: str | None = None,
    certificate_hash: bytes | None = None,
    max_frame_size: int | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    limits: SessionLimits | None = None,
) -> Connect:
    """Open a WebTransport session to ``url`` (``https://host:port/path``) and its stream.

    Await the result for a :class:`ClientTransport`, or use it directly with ``async with``.
    ``max_frame_size`` defaults to the framing default (64 KiB) and must match the server's;
    ``limits`` tunes the other per-session bounds.
    Raises :class:`SessionRefused` (with ``status``) for a non-200 answer,
    :class:`CertificateMismatch` when ``certificate_hash`` does not match,
    :class:`HandshakeFailed` when TLS fails, ``TimeoutError`` after ``timeout`` seconds and
    ``ConnectionError`` when the connection dies on the way.
    """
    return Connect(
        _connect(
            url,
            cafile=cafile,
            certificate_hash=certificate_hash,
            limits=webtransport.resolve_limits(limits, max_frame_size),
            timeout=timeout,
            open_stream=True,
        )
    )


class Connect:
    """The pending connection returned by :func:`connect`: await it or ``async with`` it."""

    def __init__(self, pending: Coroutine[Any, Any, ClientTransport]) -> None:
        self._pending = pending
        self._transport: ClientTransport | None = None

    def __await__(self) -> Generator[Any, None, ClientTransport]:
        return self._pending.__await__()

    async def __aenter__(self) -> ClientTransport:
        self._transport = await self._pending
        return self._transport

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._transport is not None:
            await self._transport.close()


async def _connect(
    url: str,
    *,
    cafile: str | None,
    certificate_hash: bytes | None,
    limits: SessionLimits,
    timeout: float,
    open_stream: bool,
) -> ClientTransport:
    """:func:`connect`; ``open_stream=False`` stops after the CONNECT (tests of timeouts)."""
    parts = urlsplit(url)
    if parts.scheme != "https" or not parts.hostname:
        raise ValueError(f"a WebTransport URL looks like https://host:port/path, got {url!r}")
    host, port = parts.hostname, parts.port or 443
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    authority = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"

    configuration = QuicConfiguration(
        alpn_protocols=H3_ALPN,
        is_client=True,
        max_datagram_frame_size=65536,
        server_name=host,
    )
    if certificate_hash is not None:
        if len(certificate_hash) != 32:
            raise ValueError("certificate_hash must be the 32-byte SHA-256 of the certificate")
        configuration.verify_mode = ssl.CERT_NONE  # replaced by the hash check below
    elif cafile is not None:
        configuration.load_verify_locations(cafile=cafile)

    loop = asyncio.get_running_loop()
    connection: _ClientConnection | None = None
    transport: asyncio.DatagramTransport | None = None
    try:
        async with asyncio.timeout(timeout):
            infos = await loop.getaddrinfo(host, port, type=socket.SOCK_DGRAM)
            family, address = infos[0][0], infos[0][4]
            quic = QuicConnection(configuration=configuration)
            transport, protocol = await loop.create_datagram_endpoint(
                lambda: _ClientConnection(quic),
                local_addr=("::", 0) if family == socket.AF_INET6 else ("0.0.0.0", 0),
            )
            connection = protocol
            _raise_socket_buffers(transport)
            connection.connect(address)
            await _handshake(connection, certificate_hash)
            settings = await connection.settings_received
            if settings.get(Setting.ENABLE_WEBTRANSPORT) != 1:
                raise WebTransportRefused(f"{url} does not speak WebTransport")
            session = await _open_session(connection, authority, path, url, limits)
            if open_stream:
                stream_id = connection.h3.create_webtransport_stream(session.session_id)
                _mark_webtransport_stream(connection, stream_id, session.session_id)
                connection.register_stream(session, stream_id)
                connection.schedule_transmit()
    except BaseException:
        if connection is not None and transport is not None:
            await _shutdown(connection, transport)
        elif transport is not None:
            transport.close()
        raise
    return ClientTransport(connection=connection, transport=transport, session=session)


#: Client UDP buffers: bursts of server messages (a busy meeting, a replay after a resume)
#: overflow the kernel's default and the lost packets cost QUIC loss recovery.
CLIENT_SOCKET_BUFFER_BYTES = 1024 * 1024


def _raise_socket_buffers(transport: asyncio.DatagramTransport) -> None:
    sock = transport.get_extra_info("socket")
    if sock is None:
        return
    for option in (socket.SO_RCVBUF, socket.SO_SNDBUF):
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, option, CLIENT_SOCKET_BUFFER_BYTES)


async def _handshake(connection: _ClientConnection, certificate_hash: bytes | None) -> None:
    try:
        await connection.handshake_done
    except ConnectionError:
        event = connection.termination
        if event is not None and 0x100 <= event.error_code < 0x200:  # a TLS alert
            raise HandshakeFailed(
                f"the TLS handshake failed: {event.reason_phrase or hex(event.error_code)}"
            ) from None
        raise
    if certificate_hash is not None:
        certificate = connection.quic.tls._peer_certificate
        der = b"" if certificate is None else certificate.public_bytes(serialization.Encoding.DER)
        if certificate_sha256(der) != certificate_hash:
            raise CertificateMismatch(
                f"the server certificate's SHA-256 is {certificate_sha256(der).hex()}, "
                f"not the pinned {certificate_hash.hex()}"
            )


async def _open_session(
    connection: _ClientConnection, authority: str, path: str, url: str, limits: SessionLimits
) -> WebTransportSession:
    """Send the extended CONNECT and wait for its answer."""
    stream_id = connection.quic.get_next_available_stream_id()
    response: asyncio.Future[int] = connection.loop.create_future()
    connection.responses[stream_id] = response
    session = WebTransportSession(owner=connection, session_id=stream_id, limits=limits, path=path)
    connection.sessions[stream_id] = session
    connection.h3.send_headers(
        stream_id,
        [
            (b":method", b"CONNECT"),
            (b":scheme", b"https"),
            (b":authority", authority.encode()),
            (b":path", path.encode()),
            (b":protocol", b"webtransport"),
            (b"sec-webtransport-http3-draft02", b"1"),
        ],
    )
    connection.schedule_transmit()
    status = await response
    if status != 200:
        connection.sessions.pop(stream_id, None)
        raise SessionRefused(status, url)
    return session


def _mark_webtransport_stream(
    connection: _ClientConnection, stream_id: int, session_id: int
) -> None:
    """Work around aioquic: tell its H3 layer that our new stream is a WebTransport stream.

    ``create_webtransport_stream`` writes the stream's WEBTRANSPORT_STREAM signal but leaves
    the stream's receive state blank, so the server's replies would be parsed as HTTP/3
    frames (H3_FRAME_ERROR 0x106). Marking it routes them as WebTransport data instead.
    """
    with connection.h3._get_or_create_stream(stream_id) as stream:
        stream.frame_type = FrameType.WEBTRANSPORT_STREAM
        stream.session_id = session_id


async def _shutdown(connection: _ClientConnection, transport: asyncio.DatagramTransport) -> None:
    """Send CONNECTION_CLOSE (after what is queued) and release the socket at once.

    QUIC's closing period (three PTOs of answering stray packets) buys nothing for an
    endpoint that is going away; a lost CONNECTION_CLOSE costs the server its short linger.
    """
    connection.close_now()
    connection.terminate()
    transport.close()
