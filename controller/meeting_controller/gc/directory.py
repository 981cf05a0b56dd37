"""The reference GC's meeting directory: which MC hosts which meeting. Pure, in memory.

The generation is the fencing generation the hosting MC answered the assignment with; the GC
hands it back on the next assignment of the same meeting (failover), so the new MC can tell a
legitimate takeover from a stale retry.

Lost on a GC restart, like the registry; the GC then finds meetings again through the MCs
(an assignment that is refused as stale makes it ask the fleet, see ``placer``).
"""

from __future__ import annotations

import dataclasses
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
