"""End to end: the reference GC places meetings on real MCs that registered through GcClient."""

from __future__ import annotations

import contextlib
import time

from meeting_controller import tokens
from meeting_controller.config import Secret
from meeting_controller.gc.server import GlobalController
from meeting_controller.protocol import internal_pb2 as pb
from meeting_controller.rpc.gc_client import GcClient, Registration
from tests.gc.support import http
from tests.mc.support import RunningMc, running_mc

ADMIN = Secret(b"fleet-admin")

#: (mc id, max meetings, meetings already hosted): free capacity 0.6, 0.75 and 1.0.
FLEET = (("mc-a", 10, 4), ("mc-b", 4, 1), ("mc-c", 2, 0))


async def registered_mc(
    stack: contextlib.AsyncExitStack,
    gc: GlobalController,
    redis_url: str,
    mc_id: str,
    max_meetings: int,
    preloaded: int,
) -> tuple[RunningMc, GcClient]:
    """Start an MC (stopped by ``stack``), give it some meetings, register it, heartbeat."""
    mc = await stack.enter_async_context(
        running_mc(redis_url, mc_id=mc_id, max_meetings=max_meetings, admin_token=ADMIN)
    )
    for index in range(preloaded):
        assert (await mc.assign(f"{mc_id}-old-{index}")).accepted
    gc_client = GcClient(
        endpoint=gc.grpc_address,
        registration=Registration(
            mc_id=mc_id,
            region="eu",
            grpc_endpoint=mc.address,
            webtransport_endpoint=f"https://{mc_id}.test:4433/",
            max_meetings=max_meetings,
            max_participants=100,
        ),
        status=mc.controller.get_status,
    )
    stack.push_async_callback(gc_client.close)
    await gc_client.register()
    await gc_client.send_fast_heartbeat()
    return mc, gc_client


async def test_the_gc_places_on_the_freest_mc_skips_a_draining_one_and_signs_tokens(
    redis_url: str,
) -> None:
    signing_key = tokens.generate_signing_key()
    gc = GlobalController(
        grpc_listen="127.0.0.1:0", http_listen="127.0.0.1:0", signing_key=signing_key
    )
    await gc.start()
    try:
        async with contextlib.AsyncExitStack() as stack:
            fleet: dict[str, tuple[RunningMc, GcClient]] = {}
            for mc_id, max_meetings, preloaded in FLEET:
                fleet[mc_id] = await registered_mc(
                    stack, gc, redis_url, mc_id, max_meetings, preloaded
                )

            first = await http(gc.http_url, "POST", "/v1/meetings", {"user_id": "u1"})
            assert first.status == 201, first.body
            placed = first.json()
            assert placed["mc_id"] == "mc-c"  # 2 of 2 free beats 3 of 4 and 6 of 10
            assert placed["mc_endpoint"] == "https://mc-c.test:4433/"
            meeting_id = placed["meeting_id"]
            hosted = await fleet["mc-c"][0].controller.get_meeting(meeting_id)
            assert hosted is not None
            assert hosted.generation == 1
            claims = tokens.verify_join_token(
                placed["join_token"],
                public_key=signing_key.public_key(),
                meeting_id=meeting_id,
                now=time.time(),
            )
            assert (claims.user_id, claims.meeting_id, claims.role) == ("u1", meeting_id, "host")
            where = await http(gc.http_url, "GET", f"/v1/meetings/{meeting_id}")
            assert where.status == 200
            assert where.json()["mc_id"] == "mc-c"
            assert where.json()["generation"] == 1

            # mc-b (now the freest) drains: the admin Drain RPC, then the GC is told.
            mc_b, client_b = fleet["mc-b"]
            drained = await mc_b.stub.Drain(
                pb.DrainRequest(deadline_unix_ms=int(time.time() * 1000) + 60_000, reason="test"),
                metadata=(("authorization", "Bearer fleet-admin"),),
                timeout=5,
            )
            assert drained.accepted
            await client_b.notify_draining(deadline_unix_ms=drained.deadline_unix_ms, reason="t")

            second = (await http(gc.http_url, "POST", "/v1/meetings", {"user_id": "u2"})).json()
            assert second["mc_id"] == "mc-a"  # 6 of 10 free beats mc-c's 1 of 2
            assert await fleet["mc-a"][0].controller.meeting(second["meeting_id"]) is not None
            assert await mc_b.controller.meeting(second["meeting_id"]) is None
            assert mc_b.controller.get_status().meetings == 1
            assert second["meeting_id"] not in mc_b.service.assigned  # skipped, not asked
            assert fleet["mc-c"][0].service.assigned == [meeting_id]
            where = (await http(gc.http_url, "GET", f"/v1/meetings/{second['meeting_id']}")).json()
            assert where["mc_id"] == "mc-a"
            assert (await http(gc.http_url, "GET", "/v1/meetings/m-unknown")).status == 404
    finally:
        await gc.stop(grace_s=0)
