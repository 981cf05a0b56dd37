"""Join, resume with exact missed-event recovery, and every way a join or resume is refused."""

from __future__ import annotations

import pytest

from meeting_controller.protocol import signaling_pb2 as sig
from meeting_controller.tokens import session as session_tokens
from tests.signaling.conftest import SECRET, Stack
from tests.support.transports import MemoryTransport
from tests.support.waiting import eventually


async def test_a_join_answers_with_a_session_token_expiry_and_the_roster(stack: Stack) -> None:
    await stack.mc.create_meeting("m", generation=1)
    _, host = await stack.join("m", "hana", role="host")
    _bob_transport, bob = await stack.join("m", "bob")

    assert host.role == sig.ROLE_HOST
    assert bob.role == sig.ROLE_PARTICIPANT
    assert bob.session_token
    assert bob.expiry_timestamp == int((stack.clock.now + 300) * 1000)
    assert [p.display_name for p in bob.roster] == ["hana", "bob"]
    claims = session_tokens.verify_session_token(
        bob.session_token, master_secret=SECRET, meeting_id="m", now_ms=int(stack.clock.now * 1000)
    )
    assert claims.participant_id == bob.participant_id


async def test_a_resume_replays_exactly_the_missed_events(stack: Stack) -> None:
    await stack.mc.create_meeting("m", generation=1)
    host_t, _host = await stack.join("m", "hana", role="host")
    bob_t, bob = await stack.join("m", "bob")
    await host_t.next()  # bob joined
    bob_t.client_hang_up()
    assert (await host_t.next()).connection_changed.connected is False

    host_t.client_send(sig.ClientMessage(mute=sig.MuteRequest(muted=True)))
    host_t.client_send(
        sig.ClientMessage(
            host_mute=sig.HostMuteRequest(target_participant_id=bob.participant_id, muted=True)
        )
    )
    await host_t.next()
    await host_t.next()

    resumed_t, answer = await stack.connect(
        sig.JoinRequest(
            meeting_id="m",
            join_token=stack.token("m", user="bob"),
            session_token=bob.session_token,
            last_sequence_number=1,
        )
    )
    response = answer.join_response
    assert response.resumed
    missed = [m.sequence_number for m in response.recovery_data.missed_events]
    assert missed == [2, 3]
    assert answer.sequence_number == 4
    assert response.recovery_data.missed_events[1].mute_update.is_host_muted
    assert response.session_token != bob.session_token
    reconnected = await host_t.next()
    assert reconnected.connection_changed.connected
    # the new stream continues without a gap
    host_t.client_send(sig.ClientMessage(mute=sig.MuteRequest(muted=False)))
    assert (await resumed_t.next()).sequence_number == 5


async def test_a_spent_session_token_is_refused(stack: Stack) -> None:
    await stack.mc.create_meeting("m", generation=1)
    bob_t, bob = await stack.join("m", "bob")
    bob_t.client_hang_up()
    request = sig.JoinRequest(
        meeting_id="m",
        join_token=stack.token("m", user="bob"),
        session_token=bob.session_token,
        last_sequence_number=1,
    )
    _first, ok = await stack.connect(request)
    assert ok.join_response.resumed
    _, replay = await stack.connect(request)
    assert replay.error.code == sig.ERROR_CODE_SESSION_TOKEN_REUSED
    assert replay.error.rejoin_required
    # the real session is untouched by the replay
    snapshot = await stack.mc.get_meeting("m")
    assert snapshot is not None
    assert (snapshot.participants, snapshot.connected) == (1, 1)


async def test_a_resume_beyond_the_buffer_must_rejoin(stack: Stack) -> None:
    await stack.mc.create_meeting("m", generation=1)
    host_t, _ = await stack.join("m", "hana", role="host")
    bob_t, bob = await stack.join("m", "bob")
    bob_t.client_hang_up()
    for i in range(12):  # the buffer holds 8
        host_t.client_send(sig.ClientMessage(mute=sig.MuteRequest(muted=i % 2 == 0)))
    await eventually(lambda: host_t.sent.qsize() >= 13, what="the host's updates")
    _, answer = await stack.connect(
        sig.JoinRequest(
            meeting_id="m",
            join_token=stack.token("m", user="bob"),
            session_token=bob.session_token,
            last_sequence_number=1,
        )
    )
    assert answer.error.code == sig.ERROR_CODE_REJOIN_REQUIRED
    assert answer.error.rejoin_required
    assert "no longer buffered" in answer.error.message


async def test_a_client_ahead_of_the_server_is_refused(stack: Stack) -> None:
    await stack.mc.create_meeting("m", generation=1)
    bob_t, bob = await stack.join("m", "bob")
    bob_t.client_hang_up()
    _, answer = await stack.connect(
        sig.JoinRequest(
            meeting_id="m",
            join_token=stack.token("m", user="bob"),
            session_token=bob.session_token,
            last_sequence_number=99,
        )
    )
    assert answer.error.code == sig.ERROR_CODE_SEQUENCE_AHEAD


async def test_another_participants_or_meetings_session_token_is_refused(stack: Stack) -> None:
    await stack.mc.create_meeting("m", generation=1)
    await stack.mc.create_meeting("other", generation=1)
    _, other = await stack.join("other", "olga")
    _, answer = await stack.connect(
        sig.JoinRequest(
            meeting_id="m",
            join_token=stack.token("m", user="olga"),
            session_token=other.session_token,
        )
    )
    assert answer.error.code == sig.ERROR_CODE_INVALID_SESSION_TOKEN


