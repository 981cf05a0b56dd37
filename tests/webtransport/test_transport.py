"""The WebTransport transport, server and client, over real QUIC on 127.0.0.1.

Every test runs a real aioquic server on a free UDP port and talks to it with the project's
client (which speaks the protocol as a browser does). Waits are bounded; nothing sleeps.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable
from typing import Any, TypeVar

import pytest

from meeting_controller import framing, tls
from meeting_controller.actors import connection
from meeting_controller.adapters.webtransport import SessionLimits, WebTransportSession
from meeting_controller.client import transport as client_transport
from meeting_controller.client.transport import ClientTransport, connect
from meeting_controller.protocol import signaling_pb2
from tests.support.waiting import eventually
from tests.webtransport.support import running_server, url_of

T = TypeVar("T")
WAIT = 5.0  # generous bound for anything that should take milliseconds


async def within(awaitable: Awaitable[T], seconds: float = WAIT) -> T:
    async with asyncio.timeout(seconds):
        return await awaitable


def _raw(client: ClientTransport, data: bytes) -> None:
    """Write raw bytes on the client's data stream (to split frames as the network may)."""
    owner = client._connection
    stream_id = client.session.stream_id
    assert stream_id is not None
    owner.quic.send_stream_data(stream_id, data)
    owner.transmit()


class TestRoundTrips:
    async def test_frames_travel_both_ways(self, certificate: tls.CertificateInfo) -> None:
        async with (
            running_server(certificate) as server,
            connect(url_of(server), certificate_hash=certificate.sha256) as client,
        ):
            for payload in (b"hello", b"", b"\x00" * 10):
                await client.send(payload)
                assert await within(client.recv()) == payload

    async def test_many_frames_and_a_60_kib_frame_arrive_intact_and_in_order(
        self, certificate: tls.CertificateInfo
    ) -> None:
        payloads = [os.urandom(n % 700) for n in range(300)] + [os.urandom(60 * 1024)]
        async with (
            running_server(certificate) as server,
            connect(url_of(server), cafile=str(certificate.cert_file)) as client,
        ):
            for payload in payloads:
                await client.send(payload)
            received = [await within(client.recv()) for _ in payloads]
        assert received == payloads

    async def test_frames_split_and_coalesced_on_the_wire_are_reassembled(
        self, certificate: tls.CertificateInfo
    ) -> None:
        frames = [b"one", b"two" * 100, b"three"]
        wire = b"".join(framing.encode_frame(frame) for frame in frames)
        async with (
            running_server(certificate) as server,
            connect(url_of(server), certificate_hash=certificate.sha256) as client,
        ):
            _raw(client, wire)  # three frames in one write
            assert [await within(client.recv()) for _ in frames] == frames
            for index in range(len(wire)):  # one frame byte by byte, one packet each
                _raw(client, wire[index : index + 1])
            assert [await within(client.recv()) for _ in frames] == frames

    async def test_twenty_concurrent_sessions_are_kept_apart(
        self, certificate: tls.CertificateInfo
    ) -> None:
        seen: set[tuple[str, int]] = set()

        async def recording_echo(session: WebTransportSession) -> None:
            seen.add(session.remote_address)
            while (payload := await session.recv()) is not None:
                await session.send(payload)

        async def one(server_url: str, index: int) -> bytes | None:
            async with connect(server_url, certificate_hash=certificate.sha256) as client:
                await client.send(f"participant {index}".encode())
                return await client.recv()

        async with running_server(certificate, recording_echo) as server:
            answers = await within(
                asyncio.gather(*(one(url_of(server), index) for index in range(20)))
            )
        assert answers == [f"participant {index}".encode() for index in range(20)]
        assert len(seen) == 20
        assert all(host == "127.0.0.1" for host, _ in seen)


