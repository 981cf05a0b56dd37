"""A PNG bar chart of the ratios and their goals, with no dependency (zlib + struct).

One horizontal bar per ratio (green when its goal is met, red when not), a black goal mark
across each bar's row, and labels in a built-in 5x7 bitmap font (upper case, digits and a
few signs; other characters are drawn as ``?``).
"""

from __future__ import annotations

import dataclasses
import math
import struct
import zlib
from collections.abc import Sequence

from meeting_controller.bench.model import GoalOp

Color = tuple[int, int, int]
WHITE: Color = (255, 255, 255)
BLACK: Color = (0, 0, 0)
GREY: Color = (200, 200, 200)
GREEN: Color = (46, 160, 67)
RED: Color = (207, 34, 46)

#: 5x7 glyphs: seven rows of five bits each, as hex bytes (top row first).
_GLYPHS: dict[str, str] = {
    "A": "0E11111F111111",
    "B": "1E11111E11111E",
    "C": "0E11101010110E",
    "D": "1E11111111111E",
    "E": "1F10101E10101F",
    "F": "1F10101E101010",
    "G": "0E11101711110F",
    "H": "1111111F111111",
    "I": "0E04040404040E",
    "J": "0702020202120C",
    "K": "11121418141211",
    "L": "1010101010101F",
    "M": "111B1515111111",
    "N": "11111915131111",
    "O": "0E11111111110E",
    "P": "1E11111E101010",
    "Q": "0E11111115120D",
    "R": "1E11111E141211",
    "S": "0F10100E01011E",
    "T": "1F040404040404",
    "U": "1111111111110E",
    "V": "11111111110A04",
    "W": "1111111515150A",
    "X": "11110A040A1111",
    "Y": "1111110A040404",
    "Z": "1F01020408101F",
    "0": "0E11131519110E",
    "1": "040C040404040E",
    "2": "0E11010204081F",
    "3": "1F02040201110E",
    "4": "02060A121F0202",
    "5": "1F101E0101110E",
    "6": "0608101E11110E",
    "7": "1F010204080808",
    "8": "0E11110E11110E",
    "9": "0E11110F01020C",
    " ": "00000000000000",
    ".": "00000000000C0C",
    ":": "000C0C000C0C00",
    "-": "0000001F000000",
    "=": "00001F001F0000",
    "+": "0004041F040400",
    "<": "02040810080402",
    ">": "08040201020408",
    "(": "02040808080402",
    ")": "08040202020408",
    "/": "00010204081000",
    "%": "18190204081303",
    ",": "000000000C0408",
    "_": "0000000000001F",
    "?": "0E110102040004",
}
_FONT: dict[str, tuple[int, ...]] = {
    char: tuple(bytes.fromhex(rows)) for char, rows in _GLYPHS.items()
}
GLYPH_W, GLYPH_H = 5, 7


@dataclasses.dataclass(frozen=True)
class Bar:
    label: str
    ratio: float
    goal_op: GoalOp
    goal: float

    @property
    def met(self) -> bool:
        return self.ratio >= self.goal if self.goal_op == ">=" else self.ratio <= self.goal


class Canvas:
    """An RGB image in memory."""

    def __init__(self, width: int, height: int, background: Color = WHITE) -> None:
        self.width = width
        self.height = height
        self.pixels = bytearray(bytes(background) * (width * height))

    def rect(self, x0: int, y0: int, x1: int, y1: int, color: Color) -> None:
        """Fill ``[x0, x1) x [y0, y1)`` (clipped)."""
        x0, x1 = max(0, x0), min(self.width, x1)
        y0, y1 = max(0, y0), min(self.height, y1)
        if x0 >= x1 or y0 >= y1:
            return
        row = bytes(color) * (x1 - x0)
        for y in range(y0, y1):
            start = (y * self.width + x0) * 3
            self.pixels[start : start + len(row)] = row

    def text(self, x: int, y: int, text: str, color: Color = BLACK, scale: int = 2) -> int:
        """Draw ``text`` with its top-left corner at ``(x, y)``; return the x after it."""
        for char in text.upper():
            glyph = _FONT.get(char, _FONT["?"])
            for row, bits in enumerate(glyph):
                for column in range(GLYPH_W):
                    if bits & (1 << (GLYPH_W - 1 - column)):
                        px, py = x + column * scale, y + row * scale
                        self.rect(px, py, px + scale, py + scale, color)
            x += (GLYPH_W + 1) * scale
        return x

    def png(self) -> bytes:
        raw = b"".join(
            b"\x00" + bytes(self.pixels[y * self.width * 3 : (y + 1) * self.width * 3])
            for y in range(self.height)
        )
        header = struct.pack(">IIBBBBB", self.width, self.height, 8, 2, 0, 0, 0)
        return (
            b"\x89PNG\r\n\x1a\n"
            + _chunk(b"IHDR", header)
            + _chunk(b"IDAT", zlib.compress(raw, 9))
            + _chunk(b"IEND", b"")
        )


