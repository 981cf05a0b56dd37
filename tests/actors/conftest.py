from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from meeting_controller.actors import controller


@pytest.fixture
async def mc() -> AsyncIterator[controller.MeetingControllerHandle]:
    handle = controller.spawn_controller(
        mc_id="mc-test", region="eu", max_meetings=10, max_participants=100, mailbox_capacity=64
    )
    yield handle
    await handle.shutdown()
