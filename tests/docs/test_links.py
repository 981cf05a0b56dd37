"""Relative links in README.md and docs/*.md lead somewhere: to a file of this repository and,
with an ``#anchor``, to a heading of that file.

A link that leaves the repository (``../something``) is a broken link in a fresh clone, even if
the file happens to exist on this machine. External links (``https://``, ``mailto:``) are not
checked: the suite runs offline.
"""

from __future__ import annotations

import urllib.parse
from pathlib import Path

import pytest

from tests.docs import markdown

REPO = Path(__file__).resolve().parents[2]
DOCUMENTS = sorted([REPO / "README.md", *(REPO / "docs").glob("*.md")])
_EXTERNAL = ("http://", "https://", "mailto:", "ftp://")


def _problems(document: Path) -> list[str]:
    text = document.read_text(encoding="utf-8")
    problems = []
    for link in markdown.links(text):
        where = f"{document.relative_to(REPO)}:{link.line}: {link.target}"
        if link.target.startswith(_EXTERNAL):
            continue
        path_part, _, fragment = link.target.partition("#")
        path_part = urllib.parse.unquote(path_part)
        if path_part.startswith("/"):
            problems.append(f"{where}: absolute paths do not work on GitHub or in a clone")
            continue
        target = (document.parent / path_part).resolve() if path_part else document
        if not target.is_relative_to(REPO):
            problems.append(f"{where}: points outside the repository")
            continue
        if not target.exists():
            problems.append(f"{where}: {target.relative_to(REPO)} does not exist")
            continue
        if fragment:
            if target.is_dir() or target.suffix != ".md":
                problems.append(f"{where}: an anchor into a file that is not Markdown")
            elif fragment not in markdown.anchors(target.read_text(encoding="utf-8")):
                problems.append(
                    f"{where}: {target.relative_to(REPO)} has no heading with anchor #{fragment}"
                )
    return problems


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda p: str(p.relative_to(REPO)))
def test_relative_links_resolve(document: Path) -> None:
    problems = _problems(document)
    assert not problems, "broken links:\n" + "\n".join(problems)


def test_the_docs_are_found() -> None:
    names = {p.relative_to(REPO).as_posix() for p in DOCUMENTS}
    assert {"README.md", "docs/configuration.md"} <= names


# -- the Markdown helpers themselves --------------------------------------------------------------


def test_anchors_follow_githubs_rules() -> None:
    text = (
        "# Title\n## The MC's environment variables\n### `MC_ID` and `spec.x`\n"
        "## Part 1: the internal API (GC <-> MC)\n## Title\n```\n# not a heading\n```\n"
    )
    assert markdown.anchors(text) == {
        "title",
        "the-mcs-environment-variables",
        "mc_id-and-specx",
        "part-1-the-internal-api-gc---mc",
        "title-1",
    }


def test_links_skip_code_and_find_references() -> None:
    text = (
        "See [a](a.md) and `[b](b.md)` and ![c](img/c.png).\n"
        "```\n[d](d.md)\n```\n"
        "[ref]: docs/e.md#x\n"
    )
    assert [link.target for link in markdown.links(text)] == ["a.md", "img/c.png", "docs/e.md#x"]
