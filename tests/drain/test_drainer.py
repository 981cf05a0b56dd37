"""The MC's drain, on a fake clock: refuse new work, let meetings end, close at the deadline."""

from __future__ import annotations

import asyncio

import pytest

from meeting_controller.actors import controller
from meeting_controller.drain import Drainer, DrainReport
from meeting_controller.protocol import signaling_pb2 as sig
from tests.support.transports import MemoryTransport


@pytest.mark.looptime
async def test_meetings_may_end_until_the_deadline_then_the_rest_are_closed(
    looptime: float,
) -> None:
    loop = asyncio.get_running_loop()
    mc = controller.spawn_controller(mc_id="mc", region="r", max_meetings=5, max_participants=50)
    told: list[tuple[str, object]] = []
    drained = asyncio.Event()

    async def notify_draining(deadline: int, reason: str) -> None:
        told.append(("draining", (deadline, reason)))

    async def notify_drained(report: DrainReport) -> None:
        told.append(("drained", report))

    drainer = Drainer(
        controller=mc,
        notify_draining=notify_draining,
        notify_drained=notify_drained,
        on_drained=drained.set,
        wall_clock=loop.time,
    )
    try:
        short = await mc.create_meeting("short", generation=1)
        long = await mc.create_meeting("long", generation=1)
        leaver, stayer = MemoryTransport(), MemoryTransport()
        await short.attach(
            participant_id="a", display_name="a", role=sig.ROLE_HOST, transport=leaver
        )
        await long.attach(
            participant_id="b", display_name="b", role=sig.ROLE_HOST, transport=stayer
        )

        deadline = drainer.start(
            deadline_unix_ms=int((loop.time() + 10) * 1000), reason="scale-down"
        )
        assert drainer.start(deadline_unix_ms=deadline + 60_000, reason="again") == deadline
        await asyncio.sleep(0)
        assert mc.get_status().state is controller.McPhase.DRAINING

        await asyncio.sleep(3)
        leaver.client_send(sig.ClientMessage(leave=sig.LeaveRequest()))  # "short" ends by itself
        await drained.wait()

        assert looptime == pytest.approx(10, abs=0.2)
        ended = [m for m in stayer.drain() if m.WhichOneof("payload") == "meeting_ended"]
        assert [m.meeting_ended.reason for m in ended] == [sig.MEETING_END_REASON_DRAIN_DEADLINE]
        assert mc.get_status().meetings == 0
        assert mc.get_status().state is controller.McPhase.DRAINED
        assert told[0] == ("draining", (deadline, "scale-down"))
        assert told[1] == ("drained", DrainReport(ended=1, migrated=0, closed=1))
    finally:
        await mc.shutdown()


@pytest.mark.looptime
async def test_an_empty_mc_drains_at_once(looptime: float) -> None:
    loop = asyncio.get_running_loop()
    mc = controller.spawn_controller(mc_id="mc", region="r", max_meetings=5, max_participants=50)
    drained = asyncio.Event()

    async def nothing(*_: object) -> None:
        return None

    drainer = Drainer(
        controller=mc,
        notify_draining=nothing,
        notify_drained=nothing,
        on_drained=drained.set,
        wall_clock=loop.time,
    )
    try:
        drainer.start(deadline_unix_ms=int((loop.time() + 300) * 1000), reason="sigterm")
        await drained.wait()
        assert looptime < 1
        assert (await drainer.wait()) == DrainReport()
    finally:
        await mc.shutdown()