class TestFlow:
    async def test_frames_sent_in_one_loop_iteration_share_packets(
        self, certificate: tls.CertificateInfo
    ) -> None:
        sent_datagrams: list[int] = []
        burst_sent = asyncio.Event()

        async def burst(session: WebTransportSession) -> None:
            await session.recv()
            quic_server = server._quic_server
            assert quic_server is not None
            udp = quic_server._transport
            assert udp is not None
            original = udp.sendto

            def counting(data: bytes, addr: Any = None) -> None:
                sent_datagrams.append(len(data))
                original(data, addr)

            udp.sendto = counting  # type: ignore[method-assign,assignment]
            try:
                for index in range(50):
                    await session.send(b"event %d" % index)
                await asyncio.sleep(0)  # the one scheduled transmit runs here
            finally:
                udp.sendto = original  # type: ignore[method-assign]
                burst_sent.set()
            await session.recv()

        async with (
            running_server(certificate, burst) as server,
            connect(url_of(server), certificate_hash=certificate.sha256) as client,
        ):
            await client.send(b"go")
            received = [await within(client.recv()) for _ in range(50)]
            await within(burst_sent.wait())
        assert received == [b"event %d" % index for index in range(50)]
        assert 1 <= len(sent_datagrams) <= 3  # 50 small frames, one or two packets

    async def test_a_peer_that_floods_an_application_that_does_not_read_is_closed(
        self, certificate: tls.CertificateInfo
    ) -> None:
        never = asyncio.Event()

        async def not_reading(session: WebTransportSession) -> None:
            await never.wait()

        limits = SessionLimits(max_frame_size=1024, max_buffered_bytes=16 * 1024)
        async with (
            running_server(certificate, not_reading, limits=limits) as server,
            connect(url_of(server), certificate_hash=certificate.sha256) as client,
        ):
            for _ in range(40):
                await client.send(b"x" * 1000)
            assert await within(client.recv()) is None
            assert client.session.peer_close == (
                signaling_pb2.ERROR_CODE_RATE_LIMITED,
                "too much input",
            )
            never.set()

    async def test_send_waits_for_acknowledgements_above_the_high_water_mark(
        self, certificate: tls.CertificateInfo
    ) -> None:
        async def chatty(session: WebTransportSession) -> None:
            await session.recv()
            for index in range(20):
                await session.send(b"%d" % index * 500)  # each waits for the previous ACK
            await session.recv()

        limits = SessionLimits(send_high_water=1)
        async with (
            running_server(certificate, chatty, limits=limits) as server,
            connect(url_of(server), certificate_hash=certificate.sha256) as client,
        ):
            await client.send(b"go")
            received = [await within(client.recv()) for _ in range(20)]
        assert received == [b"%d" % index * 500 for index in range(20)]

    async def test_a_peer_that_stops_acknowledging_fails_send_after_the_stall_timeout(
        self, certificate: tls.CertificateInfo
    ) -> None:
        outcome: asyncio.Future[BaseException | None] = asyncio.get_running_loop().create_future()

        async def chatty(session: WebTransportSession) -> None:
            await session.recv()
            try:
                for _ in range(100):
                    await session.send(b"x" * 1000)
            except ConnectionError as error:
                outcome.set_result(error)
            else:
                outcome.set_result(None)

        limits = SessionLimits(send_high_water=4000, send_stall_timeout=0.3)
        async with (
            running_server(certificate, chatty, limits=limits) as server,
            connect(url_of(server), certificate_hash=certificate.sha256) as client,
        ):
            await client.send(b"go")
            await within(client.recv())
            client._connection.datagram_received = lambda data, addr: None  # type: ignore[method-assign]
            error = await within(outcome)
            del client._connection.datagram_received  # hear the server again, to close fast
        assert isinstance(error, ConnectionError)
        assert "has not read" in str(error)


class TestFraming:
    async def test_an_oversize_frame_is_reported_once_and_other_sessions_go_on(
        self, certificate: tls.CertificateInfo
    ) -> None:
        outcomes: asyncio.Queue[object] = asyncio.Queue()

        async def strict(session: WebTransportSession) -> None:
            while True:
                try:
                    payload = await session.recv()
                except connection.FrameError as error:
                    await outcomes.put(error)
                    continue
                await outcomes.put(payload)
                if payload is None:
                    return
                await session.send(payload)

        async with running_server(certificate, strict, max_frame_size=1024) as server:
            async with connect(url_of(server), certificate_hash=certificate.sha256) as bad:
                _raw(bad, framing.HEADER.pack(1025) + b"x" * 100)
                error = await within(outcomes.get())
                assert isinstance(error, connection.FrameError)
                assert error.code == signaling_pb2.ERROR_CODE_FRAME_TOO_LARGE
                assert await within(outcomes.get()) is None  # the stream is unusable now

            async with connect(url_of(server), certificate_hash=certificate.sha256) as good:
                await good.send(b"still serving")
                assert await within(good.recv()) == b"still serving"

    async def test_the_client_refuses_to_send_an_oversize_frame(
        self, certificate: tls.CertificateInfo
    ) -> None:
        async with (
            running_server(certificate) as server,
            connect(url_of(server), certificate_hash=certificate.sha256, max_frame_size=10) as c,
        ):
            with pytest.raises(framing.FrameTooLarge):
                await c.send(b"x" * 11)


