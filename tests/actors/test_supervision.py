"""The supervision tree and message routing: controller -> meetings -> connections."""

from __future__ import annotations

import asyncio

import pytest
from prometheus_client import REGISTRY

from meeting_controller.actors import controller, meeting
from meeting_controller.errors import ActorError
from meeting_controller.protocol import signaling_pb2 as sig
from tests.support.transports import MemoryTransport
from tests.support.waiting import eventually


def sample(name: str, **labels: str) -> float:
    value = REGISTRY.get_sample_value(name, labels)
    return 0.0 if value is None else value


async def join(
    handle: meeting.MeetingHandle,
    pid: str,
    *,
    role: sig.Role.ValueType = sig.ROLE_PARTICIPANT,
) -> MemoryTransport:
    transport = MemoryTransport()
    await handle.attach(
        participant_id=pid, display_name=pid.title(), role=role, transport=transport
    )
    return transport


async def test_controller_supervises_meetings_which_supervise_connections(
    mc: controller.MeetingControllerHandle,
) -> None:
    a = await mc.create_meeting("meeting-a", generation=1)
    b = await mc.create_meeting("meeting-b", generation=1)
    for pid in ("alice", "bob", "carol"):
        await join(a, pid)
    await join(b, "dave")

    await eventually(lambda: mc.get_status().participants == 4, what="cached counts")
    status = mc.get_status()
    assert (status.meetings, status.participants, status.connections) == (2, 4, 4)
    assert status.state is controller.McPhase.ACTIVE
    assert await mc.get_meeting("meeting-a") == meeting.MeetingSnapshot(
        meeting_id="meeting-a", generation=1, participants=3, connected=3, connections=3
    )
    assert await mc.get_meeting("nope") is None


async def test_creating_a_meeting_twice_returns_the_same_actor(
    mc: controller.MeetingControllerHandle,
) -> None:
    first = await mc.create_meeting("m", generation=3)
    second = await mc.create_meeting("m", generation=3)
    assert first is second
    assert mc.get_status().meetings == 1


async def test_a_join_is_answered_and_announced_to_the_others(
    mc: controller.MeetingControllerHandle,
) -> None:
    m = await mc.create_meeting("m", generation=1)
    alice = await join(m, "alice", role=sig.ROLE_HOST)
    bob = await join(m, "bob")

    welcome = await alice.next()
    assert welcome.sequence_number == 1
    assert [p.participant_id for p in welcome.join_response.roster] == ["alice"]
    assert welcome.join_response.role == sig.ROLE_HOST

    announced = await alice.next()
    assert announced.sequence_number == 2
    assert announced.participant_joined.participant.participant_id == "bob"

    bob_welcome = await bob.next()
    assert bob_welcome.sequence_number == 1
    assert [p.participant_id for p in bob_welcome.join_response.roster] == ["alice", "bob"]


async def test_client_messages_are_routed_through_the_meeting_to_everyone(
    mc: controller.MeetingControllerHandle,
) -> None:
    m = await mc.create_meeting("m", generation=1)
    alice, bob = await join(m, "alice"), await join(m, "bob")
    await alice.next(), await alice.next(), await bob.next()  # welcomes + bob joined

    bob.client_send(sig.ClientMessage(mute=sig.MuteRequest(muted=True)))

    for transport, expected_seq in ((alice, 3), (bob, 2)):
        update = await transport.next()
        assert update.sequence_number == expected_seq
        assert update.mute_update.participant_id == "bob"
        assert update.mute_update.is_self_muted
        assert not update.mute_update.is_host_muted


async def test_a_malformed_frame_gets_an_error_and_the_meeting_carries_on(
    mc: controller.MeetingControllerHandle,
) -> None:
    m = await mc.create_meeting("m", generation=1)
    alice, bob = await join(m, "alice"), await join(m, "bob")
    alice.drain()
    await bob.next()

    bob.client_send_raw(b"\xff\xff\xff garbage")
    error = await bob.next()
    assert error.error.code == sig.ERROR_CODE_MALFORMED_MESSAGE

    bob.client_send(sig.ClientMessage(ping=sig.Ping(nonce=7)))
    assert (await bob.next()).pong.nonce == 7
    assert alice.drain() == []
    assert (await mc.get_meeting("m")) is not None


async def test_a_hung_up_client_stays_in_the_roster_marked_disconnected(
    mc: controller.MeetingControllerHandle,
) -> None:
    m = await mc.create_meeting("m", generation=1)
    alice, bob = await join(m, "alice"), await join(m, "bob")
    await alice.next(), await alice.next()

    bob.client_hang_up()

    changed = await alice.next()
    assert changed.connection_changed.participant_id == "bob"
    assert not changed.connection_changed.connected
    snapshot = await mc.get_meeting("m")
    assert snapshot is not None
    assert (snapshot.participants, snapshot.connected, snapshot.connections) == (2, 1, 1)


async def test_leaving_removes_the_participant_and_tells_the_others(
    mc: controller.MeetingControllerHandle,
) -> None:
    m = await mc.create_meeting("m", generation=1)
    alice, bob = await join(m, "alice"), await join(m, "bob")
    await alice.next(), await alice.next()

    bob.client_send(sig.ClientMessage(leave=sig.LeaveRequest()))

    left = await alice.next()
    assert left.participant_left.participant_id == "bob"
    assert left.participant_left.reason == sig.LEAVE_REASON_LEFT
    await eventually(lambda: bob.closed is not None, what="bob's close frame")
    await eventually(lambda: mc.get_status().participants == 1, what="counts")


