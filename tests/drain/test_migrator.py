"""The source side of a live migration, against a real Redis and a real gRPC target."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import grpc
import pytest

from meeting_controller.actors import controller
from meeting_controller.actors.meeting import MeetingServices
from meeting_controller.config import Secret
from meeting_controller.migration import Migrator
from meeting_controller.protocol import internal_pb2, internal_pb2_grpc
from meeting_controller.protocol import signaling_pb2 as sig
from meeting_controller.store.fenced import FencedRedisClient
from tests.support.transports import MemoryTransport

TOKEN = Secret(b"admin-token-for-the-migrator-test")


class Gc:
    """Stands in for the GC's answers (the GC itself is tested on its own)."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.moved: list[tuple[str, str, int]] = []

    async def find_migration_target(
        self, *, meeting_id: str, participants: int, exclude: list[str]
    ) -> internal_pb2.MigrationTargetResponse:
        return internal_pb2.MigrationTargetResponse(
            found=True,
            mc_id="target",
            grpc_endpoint=f"127.0.0.1:{self.target_port}",
            webtransport_endpoint="https://127.0.0.1:1/signaling",
        )

    async def notify_meeting_moved(
        self, *, meeting_id: str, to_mc_id: str, generation: int
    ) -> None:
        self.moved.append((meeting_id, to_mc_id, generation))


class SilentTarget(internal_pb2_grpc.MeetingControllerServiceServicer):
    """Claims the meeting like a real target, then never answers (the answer is lost)."""

    def __init__(self, store: FencedRedisClient) -> None:
        self.store = store
        self.claimed = asyncio.Event()

    async def AcceptMigration(
        self, request: internal_pb2.AcceptMigrationRequest, context: object
    ) -> internal_pb2.AcceptMigrationResponse:
        await self.store.claim_meeting(
            request.meeting_id, expected_generation=request.source_generation
        )
        self.claimed.set()
        await asyncio.Event().wait()
        raise AssertionError("unreachable")


@pytest.fixture
async def store(redis_url: str) -> AsyncIterator[FencedRedisClient]:
    client = FencedRedisClient(redis_url)
    await client.connect()
    yield client
    await client.close()


async def test_a_target_that_claimed_but_whose_answer_was_lost_still_gets_the_meeting(
    store: FencedRedisClient, redis_url: str
) -> None:
    target_store = FencedRedisClient(redis_url)
    await target_store.connect()
    target = SilentTarget(target_store)  # type: ignore[abstract]  # only what is called
    server = grpc.aio.server()
    internal_pb2_grpc.add_MeetingControllerServiceServicer_to_server(target, server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    mc = controller.spawn_controller(
        mc_id="source",
        region="r",
        max_meetings=5,
        max_participants=50,
        services=MeetingServices(store=store),
    )
    gc = Gc(port)
    try:
        generation = await store.claim_meeting("m")
        await store.assign("m", generation=generation, mh_assignment_json="[]", state={})
        meeting = await mc.create_meeting("m", generation=generation)
        client = MemoryTransport()
        await meeting.attach(
            participant_id="p", display_name="p", role=sig.ROLE_HOST, transport=client
        )
        migrator = Migrator(
            mc_id="source",
            gc=gc,  # type: ignore[arg-type]
            admin_token=TOKEN,
            participants_of=lambda m: asyncio.sleep(0, result=1),
            generation_of=store.get_generation,
            call_timeout=0.5,
        )

        assert await migrator.migrate(meeting)

        assert target.claimed.is_set()
        assert gc.moved == [("m", "target", generation + 1)]
        await asyncio.wait({meeting.task}, timeout=5)
        assert meeting.outcome.reason == "migrated"
        redirect = [m for m in client.drain() if m.WhichOneof("payload") == "redirect"]
        assert [r.redirect.mc_endpoint for r in redirect] == ["https://127.0.0.1:1/signaling"]
        assert redirect[0].sequence_number == 0
        await migrator.close()
    finally:
        await mc.shutdown()
        await server.stop(None)
        await target_store.close()


async def test_a_target_that_refused_leaves_the_meeting_here_and_working(
    store: FencedRedisClient,
) -> None:
    class Refusing(internal_pb2_grpc.MeetingControllerServiceServicer):
        async def AcceptMigration(
            self, request: internal_pb2.AcceptMigrationRequest, context: object
        ) -> internal_pb2.AcceptMigrationResponse:
            return internal_pb2.AcceptMigrationResponse(
                accepted=False,
                rejection_reason=internal_pb2.REJECTION_REASON_AT_CAPACITY,
                message="full",
            )

    server = grpc.aio.server()
    internal_pb2_grpc.add_MeetingControllerServiceServicer_to_server(
        Refusing(),  # type: ignore[abstract]  # only what is called
        server,
    )
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    mc = controller.spawn_controller(
        mc_id="source",
        region="r",
        max_meetings=5,
        max_participants=50,
        services=MeetingServices(store=store),
    )
    try:
        generation = await store.claim_meeting("m")
        await store.assign("m", generation=generation, mh_assignment_json="[]", state={})
        meeting = await mc.create_meeting("m", generation=generation)
        client = MemoryTransport()
        await meeting.attach(
            participant_id="p", display_name="p", role=sig.ROLE_HOST, transport=client
        )
        migrator = Migrator(
            mc_id="source",
            gc=Gc(port),  # type: ignore[arg-type]
            admin_token=TOKEN,
            participants_of=lambda m: asyncio.sleep(0, result=1),
            generation_of=store.get_generation,
        )
        assert not await migrator.migrate(meeting)
        # unfrozen: the meeting answers again, still owned here
        client.client_send(sig.ClientMessage(ping=sig.Ping(nonce=3)))
        pongs: list[sig.ServerMessage] = []
        while not pongs:
            message = await client.next()
            if message.WhichOneof("payload") == "pong":
                pongs.append(message)
        assert await store.get_generation("m") == generation
        await migrator.close()
    finally:
        await mc.shutdown()
        await server.stop(None)
