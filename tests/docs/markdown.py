"""Just enough Markdown for the documentation tests: tables, headings and their anchors, links.

GitHub-flavoured rules, the subset the project's docs use. Fenced code blocks are skipped
everywhere (a link or a table inside an example is not part of the document), and so are
inline code spans when looking for links.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator

_FENCE = re.compile(r"^\s*(```|~~~)")
_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_CODE_SPAN = re.compile(r"(`+)(.+?)\1")
#: ``[text](target)`` and ``![alt](target)``, with an optional title; the text may contain
#: code spans but no nested brackets.
_INLINE_LINK = re.compile(r"!?\[([^\[\]]*)\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
#: ``[label]: target`` reference definitions.
_REFERENCE = re.compile(r"^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+.*)?$")


@dataclasses.dataclass(frozen=True)
class Link:
    target: str
    line: int


def prose_lines(text: str) -> Iterator[tuple[int, str]]:
    """``(line number, line)`` of every line outside fenced code blocks (1-based numbers)."""
    fence: str | None = None
    for number, line in enumerate(text.splitlines(), start=1):
        match = _FENCE.match(line)
        if match is not None:
            if fence is None:
                fence = match.group(1)
            elif match.group(1) == fence:
                fence = None
            continue
        if fence is None:
            yield number, line


def table_rows(text: str) -> list[list[str]]:
    """The cells of every table row (header and separator rows included), stripped."""
    rows = []
    for _, line in prose_lines(text):
        stripped = line.strip()
        if stripped.startswith("|") and stripped.endswith("|") and len(stripped) > 1:
            rows.append([cell.strip() for cell in stripped[1:-1].split("|")])
    return rows


def links(text: str) -> list[Link]:
    """Every link target outside code blocks and code spans."""
    found: list[Link] = []
    for number, line in prose_lines(text):
        without_code = _CODE_SPAN.sub(lambda m: " " * len(m.group(0)), line)
        found.extend(Link(m.group(2), number) for m in _INLINE_LINK.finditer(without_code))
        reference = _REFERENCE.match(without_code)
        if reference is not None:
            found.append(Link(reference.group(1), number))
    return found


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: the rendered text, lower-cased, punctuation dropped,
    spaces turned into hyphens."""
    text = _CODE_SPAN.sub(lambda m: m.group(2), heading)
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", text)  # links render as their text
    text = re.sub(r"\*{1,3}(\S.*?\S|\S)\*{1,3}", r"\1", text)  # *emphasis*
    text = text.strip().lower()
    text = "".join(c for c in text if c.isalnum() or c in " -_")
    return text.replace(" ", "-")


def anchors(text: str) -> set[str]:
    """The anchors of every heading; repeated headings get ``-1``, ``-2``... as on GitHub."""
    seen: dict[str, int] = {}
    result = set()
    for _, line in prose_lines(text):
        match = _HEADING.match(line)
        if match is None:
            continue
        base = slug(match.group(2))
        count = seen.get(base, 0)
        seen[base] = count + 1
        result.add(base if count == 0 else f"{base}-{count}")
    return result
