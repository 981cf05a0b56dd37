"""An in-memory transport for the actor-core tests.

The actor core talks to clients through the small ``Transport`` protocol; in production that is
WebTransport (tested over real QUIC elsewhere). Here two asyncio queues stand in for the wire,
the way aioquic's own tests move bytes between in-memory endpoints, so the supervision and
shutdown logic can be tested exhaustively under a fake clock. The knobs model the misbehaving
peers the deadlines exist for.
"""

from __future__ import annotations

import asyncio

from meeting_controller.protocol import signaling_pb2


class MemoryTransport:
    """One client connection: the test plays the client through ``to_server``/``received``."""

    def __init__(
        self,
        *,
        hang_on_close: bool = False,
        hang_on_send: bool = False,
        fail_on_send: BaseException | None = None,
    ) -> None:
        self.to_server: asyncio.Queue[bytes | None] = asyncio.Queue()
        self.sent: asyncio.Queue[signaling_pb2.ServerMessage] = asyncio.Queue()
        self.hang_on_close = hang_on_close
        self.hang_on_send = hang_on_send
        self.fail_on_send = fail_on_send
        self.closed: tuple[int, str] | None = None

    # -- the server's side (the Transport protocol) ---------------------------------------------

    async def recv(self) -> bytes | None:
        return await self.to_server.get()

    async def send(self, payload: bytes) -> None:
        if self.fail_on_send is not None:
            raise self.fail_on_send
        if self.hang_on_send:
            await asyncio.Event().wait()
        message = signaling_pb2.ServerMessage()
        message.ParseFromString(payload)
        await self.sent.put(message)

    async def close(self, *, code: int, reason: str) -> None:
        if self.hang_on_close:
            await asyncio.Event().wait()
        self.closed = (code, reason)

    # -- the client's side ------------------------------------------------------------------------

    def client_send(self, message: signaling_pb2.ClientMessage) -> None:
        self.to_server.put_nowait(message.SerializeToString())

    def client_send_raw(self, payload: bytes) -> None:
        self.to_server.put_nowait(payload)

    def client_hang_up(self) -> None:
        self.to_server.put_nowait(None)

    async def next(self, *, timeout: float = 1.0) -> signaling_pb2.ServerMessage:
        return await asyncio.wait_for(self.sent.get(), timeout)

    def drain(self) -> list[signaling_pb2.ServerMessage]:
        messages = []
        while not self.sent.empty():
            messages.append(self.sent.get_nowait())
        return messages
