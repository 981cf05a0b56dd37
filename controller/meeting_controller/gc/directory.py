"""The reference GC's meeting directory: which MC hosts which meeting. Pure, in memory.

The generation is the fencing generation the hosting MC answered the assignment with; the GC
hands it back on the next assignment of the same meeting (failover), so the new MC can tell a
legitimate takeover from a stale retry.

Lost on a GC restart, like the registry; the GC then finds meetings again through the MCs
(an assignment that is refused as stale makes it ask the fleet, see ``placer``).

A live migration moves a meeting without the GC placing it: the source MC reports the move
(:meth:`MeetingDirectory.move`), and the fencing generation decides between notices that
arrive out of order.
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Iterator


@dataclasses.dataclass(frozen=True, slots=True)
class MeetingEntry:
    meeting_id: str
    mc_id: str
    generation: int
    """The fencing generation the MC holds the meeting under (0 if it did not say)."""
    placed_at: float
    """Monotonic seconds: when the GC recorded this placement."""
    region: str | None = None
    """The region the meeting was asked for (``None``: any); a failover stays in it."""


class MoveOutcome(enum.Enum):
    """What :meth:`MeetingDirectory.move` did with a notice."""

    MOVED = "moved"
    """The directory points at the new MC now."""
    DUPLICATE = "duplicate"
    """It already did (a repeated notice): nothing changed."""
    STALE = "stale"
    """The notice is older than what the directory knows: ignored."""


class MeetingDirectory:
    """meeting id -> :class:`MeetingEntry`."""

    def __init__(self) -> None:
        self._entries: dict[str, MeetingEntry] = {}

    def get(self, meeting_id: str) -> MeetingEntry | None:
        return self._entries.get(meeting_id)

    def __iter__(self) -> Iterator[MeetingEntry]:
        return iter(list(self._entries.values()))

    def __len__(self) -> int:
        return len(self._entries)

    def record(
        self,
        *,
        meeting_id: str,
        mc_id: str,
        generation: int,
        now: float,
        region: str | None = None,
    ) -> MeetingEntry:
        entry = MeetingEntry(
            meeting_id=meeting_id,
            mc_id=mc_id,
            generation=generation,
            placed_at=now,
            region=region,
        )
        self._entries[meeting_id] = entry
        return entry

    def move(
        self,
        *,
        meeting_id: str,
        from_mc_id: str,
        to_mc_id: str,
        generation: int,
        now: float,
        region: str | None = None,
    ) -> MoveOutcome:
        """Record that ``meeting_id`` moved from ``from_mc_id`` to ``to_mc_id``.

        Applied when the notice is news: the meeting is unknown here (the GC restarted), the
        notice carries a newer generation than the recorded one, or it comes from the recorded
        owner without going back in generations. Anything else is a stale notice that a later
        move or a failover has overtaken, and is ignored. A generation of 0 (the MC did not
        say) keeps the recorded generation. ``region`` is used only for a meeting the
        directory did not know; a known meeting keeps the region it was asked for.
        """
        entry = self._entries.get(meeting_id)
        if entry is not None:
            if entry.mc_id == to_mc_id and generation in (0, entry.generation):
                return MoveOutcome.DUPLICATE
            from_owner = entry.mc_id == from_mc_id and (
                generation == 0 or generation >= entry.generation
            )
            if not (generation > entry.generation or from_owner):
                return MoveOutcome.STALE
        self._entries[meeting_id] = MeetingEntry(
            meeting_id=meeting_id,
            mc_id=to_mc_id,
            generation=generation or (entry.generation if entry is not None else 0),
            placed_at=now,
            region=entry.region if entry is not None else region,
        )
        return MoveOutcome.MOVED

    def end(self, *, meeting_id: str, mc_id: str) -> bool:
        """Forget a meeting that ended on ``mc_id``.

        Only the MC the directory points at may end the meeting: a late notification from an
        MC that lost the meeting (fenced out after a failover) must not erase where it lives
        now.
        """
        entry = self._entries.get(meeting_id)
        if entry is None or entry.mc_id != mc_id:
            return False
        del self._entries[meeting_id]
        return True

    def on_mc(self, mc_id: str) -> list[MeetingEntry]:
        return [entry for entry in self._entries.values() if entry.mc_id == mc_id]

    def count_by_mc(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for entry in self._entries.values():
            counts[entry.mc_id] = counts.get(entry.mc_id, 0) + 1
        return counts
