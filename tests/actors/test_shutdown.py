"""The cancellation hierarchy and its deadlines, on a fake clock (looptime).

The specification: a connection has 50 ms to send its close frame, a meeting waits at most 5 s
per connection, the controller at most 30 s per meeting. ``looptime`` fast-forwards the loop's
clock, so these tests assert exact loop times without sleeping.
"""

from __future__ import annotations

import asyncio

import pytest
from prometheus_client import REGISTRY

from meeting_controller.actors import connection, controller, meeting
from meeting_controller.actors.cancellation import CancellationToken
from meeting_controller.actors.deadlines import ShutdownDeadlines
from meeting_controller.protocol import signaling_pb2 as sig
from tests.support.transports import MemoryTransport


def abandoned(actor: str) -> float:
    return REGISTRY.get_sample_value("mc_actor_shutdown_abandoned_total", {"actor": actor}) or 0.0


async def noop_sink(_: connection.Inbound | connection.InboundInvalid) -> None:
    return None


def spawn_connection(
    transport: MemoryTransport, token: CancellationToken
) -> connection.ConnectionHandle:
    return connection.ConnectionActor.spawn(
        participant_id="p",
        connection_id=1,
        transport=transport,
        sink=noop_sink,
        token=token,
        mailbox_capacity=8,
        deadlines=ShutdownDeadlines(),
    )


@pytest.mark.looptime
async def test_a_cooperative_tree_stops_without_waiting(looptime: float) -> None:
    mc = controller.spawn_controller(mc_id="mc", region="r", max_meetings=5, max_participants=50)
    transports = []
    for mid in ("a", "b"):
        m = await mc.create_meeting(mid, generation=1)
        for pid in ("x", "y"):
            transport = MemoryTransport()
            transports.append(transport)
            await m.attach(
                participant_id=pid, display_name=pid, role=sig.ROLE_PARTICIPANT, transport=transport
            )

    await mc.shutdown()

    assert looptime == 0
    assert all(t.closed is not None for t in transports)
    assert mc.get_status().meetings == 0
    assert mc.get_status().state is controller.McPhase.SHUTTING_DOWN


@pytest.mark.looptime
async def test_a_connection_flushes_queued_messages_before_its_close_frame(looptime: float) -> None:
    transport = MemoryTransport()
    token = CancellationToken()
    handle = spawn_connection(transport, token)
    handle.deliver(sig.ServerMessage(sequence_number=1, pong=sig.Pong(nonce=1)))
    handle.deliver(sig.ServerMessage(sequence_number=2, pong=sig.Pong(nonce=2)))
    token.cancel()
    await handle.task
    assert [m.sequence_number for m in transport.drain()] == [1, 2]
    assert transport.closed == (0, "shutting down")


@pytest.mark.looptime
async def test_a_connection_that_cannot_send_its_close_frame_is_abandoned_after_50_ms(
    looptime: float,
) -> None:
    before = abandoned("connection")
    token = CancellationToken()
    handle = spawn_connection(MemoryTransport(hang_on_close=True), token)
    await asyncio.sleep(0)

    token.cancel()
    await handle.task

    assert looptime == 0.05
    assert abandoned("connection") == before + 1


@pytest.mark.looptime
async def test_a_meeting_waits_at_most_5_s_for_a_stuck_connection(looptime: float) -> None:
    before = abandoned("connection")
    mc = controller.spawn_controller(mc_id="mc", region="r", max_meetings=5, max_participants=50)
    m = await mc.create_meeting("m", generation=1)
    healthy = MemoryTransport()
    stuck = MemoryTransport(hang_on_send=True)  # blocks in send, never sees the cancellation
    await m.attach(
        participant_id="ok", display_name="ok", role=sig.ROLE_PARTICIPANT, transport=healthy
    )
    await m.attach(
        participant_id="stuck", display_name="s", role=sig.ROLE_PARTICIPANT, transport=stuck
    )
    await asyncio.sleep(1)

    await mc.shutdown()

    assert looptime == 1 + 5
    assert healthy.closed is not None
    assert abandoned("connection") == before + 1


@pytest.mark.looptime
async def test_the_controller_waits_at_most_30_s_for_a_stuck_meeting(
    looptime: float, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = abandoned("meeting")
    original = meeting.MeetingActor.handle

    async def wedged(self: meeting.MeetingActor, message: meeting.MeetingMessage) -> None:
        if self.meeting_id == "wedged" and isinstance(message, meeting.GetState):
            await asyncio.Event().wait()  # a handler that never returns
        await original(self, message)

    monkeypatch.setattr(meeting.MeetingActor, "handle", wedged)
    mc = controller.spawn_controller(mc_id="mc", region="r", max_meetings=5, max_participants=50)
    wedged_meeting = await mc.create_meeting("wedged", generation=1)
    fine = await mc.create_meeting("fine", generation=1)
    transport = MemoryTransport()
    await fine.attach(
        participant_id="p", display_name="p", role=sig.ROLE_PARTICIPANT, transport=transport
    )
    stuck_query = asyncio.create_task(wedged_meeting.get_state(timeout=3600))
    await asyncio.sleep(2)

    await mc.shutdown()

    assert looptime == 2 + 30
    assert transport.closed is not None  # the healthy meeting was not held up by the stuck one
    assert wedged_meeting.task.done()
    assert abandoned("meeting") == before + 1
    stuck_query.cancel()


@pytest.mark.looptime
async def test_deadlines_bound_each_level_independently(looptime: float) -> None:
    """Custom deadlines are honoured: the per-connection wait applies to all connections at once."""
    deadlines = ShutdownDeadlines(
        connection_close=0.2, meeting_per_connection=2, controller_per_meeting=10
    )
    mc = controller.spawn_controller(
        mc_id="mc", region="r", max_meetings=5, max_participants=50, deadlines=deadlines
    )
    m = await mc.create_meeting("m", generation=1)
    for pid in ("a", "b", "c"):
        await m.attach(
            participant_id=pid,
            display_name=pid,
            role=sig.ROLE_PARTICIPANT,
            transport=MemoryTransport(hang_on_close=True),
        )
    await mc.shutdown()
    assert looptime == 0.2  # three close frames abandoned concurrently, not one after another
