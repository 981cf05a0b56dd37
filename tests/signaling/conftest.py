"""A gateway over the real actor core, with in-memory transports standing in for QUIC."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from meeting_controller.actors import controller
from meeting_controller.actors.meeting import MeetingServices
from meeting_controller.protocol import signaling_pb2 as sig
from meeting_controller.signaling import GatewayConfig, SignalingGateway
from meeting_controller.tokens import join as join_tokens
from tests.support.transports import MemoryTransport

SECRET = b"s" * 32
NOW = 1_800_000_000.0


@dataclasses.dataclass
class Clock:
    now: float = NOW

    def __call__(self) -> float:
        return self.now


@dataclasses.dataclass
class Stack:
    mc: controller.MeetingControllerHandle
    gateway: SignalingGateway
    key: Ed25519PrivateKey
    clock: Clock
    ended: list[tuple[str, str]]
    sessions: list[asyncio.Task[None]] = dataclasses.field(default_factory=list)

    def token(
        self, meeting_id: str, *, user: str = "u", role: join_tokens.Role = "participant"
    ) -> str:
        token, _ = join_tokens.issue_join_token(
            signing_key=self.key,
            user_id=user,
            meeting_id=meeting_id,
            role=role,
            now=self.clock.now,
            ttl_seconds=600,
        )
        return token

    async def connect(self, request: sig.JoinRequest) -> tuple[MemoryTransport, sig.ServerMessage]:
        """Open a session, send ``request`` and return the first answer."""
        transport = MemoryTransport()
        transport.client_send(sig.ClientMessage(join=request))
        # The session task lives as long as the participant's connection (it ends with it).
        self.sessions.append(asyncio.create_task(self.gateway.handle_session(transport)))
        return transport, await transport.next()

    async def join(
        self, meeting_id: str, name: str, *, role: join_tokens.Role = "participant"
    ) -> tuple[MemoryTransport, sig.JoinResponse]:
        transport, first = await self.connect(
            sig.JoinRequest(
                meeting_id=meeting_id,
                join_token=self.token(meeting_id, user=name, role=role),
                display_name=name,
            )
        )
        assert first.WhichOneof("payload") == "join_response", first
        return transport, first.join_response


@pytest.fixture
async def stack() -> AsyncIterator[Stack]:
    key = Ed25519PrivateKey.generate()
    clock = Clock()
    ended: list[tuple[str, str]] = []
    mc = controller.spawn_controller(
        mc_id="mc",
        region="r",
        max_meetings=10,
        max_participants=100,
        buffer_size=8,
        services=MeetingServices(session_secret=SECRET, disconnect_grace_s=30, wall_clock=clock),
        on_meeting_ended=lambda meeting_id, reason: ended.append((meeting_id, reason)),
    )
    gateway = SignalingGateway(
        controller=mc,
        config=GatewayConfig(
            join_token_key=key.public_key(), session_secret=SECRET, wall_clock=clock
        ),
    )
    stack = Stack(mc=mc, gateway=gateway, key=key, clock=clock, ended=ended)
    yield stack
    await mc.shutdown()
    await asyncio.wait_for(asyncio.gather(*stack.sessions), timeout=5)
