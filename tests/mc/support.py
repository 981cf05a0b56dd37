"""Helpers of the MC gRPC tests: a real MC (controller + store + gRPC server) on 127.0.0.1."""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import AsyncIterator, Callable
from typing import Any

import grpc
import grpc.aio

from meeting_controller.actors.controller import McPhase, MeetingControllerHandle, spawn_controller
from meeting_controller.actors.deadlines import ShutdownDeadlines
from meeting_controller.config import Secret
from meeting_controller.protocol import internal_pb2 as pb
from meeting_controller.protocol import internal_pb2_grpc
from meeting_controller.protocol import signaling_pb2 as sig
from meeting_controller.rpc.mc_service import MeetingControllerService
from meeting_controller.store.fenced import FencedRedisClient
from tests.support.transports import MemoryTransport
from tests.support.waiting import eventually

FAST_DEADLINES = ShutdownDeadlines(
    connection_close=0.05, meeting_per_connection=0.5, controller_per_meeting=1.0
)


class RecordingService(MeetingControllerService):
    """The real service, remembering which meetings it was asked to take (for placement)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.assigned: list[str] = []

    async def AssignMeeting(
        self,
        request: pb.AssignMeetingRequest,
        context: grpc.aio.ServicerContext[object, object],
    ) -> pb.AssignMeetingResponse:
        self.assigned.append(request.meeting_id)
        return await super().AssignMeeting(request, context)


@dataclasses.dataclass
class RunningMc:
    """One MC as the GC sees it: its gRPC address, plus its insides for the assertions."""

    mc_id: str
    controller: MeetingControllerHandle
    store: FencedRedisClient
    service: RecordingService
    address: str
    stub: internal_pb2_grpc.MeetingControllerServiceAsyncStub
    healthy: list[bool]
    transports: list[MemoryTransport] = dataclasses.field(default_factory=list)

    async def assign(
        self,
        meeting_id: str,
        *,
        generation: int = 0,
        estimated_participants: int = 1,
    ) -> pb.AssignMeetingResponse:
        response: pb.AssignMeetingResponse = await self.stub.AssignMeeting(
            pb.AssignMeetingRequest(
                meeting_id=meeting_id,
                meeting_code=f"code-{meeting_id}",
                settings=pb.MeetingSettings(estimated_participants=estimated_participants),
                generation=generation,
                requesting_gc_id="test-gc",
            ),
            timeout=5,
        )
        return response

    async def attach(self, meeting_id: str, *participant_ids: str) -> None:
        meeting = await self.controller.meeting(meeting_id)
        assert meeting is not None, f"{self.mc_id} does not host {meeting_id}"
        for participant_id in participant_ids:
            transport = MemoryTransport()
            self.transports.append(transport)
            await meeting.attach(
                participant_id=participant_id,
                display_name=participant_id,
                role=sig.ROLE_PARTICIPANT,
                transport=transport,
            )

    async def set_phase(self, phase: McPhase) -> None:
        self.controller.set_phase(phase)
        await eventually(
            lambda: self.controller.get_status().state is phase, what=f"phase {phase.value}"
        )


@contextlib.asynccontextmanager
async def running_mc(
    redis_url: str,
    *,
    mc_id: str = "mc-1",
    max_meetings: int = 10,
    max_participants: int = 100,
    admin_token: Secret | None = None,
    store: FencedRedisClient | None = None,
    registered: Callable[[], bool] = lambda: True,
    on_drain: Callable[[int, str], None] | None = None,
) -> AsyncIterator[RunningMc]:
    """Start a controller, connect a store, serve the MC service on a real gRPC port."""
    store = store or FencedRedisClient(redis_url)
    await store.connect()
    controller = spawn_controller(
        mc_id=mc_id,
        region="eu",
        max_meetings=max_meetings,
        max_participants=max_participants,
        deadlines=FAST_DEADLINES,
    )
    healthy = [True]
    service = RecordingService(
        controller=controller,
        store=store,
        store_healthy=lambda: healthy[0],
        registered=registered,
        admin_token=admin_token,
        on_drain=on_drain,
    )
    server = grpc.aio.server()
    internal_pb2_grpc.add_MeetingControllerServiceServicer_to_server(service, server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    address = f"127.0.0.1:{port}"
    channel = grpc.aio.insecure_channel(address)
    try:
        await eventually(
            lambda: controller.get_status().state is McPhase.ACTIVE, what="an active controller"
        )
        yield RunningMc(
            mc_id=mc_id,
            controller=controller,
            store=store,
            service=service,
            address=address,
            stub=internal_pb2_grpc.MeetingControllerServiceStub(channel),
            healthy=healthy,
        )
    finally:
        await channel.close(None)
        await server.stop(None)
        await controller.shutdown()
        await store.close()
