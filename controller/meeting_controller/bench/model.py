"""What a benchmark reports: one :class:`Result` per row of the table."""

from __future__ import annotations

import dataclasses
import math
import statistics
from collections.abc import Sequence
from typing import Any, Literal

GoalOp = Literal[">=", "<="]


@dataclasses.dataclass(frozen=True)
class Goal:
    """``ratio <op> value`` is the goal (``>=`` for throughput, ``<=`` for times)."""

    op: GoalOp
    value: float

    def met(self, ratio: float) -> bool:
        return ratio >= self.value if self.op == ">=" else ratio <= self.value

    def __str__(self) -> str:
        return f"{self.op} {self.value:g}"


@dataclasses.dataclass
class Result:
    """One row: our figure, the same-run baseline of the library underneath, their ratio."""

    benchmark: str
    """The ``--only`` name of the benchmark that produced the row."""
    name: str
    """A short stable key, e.g. ``fanout-50``."""
    title: str
    unit: str
    ours: float | None = None
    baseline: float | None = None
    baseline_label: str = ""
    ratio: float | None = None
    """ours / baseline (always in this direction; the goal says which way is good)."""
    goal: Goal | None = None
    details: dict[str, Any] = dataclasses.field(default_factory=dict)
    note: str = ""
    error: str | None = None

    @property
    def met(self) -> bool | None:
        if self.goal is None or self.ratio is None or self.error is not None:
            return None
        return self.goal.met(self.ratio)

    def compute_ratio(self) -> None:
        if self.ours is not None and self.baseline not in (None, 0.0):
            assert self.baseline is not None
            self.ratio = self.ours / self.baseline

    def to_json(self) -> dict[str, Any]:
        return {
            "benchmark": self.benchmark,
            "name": self.name,
            "title": self.title,
            "unit": self.unit,
            "ours": _finite(self.ours),
            "baseline": _finite(self.baseline),
            "baseline_label": self.baseline_label,
            "ratio": _finite(self.ratio),
            "goal": None if self.goal is None else {"op": self.goal.op, "value": self.goal.value},
            "met": self.met,
            "note": self.note,
            "error": self.error,
            "details": self.details,
        }


def _finite(value: float | None) -> float | None:
    if value is None or not math.isfinite(value):
        return None
    return round(value, 6)


def percentile(values: Sequence[float], fraction: float) -> float:
    """The ``fraction`` quantile (linear interpolation between closest ranks)."""
    if not values:
        raise ValueError("no values")
    ordered = sorted(values)
    if len(ordered) == 1:
        return ordered[0]
    position = fraction * (len(ordered) - 1)
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def median(values: Sequence[float]) -> float:
    return statistics.median(values)
