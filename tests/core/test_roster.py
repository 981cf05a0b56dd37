"""The roster state machine: who is in the meeting, mute rules, numbered deliveries."""

from __future__ import annotations

import pytest

from meeting_controller.core.roster import Delivery, Roster, RosterError
from meeting_controller.protocol import signaling_pb2 as sig


@pytest.fixture
def roster() -> Roster:
    r = Roster(buffer_size=16)
    r.add(participant_id="host", display_name="Host", role=sig.ROLE_HOST)
    r.add(participant_id="ann", display_name="Ann", role=sig.ROLE_PARTICIPANT)
    r.add(participant_id="ben", display_name="Ben", role=sig.ROLE_PARTICIPANT)
    return r


def recipients(deliveries: list[Delivery]) -> list[str]:
    return [d.participant_id for d in deliveries]


def test_a_join_is_announced_to_everyone_else(roster: Roster) -> None:
    deliveries = roster.add(participant_id="cat", display_name="Cat", role=sig.ROLE_PARTICIPANT)
    assert recipients(deliveries) == ["host", "ann", "ben"]
    assert all(d.message.participant_joined.participant.participant_id == "cat" for d in deliveries)


def test_joining_twice_is_refused(roster: Roster) -> None:
    with pytest.raises(RosterError) as caught:
        roster.add(participant_id="ann", display_name="Ann", role=sig.ROLE_PARTICIPANT)
    assert caught.value.code == sig.ERROR_CODE_ALREADY_JOINED


def test_sequence_numbers_are_per_participant(roster: Roster) -> None:
    # host saw ann and ben join (1, 2); ann saw ben (1); ben saw nothing yet.
    deliveries = roster.set_self_muted("ann", muted=True)
    assert {d.participant_id: d.message.sequence_number for d in deliveries} == {
        "host": 3,
        "ann": 2,
        "ben": 1,
    }


def test_self_mute_needs_no_permission_and_reaches_everyone(roster: Roster) -> None:
    deliveries = roster.set_self_muted("ben", muted=True)
    assert recipients(deliveries) == ["host", "ann", "ben"]
    update = deliveries[0].message.mute_update
    assert (update.participant_id, update.is_self_muted, update.is_host_muted) == (
        "ben",
        True,
        False,
    )


def test_only_a_host_may_host_mute(roster: Roster) -> None:
    with pytest.raises(RosterError) as caught:
        roster.set_host_muted("ann", target_id="ben", muted=True)
    assert caught.value.code == sig.ERROR_CODE_PERMISSION_DENIED
    assert not roster.get("ben").is_host_muted


def test_a_host_muted_participant_cannot_unmute_itself(roster: Roster) -> None:
    roster.set_self_muted("ben", muted=True)
    roster.set_host_muted("host", target_id="ben", muted=True)
    with pytest.raises(RosterError) as caught:
        roster.set_self_muted("ben", muted=False)
    assert caught.value.code == sig.ERROR_CODE_HOST_MUTED
    record = roster.get("ben")
    assert (record.is_self_muted, record.is_host_muted) == (True, True)


def test_unmute_request_reaches_hosts_and_approval_lifts_the_mute(roster: Roster) -> None:
    roster.set_host_muted("host", target_id="ben", muted=True)
    requested = roster.request_unmute("ben", reason="I have a question")
    assert recipients(requested) == ["host"]
    assert requested[0].message.unmute_requested.participant_id == "ben"

    approved = roster.decide_unmute("host", participant_id="ben", approved=True)
    assert recipients(approved) == ["host", "ann", "ben"]
    assert not approved[0].message.mute_update.is_host_muted
    assert not roster.get("ben").is_host_muted


def test_a_denied_unmute_request_is_told_to_the_requester_only(roster: Roster) -> None:
    roster.set_host_muted("host", target_id="ben", muted=True)
    denied = roster.decide_unmute("host", participant_id="ben", approved=False)
    assert recipients(denied) == ["ben"]
    assert denied[0].message.unmute_denied.denied_by == "host"
    assert roster.get("ben").is_host_muted


def test_a_non_host_cannot_decide_unmute_requests(roster: Roster) -> None:
    roster.set_host_muted("host", target_id="ben", muted=True)
    with pytest.raises(RosterError) as caught:
        roster.decide_unmute("ann", participant_id="ben", approved=True)
    assert caught.value.code == sig.ERROR_CODE_PERMISSION_DENIED


def test_asking_for_unmute_without_a_host_mute_is_refused(roster: Roster) -> None:
    with pytest.raises(RosterError) as caught:
        roster.request_unmute("ann", reason="")
    assert caught.value.code == sig.ERROR_CODE_PERMISSION_DENIED


def test_a_disconnect_is_announced_once(roster: Roster) -> None:
    assert recipients(roster.set_connected("ann", connected=False)) == ["host", "ben"]
    assert roster.set_connected("ann", connected=False) == []
    assert roster.connected_count == 2
    assert [p.connected for p in roster.snapshot()] == [True, False, True]


def test_leaving_is_announced_with_its_reason(roster: Roster) -> None:
    deliveries = roster.remove("ben", reason=sig.LEAVE_REASON_TIMEOUT)
    assert recipients(deliveries) == ["host", "ann"]
    assert deliveries[0].message.participant_left.reason == sig.LEAVE_REASON_TIMEOUT
    assert "ben" not in roster


def test_unknown_participants_are_refused(roster: Roster) -> None:
    with pytest.raises(RosterError) as caught:
        roster.set_host_muted("host", target_id="nobody", muted=True)
    assert caught.value.code == sig.ERROR_CODE_UNKNOWN_PARTICIPANT