def _chunk(kind: bytes, data: bytes) -> bytes:
    return (
        struct.pack(">I", len(data))
        + kind
        + data
        + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    )


def text_width(text: str, scale: int = 2) -> int:
    return len(text) * (GLYPH_W + 1) * scale


def render(bars: Sequence[Bar], *, title: str) -> bytes:
    """The chart as PNG bytes (a note instead of bars when there is none)."""
    width = 900
    row_h = 44
    top = 56
    label_w = max([text_width(b.label) for b in bars] + [120]) + 24
    legend_h = 36
    height = top + max(1, len(bars)) * row_h + legend_h
    canvas = Canvas(width, height)
    canvas.text(16, 16, title, scale=2)
    if not bars:
        canvas.text(16, top + 10, "NO RATIOS IN THIS RUN", color=GREY)
        return canvas.png()
    right_text_w = text_width("0.00 GOAL >= 0.0 ") + 8
    plot_x0 = label_w
    plot_x1 = width - right_text_w
    finite = [b.ratio for b in bars if math.isfinite(b.ratio)] + [b.goal for b in bars]
    scale_max = max(finite) * 1.1 if finite else 1.0
    scale_max = max(scale_max, 0.1)

    def x_of(value: float) -> int:
        value = min(max(value, 0.0), scale_max)
        return plot_x0 + round((plot_x1 - plot_x0) * value / scale_max)

    # axis: 0 and the scale's end, with light grid lines at round values
    step = _nice_step(scale_max)
    tick = 0.0
    while tick <= scale_max + 1e-9:
        x = x_of(tick)
        canvas.rect(x, top - 6, x + 1, top + len(bars) * row_h, GREY)
        canvas.text(x - text_width(f"{tick:g}", 1) // 2, top - 16, f"{tick:g}", GREY, scale=1)
        tick += step
    for index, bar in enumerate(bars):
        y = top + index * row_h
        canvas.text(12, y + 14, bar.label, scale=2)
        color = GREEN if bar.met else RED
        canvas.rect(plot_x0, y + 8, x_of(bar.ratio), y + row_h - 8, color)
        goal_x = x_of(bar.goal)
        canvas.rect(goal_x - 1, y + 2, goal_x + 2, y + row_h - 2, BLACK)
        canvas.text(
            plot_x1 + 8, y + 14, f"{bar.ratio:.2f} GOAL {bar.goal_op} {bar.goal:g}", scale=2
        )
    legend_y = top + len(bars) * row_h + 10
    x = canvas.text(12, legend_y, "RATIO = OURS / BASELINE.  ", scale=1)
    canvas.rect(x, legend_y, x + 10, legend_y + 7, GREEN)
    x = canvas.text(x + 14, legend_y, "GOAL MET  ", scale=1)
    canvas.rect(x, legend_y, x + 10, legend_y + 7, RED)
    x = canvas.text(x + 14, legend_y, "NOT MET  ", scale=1)
    canvas.rect(x, legend_y - 1, x + 3, legend_y + 8, BLACK)
    canvas.text(x + 8, legend_y, "GOAL", scale=1)
    return canvas.png()


def _nice_step(span: float) -> float:
    raw = span / 5
    magnitude = 10 ** math.floor(math.log10(raw))
    for factor in (1.0, 2.0, 2.5, 5.0, 10.0):
        if raw <= factor * magnitude:
            return float(factor * magnitude)
    return float(10 * magnitude)