async def test_get_status_answers_while_a_meeting_actor_is_blocked(
    mc: controller.MeetingControllerHandle, monkeypatch: pytest.MonkeyPatch
) -> None:
    release = asyncio.Event()
    original = meeting.MeetingActor.handle

    async def blocking(self: meeting.MeetingActor, message: meeting.MeetingMessage) -> None:
        if isinstance(message, meeting.GetState) and not release.is_set():
            await release.wait()
        await original(self, message)

    monkeypatch.setattr(meeting.MeetingActor, "handle", blocking)
    m = await mc.create_meeting("m", generation=5)
    await join(m, "alice")
    await eventually(lambda: mc.get_status().participants == 1, what="counts")

    with pytest.raises(ActorError, match="did not answer"):
        await mc.get_meeting("m", timeout=0.05)  # the meeting is stuck on that GetState ...
    status = mc.get_status()  # ... yet the cached status answers at once
    assert (status.meetings, status.participants) == (1, 1)

    release.set()
    snapshot = await mc.get_meeting("m")
    assert snapshot is not None
    assert (snapshot.generation, snapshot.participants) == (5, 1)


async def test_get_meeting_returns_live_values_not_the_cache(
    mc: controller.MeetingControllerHandle,
) -> None:
    m = await mc.create_meeting("m", generation=9)
    await join(m, "alice")
    # Straight after the join the cache may lag; the meeting actor itself never does.
    snapshot = await mc.get_meeting("m")
    assert snapshot is not None
    assert (snapshot.participants, snapshot.generation) == (1, 9)
    await join(m, "bob")
    snapshot = await mc.get_meeting("m")
    assert snapshot is not None
    assert snapshot.participants == 2


async def test_a_crashed_meeting_actor_is_detected_counted_and_removed(
    mc: controller.MeetingControllerHandle, monkeypatch: pytest.MonkeyPatch
) -> None:
    original = meeting.MeetingActor.handle

    async def buggy(self: meeting.MeetingActor, message: meeting.MeetingMessage) -> None:
        if self.meeting_id == "doomed" and isinstance(message, meeting.GetState):
            raise RuntimeError("simulated bug in the meeting actor")
        await original(self, message)

    monkeypatch.setattr(meeting.MeetingActor, "handle", buggy)
    failures_before = sample("mc_actor_failures_total", actor="meeting")
    doomed = await mc.create_meeting("doomed", generation=1)
    survivor = await mc.create_meeting("survivor", generation=1)
    alice = await join(doomed, "alice")
    await join(survivor, "bob")

    with pytest.raises(ActorError):
        await doomed.get_state(timeout=0.5)

    await eventually(lambda: mc.get_status().meetings == 1, what="the crashed meeting's removal")
    status = mc.get_status()
    assert status.actor_failures == 1
    assert status.participants == 1
    assert sample("mc_actor_failures_total", actor="meeting") == failures_before + 1
    await eventually(lambda: alice.closed is not None, what="the crashed meeting's connections")
    assert await mc.get_meeting("survivor") is not None


async def test_a_crashed_connection_actor_leaves_its_participant_disconnected(
    mc: controller.MeetingControllerHandle,
) -> None:
    failures_before = sample("mc_actor_failures_total", actor="connection")
    m = await mc.create_meeting("m", generation=1)
    alice = await join(m, "alice")
    await alice.next()
    broken = MemoryTransport(fail_on_send=RuntimeError("simulated bug in the transport"))
    await m.attach(
        participant_id="bob", display_name="Bob", role=sig.ROLE_PARTICIPANT, transport=broken
    )

    assert (await alice.next()).participant_joined.participant.participant_id == "bob"
    changed = await alice.next()
    assert changed.connection_changed.participant_id == "bob"
    assert not changed.connection_changed.connected
    assert sample("mc_actor_failures_total", actor="connection") == failures_before + 1
    snapshot = await mc.get_meeting("m")
    assert snapshot is not None
    assert (snapshot.participants, snapshot.connected) == (2, 1)


async def test_a_lost_connection_is_not_counted_as_a_failure(
    mc: controller.MeetingControllerHandle,
) -> None:
    failures_before = sample("mc_actor_failures_total", actor="connection")
    m = await mc.create_meeting("m", generation=1)
    await m.attach(
        participant_id="bob",
        display_name="Bob",
        role=sig.ROLE_PARTICIPANT,
        transport=MemoryTransport(fail_on_send=ConnectionResetError("peer went away")),
    )
    await eventually(lambda: mc.get_status().connections == 0 and mc.get_status().participants == 1)
    assert sample("mc_actor_failures_total", actor="connection") == failures_before


async def test_metrics_follow_the_tree(mc: controller.MeetingControllerHandle) -> None:
    meetings = sample("mc_meetings_active")
    participants = sample("mc_participants_active")
    connections = sample("mc_connections_active")
    m = await mc.create_meeting("m", generation=1)
    await join(m, "alice")
    await join(m, "bob")
    await eventually(lambda: mc.get_status().participants == 2)
    assert sample("mc_meetings_active") == meetings + 1
    assert sample("mc_participants_active") == participants + 2
    assert sample("mc_connections_active") == connections + 2
    await mc.shutdown()
    assert sample("mc_meetings_active") == meetings
    assert sample("mc_participants_active") == participants
    assert sample("mc_connections_active") == connections
