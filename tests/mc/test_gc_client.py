"""The MC's GC client against the reference GC over real gRPC: backoff, rejection, intervals,
heartbeat contents."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

import pytest

from meeting_controller import tokens
from meeting_controller.actors.controller import ControllerStatus, McPhase
from meeting_controller.core.heartbeat import HeartbeatIntervals
from meeting_controller.errors import GcError, RegistrationRejected
from meeting_controller.gc import registry
from meeting_controller.gc.server import GlobalController
from meeting_controller.rpc.gc_client import GcClient, Registration
from tests.gc.support import free_port
from tests.mc.support import running_mc
from tests.support.waiting import eventually


def registration(mc_id: str, *, grpc_endpoint: str = "127.0.0.1:1") -> Registration:
    return Registration(
        mc_id=mc_id,
        region="eu",
        grpc_endpoint=grpc_endpoint,
        webtransport_endpoint=f"https://{mc_id}.test:4433/",
        max_meetings=10,
        max_participants=100,
    )


def idle_status() -> ControllerStatus:
    return ControllerStatus(
        mc_id="mc-1",
        region="eu",
        state=McPhase.ACTIVE,
        meetings=0,
        participants=0,
        connections=0,
        max_meetings=10,
        max_participants=100,
        actor_failures=0,
    )


def make_gc(port: int = 0, *, fast_ms: int = 0, comprehensive_ms: int = 0) -> GlobalController:
    return GlobalController(
        grpc_listen=f"127.0.0.1:{port}",
        http_listen="127.0.0.1:0",
        signing_key=tokens.generate_signing_key(),
        fast_heartbeat_ms=fast_ms,
        comprehensive_heartbeat_ms=comprehensive_ms,
    )


@contextlib.asynccontextmanager
async def started(gc: GlobalController) -> AsyncIterator[GlobalController]:
    await gc.start()
    try:
        yield gc
    finally:
        await gc.stop(grace_s=0)


@contextlib.asynccontextmanager
async def client(gc_address: str, mc_id: str = "mc-1", **kwargs: object) -> AsyncIterator[GcClient]:
    gc_client = GcClient(
        endpoint=gc_address,
        registration=registration(mc_id),
        status=idle_status,
        **kwargs,  # type: ignore[arg-type]
    )
    try:
        yield gc_client
    finally:
        await gc_client.close()


# --- registration backoff -----------------------------------------------------------------------


async def test_registration_retries_after_1_2_4_8_16_seconds_then_gives_up() -> None:
    gaps: list[float] = []

    async def record(seconds: float) -> None:
        gaps.append(seconds)

    async with client(f"127.0.0.1:{free_port()}", sleep=record) as gc_client:
        with pytest.raises(GcError, match="after 6 attempts") as raised:
            await gc_client.register()
        assert not isinstance(raised.value, RegistrationRejected)
        assert gaps == [1, 2, 4, 8, 16]
        assert gc_client.attempts == 6
        assert not gc_client.registered


async def test_a_gc_that_comes_up_during_the_backoff_gets_the_registration() -> None:
    port = free_port()
    gc = make_gc(port)
    gaps: list[float] = []

    async def record(seconds: float) -> None:
        gaps.append(seconds)
        if len(gaps) == 3:
            await gc.start()

    try:
        async with client(f"127.0.0.1:{port}", sleep=record) as gc_client:
            await gc_client.register()
            assert gc_client.registered
            assert gaps == [1, 2, 4]
            assert gc_client.attempts == 4
            assert gc.registry.get("mc-1") is not None
    finally:
        await gc.stop(grace_s=0)


# --- rejection ----------------------------------------------------------------------------------


async def test_a_second_mc_with_the_same_id_is_rejected_with_a_reason_naming_the_id() -> None:
    async with started(make_gc()) as gc:
        first = GcClient(
            endpoint=gc.grpc_address,
            registration=registration("mc-twin", grpc_endpoint="127.0.0.1:1001"),
            status=idle_status,
        )
        second = GcClient(
            endpoint=gc.grpc_address,
            registration=registration("mc-twin", grpc_endpoint="127.0.0.1:1002"),
            status=idle_status,
        )
        try:
            await first.register()
            with pytest.raises(RegistrationRejected, match="'mc-twin'") as raised:
                await second.register()
            assert "already registered" in str(raised.value)
            assert not second.registered
            assert second.attempts == 1  # a rejection is final, not retried
            assert first.registered
        finally:
            await first.close()
            await second.close()


# --- heartbeat intervals ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("gc_ms", "fleet_ms", "expected"),
    [
        ((2000, 6000), (5000, 15000), HeartbeatIntervals(2000, 6000)),
        ((0, 0), (5000, 15000), HeartbeatIntervals(5000, 15000)),
        ((0, 0), (None, None), HeartbeatIntervals(10_000, 30_000)),
    ],
    ids=["the_gcs_values_win", "gc_zero_means_the_fleet_default", "no_fleet_means_built_in"],
)
async def test_the_client_uses_the_heartbeat_intervals_by_precedence(
    gc_ms: tuple[int, int], fleet_ms: tuple[int | None, int | None], expected: HeartbeatIntervals
) -> None:
    async with (
        started(make_gc(fast_ms=gc_ms[0], comprehensive_ms=gc_ms[1])) as gc,
        client(
            gc.grpc_address, fleet_fast_ms=fleet_ms[0], fleet_comprehensive_ms=fleet_ms[1]
        ) as gc_client,
    ):
        with pytest.raises(GcError, match="not registered"):
            _ = gc_client.intervals
        assert await gc_client.register() == expected
        assert gc_client.intervals == expected


# --- heartbeat contents -------------------------------------------------------------------------


class FixedSampler:
    def cpu_percent(self) -> float:
        return 42.5

    def memory_percent(self) -> float:
        return 17.25


async def test_heartbeats_carry_the_controllers_meeting_and_participant_counts(
    redis_url: str,
) -> None:
    async with started(make_gc()) as gc, running_mc(redis_url, mc_id="mc-hb") as mc:
        for meeting_id in ("m-1", "m-2"):
            assert (await mc.assign(meeting_id)).accepted
        await mc.attach("m-1", "alice", "bob")
        await mc.attach("m-2", "carol")
        await eventually(lambda: mc.controller.get_status().participants == 3, what="3 joined")
        gc_client = GcClient(
            endpoint=gc.grpc_address,
            registration=registration("mc-hb", grpc_endpoint=mc.address),
            status=mc.controller.get_status,
            sampler=FixedSampler(),  # type: ignore[arg-type]
        )
        try:
            await gc_client.register()
            await gc_client.send_fast_heartbeat()
            after_fast = gc.registry.get("mc-hb")
            assert after_fast is not None
            assert (after_fast.current_meetings, after_fast.current_participants) == (2, 3)
            assert after_fast.health is registry.Health.HEALTHY
            assert after_fast.cpu_usage_percent is None  # fast beats carry no resources
            await gc_client.send_comprehensive_heartbeat()
            after_full = gc.registry.get("mc-hb")
            assert after_full is not None
            assert (after_full.current_meetings, after_full.current_participants) == (2, 3)
            assert after_full.cpu_usage_percent == pytest.approx(42.5)
            assert after_full.memory_usage_percent == pytest.approx(17.25)
            assert after_full.last_comprehensive_heartbeat_at is not None
        finally:
            await gc_client.close()