async def test_an_expired_session_token_is_refused(stack: Stack) -> None:
    await stack.mc.create_meeting("m", generation=1)
    bob_t, bob = await stack.join("m", "bob")
    bob_t.client_hang_up()
    stack.clock.now += 301
    _, answer = await stack.connect(
        sig.JoinRequest(
            meeting_id="m",
            join_token=stack.token("m", user="bob"),
            session_token=bob.session_token,
            last_sequence_number=1,
        )
    )
    assert answer.error.code == sig.ERROR_CODE_SESSION_EXPIRED
    assert answer.error.rejoin_required


async def test_a_forged_session_token_is_refused(stack: Stack) -> None:
    await stack.mc.create_meeting("m", generation=1)
    _, bob = await stack.join("m", "bob")
    forged = bob.session_token[:-4] + ("AAAA" if not bob.session_token.endswith("AAAA") else "BBBB")
    _, answer = await stack.connect(
        sig.JoinRequest(meeting_id="m", join_token=stack.token("m"), session_token=forged)
    )
    assert answer.error.code == sig.ERROR_CODE_INVALID_SESSION_TOKEN


@pytest.mark.parametrize(
    ("mutate", "code"),
    [
        (lambda s, t: "", sig.ERROR_CODE_INVALID_JOIN_TOKEN),
        (lambda s, t: t[:-3] + "abc", sig.ERROR_CODE_INVALID_JOIN_TOKEN),
        (lambda s, t: s.token("elsewhere"), sig.ERROR_CODE_MEETING_MISMATCH),
    ],
    ids=["missing", "forged", "other-meeting"],
)
async def test_a_bad_join_token_is_refused_and_nothing_changes(
    stack: Stack, mutate: object, code: int
) -> None:
    await stack.mc.create_meeting("m", generation=1)
    host_t, _ = await stack.join("m", "hana", role="host")
    token = mutate(stack, stack.token("m"))  # type: ignore[operator]
    transport, answer = await stack.connect(sig.JoinRequest(meeting_id="m", join_token=token))
    assert answer.error.code == code
    assert answer.sequence_number == 0
    assert transport.closed is not None
    assert host_t.drain() == []  # nobody saw anything
    snapshot = await stack.mc.get_meeting("m")
    assert snapshot is not None
    assert snapshot.participants == 1


async def test_an_expired_join_token_is_refused(stack: Stack) -> None:
    await stack.mc.create_meeting("m", generation=1)
    token = stack.token("m")
    stack.clock.now += 601
    _, answer = await stack.connect(sig.JoinRequest(meeting_id="m", join_token=token))
    assert answer.error.code == sig.ERROR_CODE_JOIN_TOKEN_EXPIRED


async def test_a_meeting_this_mc_does_not_host_is_refused(stack: Stack) -> None:
    _, answer = await stack.connect(
        sig.JoinRequest(meeting_id="nowhere", join_token=stack.token("nowhere"))
    )
    assert answer.error.code == sig.ERROR_CODE_MEETING_NOT_FOUND


async def test_messages_before_the_join_are_refused_then_the_session_closed(stack: Stack) -> None:
    transport = MemoryTransport()
    transport.client_send(sig.ClientMessage(mute=sig.MuteRequest(muted=True)))
    transport.client_send_raw(b"\x0a\xff\xff")
    transport.client_send(sig.ClientMessage(ping=sig.Ping(nonce=1)))
    await stack.gateway.handle_session(transport)
    codes = [m.error.code for m in transport.drain()]
    assert codes == [
        sig.ERROR_CODE_NOT_JOINED,
        sig.ERROR_CODE_MALFORMED_MESSAGE,
        sig.ERROR_CODE_NOT_JOINED,
        sig.ERROR_CODE_NOT_JOINED,
    ]
    assert transport.closed is not None


async def test_a_second_join_on_a_joined_session_is_refused(stack: Stack) -> None:
    await stack.mc.create_meeting("m", generation=1)
    bob_t, _ = await stack.join("m", "bob")
    bob_t.client_send(
        sig.ClientMessage(join=sig.JoinRequest(meeting_id="m", join_token=stack.token("m")))
    )
    assert (await bob_t.next()).error.code == sig.ERROR_CODE_ALREADY_JOINED


async def test_host_mute_from_a_non_host_is_refused_and_changes_nothing(stack: Stack) -> None:
    await stack.mc.create_meeting("m", generation=1)
    host_t, host = await stack.join("m", "hana", role="host")
    bob_t, _ = await stack.join("m", "bob")
    await host_t.next()
    bob_t.client_send(
        sig.ClientMessage(
            host_mute=sig.HostMuteRequest(target_participant_id=host.participant_id, muted=True)
        )
    )
    assert (await bob_t.next()).error.code == sig.ERROR_CODE_PERMISSION_DENIED
    assert host_t.drain() == []


async def test_another_participants_session_token_is_refused_for_another_user(
    stack: Stack,
) -> None:
    await stack.mc.create_meeting("m", generation=1)
    bob_t, bob = await stack.join("m", "bob")
    bob_t.client_hang_up()
    # mallory got hold of bob's session token, but her join token names her
    _, answer = await stack.connect(
        sig.JoinRequest(
            meeting_id="m",
            join_token=stack.token("m", user="mallory"),
            session_token=bob.session_token,
            last_sequence_number=1,
        )
    )
    assert answer.error.code == sig.ERROR_CODE_INVALID_SESSION_TOKEN
    assert "another user" in answer.error.message
    # bob himself can still resume: the attempt did not spend his token
    _, mine = await stack.connect(
        sig.JoinRequest(
            meeting_id="m",
            join_token=stack.token("m", user="bob"),
            session_token=bob.session_token,
            last_sequence_number=1,
        )
    )
    assert mine.join_response.resumed