class TestClosing:
    async def test_a_client_close_reads_as_a_clean_end_on_the_server(
        self, certificate: tls.CertificateInfo
    ) -> None:
        ends: asyncio.Queue[bytes | None] = asyncio.Queue()

        async def reader(session: WebTransportSession) -> None:
            while True:
                payload = await session.recv()
                await ends.put(payload)
                if payload is None:
                    return

        async with running_server(certificate, reader) as server:
            client = await connect(url_of(server), certificate_hash=certificate.sha256)
            await client.send(b"last words")
            await within(client.close(code=7, reason="bye"), 2.0)
            assert await within(ends.get()) == b"last words"
            assert await within(ends.get(), 2.0) is None
            await eventually(lambda: server.session_count == 0, what="the session to end")

    async def test_a_server_close_ends_the_client_session_after_its_last_frames(
        self, certificate: tls.CertificateInfo
    ) -> None:
        async def redirecting(session: WebTransportSession) -> None:
            assert await session.recv() == b"join"
            await session.send(b"redirect to mc-2")
            await session.close(code=signaling_pb2.ERROR_CODE_MC_DRAINING, reason="draining")

        async with (
            running_server(certificate, redirecting) as server,
            connect(url_of(server), certificate_hash=certificate.sha256) as client,
        ):
            await client.send(b"join")
            assert await within(client.recv()) == b"redirect to mc-2"
            assert await within(client.recv(), 1.0) is None
            # the close capsule follows the data stream's end (browsers need the gap)
            await within(client.session.wait_closed(), 2.0)
            assert client.session.peer_close == (
                signaling_pb2.ERROR_CODE_MC_DRAINING,
                "draining",
            )
            with pytest.raises(ConnectionError):
                await client.send(b"too late")

    async def test_stop_closes_every_session(self, certificate: tls.CertificateInfo) -> None:
        handler_started, handler_ended = asyncio.Event(), asyncio.Event()

        async def waiting(session: WebTransportSession) -> None:
            handler_started.set()
            try:
                assert await session.recv() is None
            finally:
                handler_ended.set()

        async with running_server(certificate, waiting) as server:
            client = await connect(url_of(server), certificate_hash=certificate.sha256)
            await within(handler_started.wait())
            await within(server.stop(timeout=1.0), 2.0)
            assert handler_ended.is_set()
            assert await within(client.recv(), 2.0) is None
            assert client.session.peer_close == (0, "server stopping")
            await client.close()

    async def test_a_session_that_opens_no_stream_is_closed_after_the_timeout(
        self, certificate: tls.CertificateInfo
    ) -> None:
        called = False

        async def handler(session: WebTransportSession) -> None:
            nonlocal called
            called = True

        async with running_server(certificate, handler, handshake_timeout=0.3) as server:
            client = await client_transport._connect(
                url_of(server),
                cafile=None,
                certificate_hash=certificate.sha256,
                limits=SessionLimits(),
                timeout=WAIT,
                open_stream=False,
            )
            started = asyncio.get_running_loop().time()
            await within(client.session.wait_closed(), 3.0)
            elapsed = asyncio.get_running_loop().time() - started
            assert client.session.peer_close == (0, "no stream opened in time")
            assert 0.2 < elapsed < 2.0
            assert not called
            await client.close()


class TestRefusals:
    async def test_a_wrong_path_is_answered_404(self, certificate: tls.CertificateInfo) -> None:
        async with running_server(certificate) as server:
            with pytest.raises(client_transport.SessionRefused) as refused:
                await within(connect(url_of(server, "/other"), certificate_hash=certificate.sha256))
        assert refused.value.status == 404

    async def test_sessions_beyond_the_limit_are_answered_503(
        self, certificate: tls.CertificateInfo
    ) -> None:
        async with (
            running_server(certificate, max_sessions=1) as server,
            connect(url_of(server), certificate_hash=certificate.sha256) as first,
        ):
            with pytest.raises(client_transport.SessionRefused) as refused:
                await within(connect(url_of(server), certificate_hash=certificate.sha256))
            assert refused.value.status == 503
            await first.send(b"first still works")
            assert await within(first.recv()) == b"first still works"

    async def test_a_pinned_hash_that_does_not_match_is_refused(
        self, certificate: tls.CertificateInfo
    ) -> None:
        async with running_server(certificate) as server:
            with pytest.raises(client_transport.CertificateMismatch):
                await within(connect(url_of(server), certificate_hash=bytes(32)))
            assert server.session_count == 0

    async def test_an_untrusted_certificate_is_refused(
        self, certificate: tls.CertificateInfo
    ) -> None:
        async with running_server(certificate) as server:
            with pytest.raises(client_transport.HandshakeFailed):
                await within(connect(url_of(server)))  # the system CAs do not know it


def _both_ends_are_transports(
    session: WebTransportSession, client: ClientTransport
) -> list[connection.Transport]:
    """Checked by mypy: both ends satisfy the actor core's ``Transport`` protocol."""
    return [session, client]
