"""Length-prefixed framing: round trips under any split, and hostile input."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from meeting_controller.framing import (
    FrameDecoder,
    FrameTooLarge,
    TruncatedFrame,
    encode_frame,
)


def test_a_frame_is_its_big_endian_length_then_the_payload() -> None:
    assert encode_frame(b"abc") == b"\x00\x00\x00\x03abc"
    assert encode_frame(b"") == b"\x00\x00\x00\x00"


def test_frames_split_across_chunks_are_reassembled() -> None:
    decoder = FrameDecoder()
    data = encode_frame(b"hello") + encode_frame(b"") + encode_frame(b"world")
    assert decoder.feed(data[:2]) == []
    assert decoder.feed(data[2:7]) == []
    assert decoder.feed(data[7:]) == [b"hello", b"", b"world"]
    assert decoder.buffered == 0
    decoder.finish()


def test_an_oversized_header_fails_before_the_body_arrives_and_stays_failed() -> None:
    decoder = FrameDecoder(max_size=10)
    with pytest.raises(FrameTooLarge, match="11 bytes exceeds the maximum frame size of 10"):
        decoder.feed(b"\x00\x00\x00\x0b")
    with pytest.raises(FrameTooLarge):
        decoder.feed(encode_frame(b"ok"))


def test_the_encoder_refuses_what_the_peer_would_refuse() -> None:
    with pytest.raises(FrameTooLarge):
        encode_frame(b"x" * 11, max_size=10)


def test_a_stream_ending_inside_a_frame_is_truncated() -> None:
    decoder = FrameDecoder()
    decoder.feed(encode_frame(b"hello")[:-1])
    with pytest.raises(TruncatedFrame, match="incomplete frame"):
        decoder.finish()


@given(
    payloads=st.lists(st.binary(max_size=300), max_size=20),
    cuts=st.lists(st.integers(min_value=0, max_value=10_000), max_size=30),
)
def test_any_split_of_any_frames_round_trips(payloads: list[bytes], cuts: list[int]) -> None:
    stream = b"".join(encode_frame(p, max_size=300) for p in payloads)
    bounds = sorted({0, len(stream), *(c % (len(stream) + 1) for c in cuts)})
    decoder = FrameDecoder(max_size=300)
    frames: list[bytes] = []
    for start, end in itertools.pairwise(bounds):
        frames.extend(decoder.feed(stream[start:end]))
    assert frames == payloads
    decoder.finish()


@given(noise=st.binary(max_size=2000))
def test_random_bytes_yield_frames_or_a_frame_error_nothing_else(noise: bytes) -> None:
    decoder = FrameDecoder(max_size=64)
    try:
        frames = decoder.feed(noise)
    except FrameTooLarge:
        return
    assert all(len(f) <= 64 for f in frames)
