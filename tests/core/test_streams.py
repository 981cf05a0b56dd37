"""Per-participant event streams: numbering and exact recovery."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from meeting_controller.core.streams import EventStream
from meeting_controller.protocol import signaling_pb2 as sig


def pong(n: int) -> sig.ServerMessage:
    return sig.ServerMessage(pong=sig.Pong(nonce=n))


def test_messages_are_numbered_from_one_and_the_original_is_untouched() -> None:
    stream = EventStream(capacity=4)
    original = pong(1)
    numbered = [stream.stamp(original), stream.stamp(pong(2))]
    assert [m.sequence_number for m in numbered] == [1, 2]
    assert original.sequence_number == 0
    assert stream.last_sequence == 2


def test_recovery_returns_exactly_the_missed_messages() -> None:
    stream = EventStream(capacity=10)
    for n in range(1, 6):
        stream.stamp(pong(n))
    missed = stream.since(2)
    assert missed is not None
    assert [m.sequence_number for m in missed] == [3, 4, 5]
    assert stream.since(5) == []


def test_a_gap_beyond_the_buffer_cannot_be_recovered() -> None:
    stream = EventStream(capacity=3)
    for n in range(1, 7):
        stream.stamp(pong(n))
    assert stream.since(2) is None
    recovered = stream.since(3)
    assert recovered is not None
    assert [m.sequence_number for m in recovered] == [4, 5, 6]


def test_a_client_ahead_of_the_server_is_refused() -> None:
    stream = EventStream(capacity=3)
    stream.stamp(pong(1))
    with pytest.raises(ValueError, match="ahead"):
        stream.since(2)


@given(
    capacity=st.integers(min_value=1, max_value=20),
    sent=st.integers(min_value=0, max_value=60),
    data=st.data(),
)
def test_recovery_is_exact_or_refused(capacity: int, sent: int, data: st.DataObject) -> None:
    stream = EventStream(capacity=capacity)
    for n in range(sent):
        stream.stamp(pong(n))
    last = data.draw(st.integers(min_value=0, max_value=sent))
    missed = stream.since(last)
    if sent - last <= capacity:
        assert missed is not None
        assert [m.sequence_number for m in missed] == list(range(last + 1, sent + 1))
    else:
        assert missed is None
