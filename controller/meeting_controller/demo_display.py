"""What the demo shows: the live progress block, the summary and the final JSON line.

Rendering is pure (lists of lines from plain values) so it is easy to test; :class:`Screen`
is the only part that writes. On a terminal the progress block is redrawn in place (ANSI:
cursor up, erase below) and messages appear above it; anywhere else (a pipe, a file, CI logs)
each refresh is printed as plain lines, a few seconds apart.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
from collections.abc import Callable, Mapping, Sequence
from typing import Any

#: ANSI: move the cursor to the start of the line ``n`` lines up, then erase to the end.
_UP = "\x1b[{n}F"
_ERASE_BELOW = "\x1b[J"


@dataclasses.dataclass(frozen=True)
class McRow:
    """One MC in the progress block.

    ``meetings`` and ``participants`` are what the MC itself last reported to the GC (its
    heartbeat); ``clients`` is how many of the demo's participants are connected to it now.
    """

    mc_id: str
    state: str
    meetings: int | None
    participants: int | None
    clients: int


@dataclasses.dataclass(frozen=True)
class Progress:
    """Everything one refresh of the progress block shows."""

    clock: str
    phase: str
    elapsed: float
    rows: Sequence[McRow]
    joined: int
    wanted: int
    joins_per_second: float
    join_p99_ms: float | None
    mute_changes: int
    resumes: int


def mc_state(record: Mapping[str, Any] | None, *, exited: bool) -> str:
    """An MC's state as the demo shows it, from its ``GET /v1/mcs`` record (pure)."""
    if exited:
        return "exited"
    if record is None:
        return "unregistered"
    if not record.get("alive"):
        return "silent"
    return str(record.get("state", "?"))


def _number(value: int | None) -> str:
    return "-" if value is None else str(value)


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f} ms"


def progress_lines(progress: Progress) -> list[str]:
    """The progress block: a title, one line per MC, the totals and the join figures."""
    header = ("MC", "state", "meetings", "participants", "clients")
    rows = [
        (
            row.mc_id,
            row.state,
            _number(row.meetings),
            _number(row.participants),
            str(row.clients),
        )
        for row in progress.rows
    ]
    total = (
        "total",
        "",
        str(sum(row.meetings or 0 for row in progress.rows)),
        str(sum(row.participants or 0 for row in progress.rows)),
        str(sum(row.clients for row in progress.rows)),
    )
    table = [header, *rows, total]
    widths = [max(len(row[column]) for row in table) for column in range(len(header))]

    def line(cells: Sequence[str]) -> str:
        left = [cells[0].ljust(widths[0]), cells[1].ljust(widths[1])]
        right = [cell.rjust(width) for cell, width in zip(cells[2:], widths[2:], strict=True)]
        return "  " + "  ".join([*left, *right]).rstrip()

    return [
        f"[{progress.clock}] {progress.phase} ({progress.elapsed:.0f} s)",
        *(line(cells) for cells in table),
        f"  joined {progress.joined}/{progress.wanted}, "
        f"{progress.joins_per_second:.1f} joins/s, join p99 {_ms(progress.join_p99_ms)}; "
        f"{progress.mute_changes} mute changes, {progress.resumes} resumes",
    ]


def result_json(result: Mapping[str, Any]) -> str:
    """The final machine-readable line: compact JSON, keys in the order given."""
    return json.dumps(dict(result), separators=(",", ":"))


class Screen:
    """Writes messages and the progress block; see the module docstring."""

    def __init__(
        self, out: Callable[[str], None], *, tty: bool, width: Callable[[], int] | None = None
    ) -> None:
        """``width`` tells the terminal's width: block lines are cut to fit (a wrapped line
        would throw the in-place redraw off by a line)."""
        self._out = out
        self.tty = tty
        self._width = width or (lambda: shutil.get_terminal_size().columns)
        self._block: list[str] = []

    def message(self, text: str) -> None:
        """A line that stays: above the live block on a terminal."""
        if not self.tty or not self._block:
            self._out(text)
            return
        block, self._block = self._block, []
        self._out(self._erase(len(block)) + text)
        self._draw(block)

    def progress(self, lines: Sequence[str]) -> None:
        """Show the progress block: in place on a terminal, as new lines otherwise."""
        if not self.tty:
            for text in lines:
                self._out(text)
            return
        width = max(20, self._width() - 1)
        lines = [text[:width] for text in lines]
        previous, self._block = len(self._block), []
        if previous and lines:
            self._out(self._erase(previous) + lines[0])
            self._block.append(lines[0])
            self._draw(lines[1:])
        else:
            self._draw(lines)

    def freeze(self) -> None:
        """Leave the last block where it is; what comes next is printed below it."""
        self._block = []

    def _draw(self, lines: Sequence[str]) -> None:
        for text in lines:
            self._out(text)
            self._block.append(text)

    @staticmethod
    def _erase(lines: int) -> str:
        return _UP.format(n=lines) + _ERASE_BELOW
