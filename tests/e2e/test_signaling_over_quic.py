"""Real clients over real QUIC: join, mute, resume with exact recovery, timeout, meeting end.

Everything is real here: a Redis server, the reference GC, ``meeting-controller run`` as a
subprocess, and participants speaking WebTransport over 127.0.0.1 through the client library.
"""

from __future__ import annotations

import asyncio
import json
from typing import cast

import pytest
import redis.asyncio as redis

from meeting_controller.client import transport as wt
from meeting_controller.client.meeting import MeetingClient, RejoinRequired
from meeting_controller.protocol import signaling_pb2 as sig
from tests.e2e.conftest import Fleet


async def expect(client: MeetingClient, payload: str, *, timeout: float = 5.0) -> sig.ServerMessage:
    """The next event of kind ``payload`` (other kinds in between are skipped)."""
    async with asyncio.timeout(timeout):
        while True:
            event = await client.next_event(timeout=timeout)
            if event.WhichOneof("payload") == payload:
                return event


async def drain_events(client: MeetingClient) -> None:
    """Consume events until the stream ends (with an exception)."""
    async with asyncio.timeout(10):
        async for _ in client.events():
            pass


async def close_all(*clients: MeetingClient) -> None:
    for client in clients:
        await client.close()


async def test_three_clients_join_see_each_other_and_mute_by_the_rules(fleet: Fleet) -> None:
    fleet.start_mc("mc-1")
    hana = await fleet.participant("hana")  # the creator is the host
    meeting = hana.ticket.meeting_id
    bob = await fleet.participant("bob", meeting_id=meeting)
    cleo = await fleet.participant("cleo", meeting_id=meeting)
    try:
        assert hana.join_response is not None
        assert hana.join_response.role == sig.ROLE_HOST
        assert cleo.join_response is not None
        assert [p.display_name for p in cleo.join_response.roster] == ["hana", "bob", "cleo"]
        assert (
            await expect(hana, "participant_joined")
        ).participant_joined.participant.display_name == "bob"
        assert (
            await expect(hana, "participant_joined")
        ).participant_joined.participant.display_name == "cleo"
        assert (
            await expect(bob, "participant_joined")
        ).participant_joined.participant.display_name == "cleo"

        await bob.mute(True)  # self-mute reaches everyone
        for client in (hana, bob, cleo):
            update = (await expect(client, "mute_update")).mute_update
            assert (update.participant_id, update.is_self_muted, update.is_host_muted) == (
                bob.participant_id,
                True,
                False,
            )

        await cleo.host_mute(bob.participant_id)  # not a host: refused
        assert (await expect(cleo, "error")).error.code == sig.ERROR_CODE_PERMISSION_DENIED

        await hana.host_mute(cleo.participant_id)
        for client in (hana, bob, cleo):
            update = (await expect(client, "mute_update")).mute_update
            assert (update.participant_id, update.is_host_muted) == (cleo.participant_id, True)

        await cleo.mute(False)  # host-muted: her own unmute is refused
        assert (await expect(cleo, "error")).error.code == sig.ERROR_CODE_HOST_MUTED

        await cleo.request_unmute("may I?")
        asked = (await expect(hana, "unmute_requested")).unmute_requested
        assert (asked.participant_id, asked.reason) == (cleo.participant_id, "may I?")
        await hana.decide_unmute(cleo.participant_id, approved=True)
        for client in (hana, bob, cleo):
            update = (await expect(client, "mute_update")).mute_update
            assert (update.participant_id, update.is_host_muted) == (cleo.participant_id, False)
    finally:
        await close_all(hana, bob, cleo)


async def test_a_dropped_client_resumes_with_exactly_the_missed_events(fleet: Fleet) -> None:
    fleet.start_mc("mc-1")
    hana = await fleet.participant("hana")
    meeting = hana.ticket.meeting_id
    bob = await fleet.participant("bob", meeting_id=meeting)
    try:
        await expect(hana, "participant_joined")
        before = bob.last_sequence
        old_token = bob.session_token
        await bob.drop_connection(resume_after=0.5)
        await expect(hana, "connection_changed")
        for muted in (True, False, True):
            await hana.mute(muted)
        await hana.host_mute(bob.participant_id)

        updates = [await expect(bob, "mute_update") for _ in range(4)]
        assert [u.mute_update.is_self_muted for u in updates[:3]] == [True, False, True]
        assert updates[3].mute_update.is_host_muted
        assert bob.resumes == 1
        assert bob.sequence_log == list(range(1, bob.last_sequence + 1))  # no gap, no duplicate
        assert bob.last_sequence > before + 4
        reconnected = await expect(hana, "connection_changed")
        assert reconnected.connection_changed.connected

        # The spent token cannot be used again, and trying does not disturb the session.
        async with wt.connect(bob.endpoint, cafile=fleet.trust.cafile) as raw:
            await raw.send(
                sig.ClientMessage(
                    join=sig.JoinRequest(
                        meeting_id=meeting,
                        join_token=bob.ticket.join_token,
                        session_token=old_token,
                        last_sequence_number=before,
                    )
                ).SerializeToString()
            )
            answer = sig.ServerMessage.FromString(cast(bytes, await raw.recv()))
        assert answer.error.code == sig.ERROR_CODE_SESSION_TOKEN_REUSED
        assert answer.error.rejoin_required
        await hana.ping(5)
        assert (await expect(hana, "pong")).pong.nonce == 5
    finally:
        await close_all(hana, bob)


