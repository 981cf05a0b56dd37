"""What ``/healthz`` and ``/readyz`` report through the life of the MC process (in-process)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

import pytest

from meeting_controller.actors import controller
from meeting_controller.app import Lifecycle
from tests.support.waiting import eventually


@pytest.fixture
async def handle() -> AsyncIterator[controller.MeetingControllerHandle]:
    handle = controller.spawn_controller(
        mc_id="mc-probe", region="local", max_meetings=10, max_participants=100, mailbox_capacity=16
    )
    yield handle
    await handle.shutdown()


async def until_phase(
    handle: controller.MeetingControllerHandle,
    phase: controller.McPhase = controller.McPhase.ACTIVE,
) -> None:
    await eventually(lambda: handle.get_status().state is phase, what=f"phase {phase}")


async def test_before_the_actor_core_exists_the_mc_is_alive_but_starting() -> None:
    lifecycle = Lifecycle()
    assert lifecycle.liveness() is True
    assert lifecycle.readiness() == (False, "starting")


async def test_a_running_actor_core_makes_the_mc_ready(
    handle: controller.MeetingControllerHandle,
) -> None:
    lifecycle = Lifecycle()
    lifecycle.handle = handle
    await until_phase(handle)
    assert lifecycle.readiness() == (True, "ready")
    assert lifecycle.liveness() is True


async def test_a_stop_request_turns_readiness_false_at_once_while_staying_alive(
    handle: controller.MeetingControllerHandle, caplog: pytest.LogCaptureFixture
) -> None:
    lifecycle = Lifecycle()
    lifecycle.handle = handle
    await until_phase(handle)

    with caplog.at_level(logging.INFO, logger="meeting_controller.app"):
        lifecycle.request_stop("SIGTERM")
        lifecycle.request_stop("SIGINT")

    assert lifecycle.readiness() == (False, "shutting down")
    assert lifecycle.liveness() is True  # shutting down is not a reason to be restarted
    assert lifecycle.stop_requested.is_set()
    assert [r.getMessage() for r in caplog.records] == [
        "SIGTERM: shutting down",
        "SIGINT: shutdown already in progress",
    ]


async def test_a_draining_mc_is_not_ready_and_says_why(
    handle: controller.MeetingControllerHandle,
) -> None:
    lifecycle = Lifecycle()
    lifecycle.handle = handle
    await until_phase(handle)

    handle.set_phase(controller.McPhase.DRAINING)
    await until_phase(handle, controller.McPhase.DRAINING)

    assert lifecycle.readiness() == (False, "draining")


async def test_an_actor_core_that_dies_on_its_own_makes_the_mc_not_alive(
    handle: controller.MeetingControllerHandle,
) -> None:
    lifecycle = Lifecycle()
    lifecycle.handle = handle
    await until_phase(handle)

    handle.task.cancel()  # the root actor ends without anyone asking the MC to stop
    await asyncio.wait({handle.task})

    assert lifecycle.liveness() is False
    assert lifecycle.readiness() == (False, "the actor core has stopped")
