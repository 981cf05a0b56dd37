"""Per-participant event streams: sequence numbers and the bounded recovery buffer.

Every message the MC sends a joined participant takes the next number of that participant's
stream (1, 2, 3, ...), and a copy is kept in a bounded buffer. A participant that reconnects
says which number it processed last; the stream answers with exactly the messages after it,
or with ``None`` when some of them have already fallen out of the buffer (the client must then
rejoin: a silent partial state is never an option). Purely data-manipulative, no I/O.
"""

from __future__ import annotations

import collections

from meeting_controller.protocol import signaling_pb2


class EventStream:
    """One participant's numbered, replayable stream of server messages."""

    def __init__(self, *, capacity: int, next_sequence: int = 1) -> None:
        if capacity < 1:
            raise ValueError(f"event buffer capacity must be >= 1, got {capacity}")
        if next_sequence < 1:
            raise ValueError(f"sequence numbers start at 1, got {next_sequence}")
        self._buffer: collections.deque[signaling_pb2.ServerMessage] = collections.deque(
            maxlen=capacity
        )
        self._next = next_sequence
        #: False after a crash failover: the numbering is unknown until the client says
        #: where it stands (see :meth:`anchor`).
        self.anchored = True

    @classmethod
    def restore(
        cls,
        *,
        capacity: int,
        next_sequence: int,
        buffered: list[signaling_pb2.ServerMessage],
    ) -> EventStream:
        """Continue a stream handed over by another MC (live migration)."""
        stream = cls(capacity=capacity, next_sequence=next_sequence)
        for message in buffered[-capacity:]:
            stream._buffer.append(message)
        return stream

    @classmethod
    def unanchored(cls, *, capacity: int) -> EventStream:
        """A stream whose numbering died with a crashed MC (failover without hand-off)."""
        stream = cls(capacity=capacity)
        stream.anchored = False
        return stream

    def anchor(self, last_sequence: int) -> None:
        """Continue the numbering after the client's last processed number.

        After a crash nothing newer than what the client saw can be recovered (the events in
        flight died with the MC), so the client's word is the only truth there is.
        """
        self._next = last_sequence + 1
        self._buffer.clear()
        self.anchored = True

    @property
    def next_sequence(self) -> int:
        return self._next

    @property
    def last_sequence(self) -> int:
        """The number of the newest message (0 before the first one)."""
        return self._next - 1

    @property
    def capacity(self) -> int:
        maxlen = self._buffer.maxlen
        assert maxlen is not None
        return maxlen

    def stamp(self, message: signaling_pb2.ServerMessage) -> signaling_pb2.ServerMessage:
        """Number ``message`` (a copy), remember it and return the numbered copy."""
        numbered = signaling_pb2.ServerMessage()
        numbered.CopyFrom(message)
        numbered.sequence_number = self._next
        self._next += 1
        self._buffer.append(numbered)
        return numbered

    def since(self, last_sequence: int) -> list[signaling_pb2.ServerMessage] | None:
        """The messages after ``last_sequence``, or ``None`` when the buffer lost some.

        ``last_sequence`` beyond the newest message is the caller's problem to reject (the
        client claims to have seen what was never sent); this raises ``ValueError`` for it.
        """
        if last_sequence > self.last_sequence:
            raise ValueError(
                f"last_sequence_number {last_sequence} is ahead of the stream "
                f"({self.last_sequence})"
            )
        if last_sequence == self.last_sequence:
            return []
        oldest = self._buffer[0].sequence_number if self._buffer else self._next
        if last_sequence + 1 < oldest:
            return None
        return [m for m in self._buffer if m.sequence_number > last_sequence]

    def buffered(self) -> list[signaling_pb2.ServerMessage]:
        """Everything still in the buffer (for handing a meeting over to another MC)."""
        return list(self._buffer)
