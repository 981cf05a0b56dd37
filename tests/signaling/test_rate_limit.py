"""A flooding client is rate limited; the meeting and everyone else carry on."""

from __future__ import annotations

import asyncio

import pytest

from meeting_controller.actors import controller
from meeting_controller.actors.connection import RateLimit
from meeting_controller.actors.meeting import MeetingServices
from meeting_controller.protocol import signaling_pb2 as sig
from tests.support.transports import MemoryTransport
from tests.support.waiting import eventually


@pytest.mark.looptime
async def test_a_flood_is_cut_to_the_rate_with_one_warning_per_second(looptime: float) -> None:
    mc = controller.spawn_controller(
        mc_id="mc",
        region="r",
        max_meetings=5,
        max_participants=50,
        services=MeetingServices(rate_limit=RateLimit(per_second=5, burst=10)),
    )
    try:
        m = await mc.create_meeting("m", generation=1)
        flooder, peer = MemoryTransport(), MemoryTransport()
        await m.attach(
            participant_id="f", display_name="f", role=sig.ROLE_PARTICIPANT, transport=flooder
        )
        await m.attach(
            participant_id="p", display_name="p", role=sig.ROLE_PARTICIPANT, transport=peer
        )
        flooder.drain()
        peer.drain()

        for nonce in range(100):
            flooder.client_send(sig.ClientMessage(ping=sig.Ping(nonce=nonce)))
        await eventually(lambda: flooder.to_server.empty(), what="the flood to be read")
        await eventually(lambda: flooder.sent.qsize() >= 11, what="answers")
        answers = flooder.drain()

        pongs = [a.pong.nonce for a in answers if a.WhichOneof("payload") == "pong"]
        errors = [a.error for a in answers if a.WhichOneof("payload") == "error"]
        assert pongs == list(range(10))  # the burst
        assert [e.code for e in errors] == [sig.ERROR_CODE_RATE_LIMITED]
        assert "at most 5 per second" in errors[0].message

        # a second later the client may speak again, and the peer was never disturbed
        await asyncio.sleep(1)
        flooder.client_send(sig.ClientMessage(ping=sig.Ping(nonce=1000)))
        assert (await flooder.next()).pong.nonce == 1000
        assert peer.drain() == []
    finally:
        await mc.shutdown()