async def test_a_resume_after_the_buffer_overflowed_must_rejoin(fleet: Fleet) -> None:
    fleet.start_mc("mc-1", MC_EVENT_BUFFER_SIZE="4")
    hana = await fleet.participant("hana")
    bob = await fleet.participant("bob", meeting_id=hana.ticket.meeting_id)
    try:
        await expect(hana, "participant_joined")
        await bob.drop_connection(resume_after=1.0)
        await expect(hana, "connection_changed")
        for i in range(8):
            await hana.mute(i % 2 == 0)
        with pytest.raises(RejoinRequired) as refused:
            await drain_events(bob)
        assert refused.value.error.code == sig.ERROR_CODE_REJOIN_REQUIRED
    finally:
        await close_all(hana, bob)


async def test_a_vanished_participant_leaves_with_timeout_after_the_grace_period(
    fleet: Fleet,
) -> None:
    fleet.start_mc("mc-1", MC_DISCONNECT_GRACE_SECONDS="1")
    hana = await fleet.participant("hana")
    bob = await fleet.participant("bob", meeting_id=hana.ticket.meeting_id)
    try:
        await expect(hana, "participant_joined")
        bob._closing = True  # the client gives up: no resume
        await bob.drop_connection()
        left = (await expect(hana, "participant_left")).participant_left
        assert (left.participant_id, left.reason) == (bob.participant_id, sig.LEAVE_REASON_TIMEOUT)
    finally:
        await close_all(hana, bob)


async def test_bad_frames_over_quic_get_clear_errors_and_others_are_untouched(fleet: Fleet) -> None:
    fleet.start_mc("mc-1", MC_MAX_FRAME_BYTES="1024")
    hana = await fleet.participant("hana")
    try:
        async with wt.connect(
            hana.endpoint, cafile=fleet.trust.cafile, max_frame_size=1 << 20
        ) as raw:
            await raw.send(b"\xff\x00garbage")
            garbled = sig.ServerMessage.FromString(cast(bytes, await raw.recv()))
            assert garbled.error.code == sig.ERROR_CODE_MALFORMED_MESSAGE
            await raw.send(b"x" * 4096)
            too_big = sig.ServerMessage.FromString(cast(bytes, await raw.recv()))
            assert too_big.error.code == sig.ERROR_CODE_FRAME_TOO_LARGE
        await hana.ping(9)
        assert (await expect(hana, "pong")).pong.nonce == 9
        assert hana.sequence_log == list(range(1, hana.last_sequence + 1))
    finally:
        await hana.close()


async def test_the_last_participant_leaving_ends_the_meeting_everywhere(fleet: Fleet) -> None:
    mc = fleet.start_mc("mc-1")
    hana = await fleet.participant("hana")
    meeting = hana.ticket.meeting_id
    bob = await fleet.participant("bob", meeting_id=meeting)
    await expect(hana, "participant_joined")
    await bob.leave()
    assert (await expect(hana, "participant_left")).participant_left.reason == sig.LEAVE_REASON_LEFT
    await hana.leave()

    store = redis.Redis.from_url(fleet.redis_url, decode_responses=True)
    try:
        async with asyncio.timeout(10):
            while True:
                keys = [k async for k in store.scan_iter("*")]
                metrics = mc.get("/metrics").body.decode()
                where = await asyncio.to_thread(lambda: _where(fleet, meeting))
                if not keys and "mc_meetings_active 0.0" in metrics and where == 404:
                    break
                await asyncio.sleep(0.05)
        assert "mc_participants_active 0.0" in metrics
        assert "mc_connections_active 0.0" in metrics
    finally:
        await store.aclose()


def _where(fleet: Fleet, meeting: str) -> int:
    import urllib.error
    import urllib.request

    try:
        with urllib.request.urlopen(f"{fleet.gc.http_url}/v1/meetings/{meeting}", timeout=2) as r:
            json.load(r)
            return int(r.status)
    except urllib.error.HTTPError as error:
        return error.code
