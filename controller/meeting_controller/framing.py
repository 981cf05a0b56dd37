"""Length-prefixed framing of signaling messages on a WebTransport stream.

A stream is a byte pipe: message boundaries are ours to draw. Each message is preceded by its
length as a 4-byte big-endian unsigned integer - trivial to produce and parse in a browser with
a ``DataView`` - and no frame may be longer than the negotiated maximum (default 64 KiB), so a
peer cannot make the MC buffer arbitrary amounts of memory by announcing a huge frame.

A frame that is too large cannot be skipped safely (the stream would have to be read through
an attacker-chosen length), so it is fatal for the stream: the MC answers with an Error and
closes the session. Purely data-manipulative, no I/O.
"""

from __future__ import annotations

import struct

HEADER = struct.Struct(">I")
HEADER_SIZE = HEADER.size
DEFAULT_MAX_FRAME_SIZE = 64 * 1024


class FrameError(Exception):
    """The peer sent bytes that are not a valid sequence of frames."""


class FrameTooLarge(FrameError):
    """A frame announced more bytes than the maximum frame size."""

    def __init__(self, *, size: int, limit: int) -> None:
        super().__init__(f"frame of {size} bytes exceeds the maximum frame size of {limit} bytes")
        self.size = size
        self.limit = limit


class TruncatedFrame(FrameError):
    """The stream ended in the middle of a frame."""


def encode_frame(payload: bytes, *, max_size: int = DEFAULT_MAX_FRAME_SIZE) -> bytes:
    """Prefix ``payload`` with its length; refuses payloads the peer would refuse too."""
    if len(payload) > max_size:
        raise FrameTooLarge(size=len(payload), limit=max_size)
    return HEADER.pack(len(payload)) + payload


class FrameDecoder:
    """Reassemble frames from arbitrarily split stream chunks."""

    def __init__(self, *, max_size: int = DEFAULT_MAX_FRAME_SIZE) -> None:
        if max_size < 1:
            raise ValueError(f"max_size must be >= 1, got {max_size}")
        self._max_size = max_size
        self._buffer = bytearray()
        self._failed: FrameError | None = None

    @property
    def max_size(self) -> int:
        return self._max_size

    @property
    def buffered(self) -> int:
        """Bytes received but not yet part of a complete frame."""
        return len(self._buffer)

    def feed(self, data: bytes) -> list[bytes]:
        """Add ``data``; return every frame it completes, in order.

        Raises :class:`FrameTooLarge` as soon as a header announces too much (before the body
        arrives), and keeps raising it afterwards: the stream cannot be trusted any more.
        """
        if self._failed is not None:
            raise self._failed
        self._buffer += data
        frames: list[bytes] = []
        while len(self._buffer) >= HEADER_SIZE:
            (size,) = HEADER.unpack_from(self._buffer)
            if size > self._max_size:
                self._failed = FrameTooLarge(size=size, limit=self._max_size)
                self._buffer.clear()
                raise self._failed
            end = HEADER_SIZE + size
            if len(self._buffer) < end:
                break
            frames.append(bytes(self._buffer[HEADER_SIZE:end]))
            del self._buffer[:end]
        return frames

    def finish(self) -> None:
        """The stream ended: fail if it ended inside a frame."""
        if self._buffer:
            raise TruncatedFrame(
                f"the stream ended inside a frame "
                f"({len(self._buffer)} bytes of an incomplete frame)"
            )
