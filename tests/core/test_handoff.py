"""Roster and stream hand-off: what a target MC continues from, and crash-failover anchoring."""

from __future__ import annotations

import pytest

from meeting_controller.core.roster import Roster, RosterError
from meeting_controller.core.streams import EventStream
from meeting_controller.protocol import signaling_pb2 as sig


def pong(n: int) -> sig.ServerMessage:
    return sig.ServerMessage(pong=sig.Pong(nonce=n))


def source_roster() -> Roster:
    roster = Roster(buffer_size=4)
    roster.add(
        participant_id="h", display_name="Host", role=sig.ROLE_HOST, session_id="s-h", nonce="nh"
    )
    roster.add(
        participant_id="p",
        display_name="Pat",
        role=sig.ROLE_PARTICIPANT,
        session_id="s-p",
        nonce="np",
    )
    roster.set_host_muted("h", target_id="p", muted=True)
    roster.set_self_muted("h", muted=True)
    return roster


def test_a_handed_over_roster_continues_exactly_where_the_source_stopped() -> None:
    source = source_roster()
    target = Roster(buffer_size=4)
    restored = target.restore(source.handoff())

    assert restored == ["h", "p"]
    assert [p.to_proto() for p in target.participants()] == [
        p.to_proto() for p in source.participants()
    ]
    for pid in ("h", "p"):
        assert target.stream(pid).next_sequence == source.stream(pid).next_sequence
        assert target.stream(pid).buffered() == source.stream(pid).buffered()
    # the next event is numbered right after the source's last one
    deliveries = target.set_self_muted("h", muted=False)
    numbers = {d.participant_id: d.message.sequence_number for d in deliveries}
    assert numbers == {pid: source.stream(pid).next_sequence for pid in ("h", "p")}


def test_a_taken_over_participant_resumes_without_anyone_seeing_it_come_back() -> None:
    target = Roster(buffer_size=4)
    target.restore(source_roster().handoff())
    missed, others = target.resume("p", last_sequence=1, presented_nonce="np", new_nonce="np2")
    assert [m.sequence_number for m in missed] == [2]  # the self-mute after the host-mute
    assert others == []  # it never looked gone to the others
    assert not target.get("p").awaiting_resume


def test_a_taken_over_participant_that_never_resumes_times_out() -> None:
    target = Roster(buffer_size=4)
    target.restore(source_roster().handoff())
    left = target.expire("p", epoch=0)
    assert [d.message.participant_left.reason for d in left] == [sig.LEAVE_REASON_TIMEOUT]
    assert "p" not in target


def test_the_spent_token_rule_survives_the_hand_off() -> None:
    target = Roster(buffer_size=4)
    target.restore(source_roster().handoff())
    with pytest.raises(RosterError) as refused:
        target.resume("p", last_sequence=1, presented_nonce="old", new_nonce="x")
    assert refused.value.code == sig.ERROR_CODE_SESSION_TOKEN_REUSED


def test_after_a_crash_the_clients_last_number_anchors_the_stream() -> None:
    handoff = source_roster().handoff()
    for p in handoff:
        p.next_sequence = 0
        del p.buffered[:]
    target = Roster(buffer_size=4)
    target.restore(handoff)
    missed, _ = target.resume("p", last_sequence=41, presented_nonce="np", new_nonce="n2")
    assert missed == []
    assert target.deliver("p", pong(1)).message.sequence_number == 42


def test_a_restored_stream_keeps_only_what_fits_its_buffer() -> None:
    buffered = [sig.ServerMessage(sequence_number=n, pong=sig.Pong(nonce=n)) for n in range(1, 9)]
    stream = EventStream.restore(capacity=3, next_sequence=9, buffered=buffered)
    assert [m.sequence_number for m in stream.buffered()] == [6, 7, 8]
    assert stream.since(4) is None
    recovered = stream.since(5)
    assert recovered is not None
    assert [m.sequence_number for m in recovered] == [6, 7, 8]
