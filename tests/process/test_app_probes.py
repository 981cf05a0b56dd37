"""What ``/healthz`` and ``/readyz`` report through the life of the MC process (in-process).

Readiness needs a live registration with the GC and a reachable Redis: the ``gc`` used here is
a real :class:`GcClient` registered with a real reference GC on 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

import pytest

from meeting_controller import tokens
from meeting_controller.actors import controller
from meeting_controller.app import Lifecycle
from meeting_controller.gc.server import GlobalController
from meeting_controller.rpc.gc_client import GcClient, Registration
from tests.support.waiting import eventually


@pytest.fixture
async def handle() -> AsyncIterator[controller.MeetingControllerHandle]:
    handle = controller.spawn_controller(
        mc_id="mc-probe", region="local", max_meetings=10, max_participants=100, mailbox_capacity=16
    )
    yield handle
    await handle.shutdown()


@pytest.fixture
async def gc_endpoint() -> AsyncIterator[str]:
    """A real reference GC on free ports; yields its gRPC address."""
    gc = GlobalController(
        grpc_listen="127.0.0.1:0",
        http_listen="127.0.0.1:0",
        signing_key=tokens.generate_signing_key(),
    )
    await gc.start()
    yield gc.grpc_address
    await gc.stop()


@pytest.fixture
async def gc_client(
    gc_endpoint: str, handle: controller.MeetingControllerHandle
) -> AsyncIterator[GcClient]:
    """A GC client for ``handle`` (not registered yet; tests call ``register``)."""
    client = GcClient(
        endpoint=gc_endpoint,
        registration=Registration(
            mc_id="mc-probe",
            region="local",
            grpc_endpoint="127.0.0.1:1",
            webtransport_endpoint="https://127.0.0.1:1/",
            max_meetings=10,
            max_participants=100,
        ),
        status=handle.get_status,
    )
    yield client
    await client.close()


async def ready_lifecycle(
    handle: controller.MeetingControllerHandle, gc_client: GcClient
) -> Lifecycle:
    """A lifecycle whose actor core is ACTIVE and whose MC is registered with the GC."""
    lifecycle = Lifecycle()
    lifecycle.handle = handle
    lifecycle.gc = gc_client
    await until_phase(handle)
    await gc_client.register()
    return lifecycle


async def until_phase(
    handle: controller.MeetingControllerHandle,
    phase: controller.McPhase = controller.McPhase.ACTIVE,
) -> None:
    await eventually(lambda: handle.get_status().state is phase, what=f"phase {phase}")


async def test_before_the_actor_core_exists_the_mc_is_alive_but_starting() -> None:
    lifecycle = Lifecycle()
    assert lifecycle.liveness() is True
    assert lifecycle.readiness() == (False, "starting")


async def test_a_running_actor_core_is_not_ready_until_registered_with_the_gc(
    handle: controller.MeetingControllerHandle, gc_client: GcClient
) -> None:
    lifecycle = Lifecycle()
    lifecycle.handle = handle
    await until_phase(handle)
    assert lifecycle.readiness() == (False, "not registered with the GC")  # no client yet
    lifecycle.gc = gc_client
    assert lifecycle.readiness() == (False, "not registered with the GC")
    assert lifecycle.liveness() is True

    await gc_client.register()

    assert lifecycle.readiness() == (True, "ready")
    assert lifecycle.liveness() is True


async def test_a_lost_registration_makes_the_mc_not_ready(
    handle: controller.MeetingControllerHandle, gc_client: GcClient
) -> None:
    lifecycle = await ready_lifecycle(handle, gc_client)

    await gc_client.close()  # what a stop does; a GC that forgets the MC does the same

    assert lifecycle.readiness() == (False, "not registered with the GC")


async def test_an_unreachable_redis_makes_the_mc_not_ready_until_it_is_back(
    handle: controller.MeetingControllerHandle, gc_client: GcClient
) -> None:
    lifecycle = await ready_lifecycle(handle, gc_client)

    lifecycle.store_healthy = False  # what the store monitor sets when a PING fails
    assert lifecycle.readiness() == (False, "redis unreachable")
    assert lifecycle.liveness() is True  # a Redis outage is not a reason to be restarted

    lifecycle.store_healthy = True
    assert lifecycle.readiness() == (True, "ready")


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
