"""The Lua scripts as shipped, and the parsing of their replies (pure, no I/O)."""

from __future__ import annotations

import hashlib
import importlib.resources

import pytest

from meeting_controller.store import scripting


def test_every_lua_file_is_a_known_script_and_every_script_has_a_file() -> None:
    package = importlib.resources.files("meeting_controller.store.scripts")
    shipped = {
        entry.name.removesuffix(".lua")
        for entry in package.iterdir()
        if entry.name.endswith(".lua")
    }
    assert shipped == {*scripting.SCRIPT_NAMES, "prelude"}


@pytest.mark.parametrize("name", scripting.SCRIPT_NAMES)
def test_a_script_is_the_prelude_followed_by_its_file_and_its_sha_is_the_sha1_of_both(
    name: str,
) -> None:
    script = scripting.read_script(name)
    package = importlib.resources.files("meeting_controller.store.scripts")
    assert script.source.startswith(package.joinpath("prelude.lua").read_text())
    assert script.source.endswith(package.joinpath(f"{name}.lua").read_text())
    assert script.sha == hashlib.sha1(script.source.encode()).hexdigest()


@pytest.mark.parametrize(
    "name", [name for name in scripting.SCRIPT_NAMES if name not in ("claim", "load_meeting")]
)
def test_every_write_script_checks_the_fence_before_anything_else(name: str) -> None:
    body = scripting.read_script(name).source.split("-- Script body follows.")[1]
    code = [line for line in body.splitlines() if line.strip() and not line.startswith("--")]
    assert code[0] == "local current = fence(KEYS[1], ARGV[1])"


@pytest.mark.parametrize(
    ("reply", "parsed"),
    [
        (["ok"], scripting.Ok(0)),
        (["ok", 7], scripting.Ok(7)),
        (["fenced", 3], scripting.Fenced(3)),
        (["fenced", 0], scripting.Fenced(0)),
        (["stale", 9], scripting.Stale(9)),
    ],
)
def test_write_replies_parse_into_their_outcome(
    reply: list[object], parsed: scripting.Ok | scripting.Fenced | scripting.Stale
) -> None:
    assert scripting.parse_write_reply(reply, script="x") == parsed


@pytest.mark.parametrize(
    "reply", [None, [], "ok", ["nope"], ["ok", "1"], ["fenced", None], ["ok", 1, 2], 5]
)
def test_a_reply_of_an_unknown_shape_is_a_bug_and_fails_loudly(reply: object) -> None:
    with pytest.raises(AssertionError, match="x: unexpected reply"):
        scripting.parse_write_reply(reply, script="x")


def test_a_load_reply_parses_into_a_snapshot() -> None:
    snapshot = scripting.parse_load_reply([2, '{"mh": 1}', ["a", "1", "b", "2"], ["p1", "p2"]])
    assert snapshot == scripting.MeetingSnapshot(
        generation=2,
        mh_assignment_json='{"mh": 1}',
        state={"a": "1", "b": "2"},
        participants=frozenset({"p1", "p2"}),
    )


def test_a_load_reply_for_a_missing_meeting_parses_into_an_empty_snapshot() -> None:
    assert scripting.parse_load_reply([0, None, [], []]) == scripting.MeetingSnapshot(
        generation=0, mh_assignment_json=None, state={}, participants=frozenset()
    )


@pytest.mark.parametrize(
    "reply", [None, [0, None, []], ["0", None, [], []], [0, None, ["odd"], []], [0, 1, [], []]]
)
def test_a_load_reply_of_an_unknown_shape_is_a_bug_and_fails_loudly(reply: object) -> None:
    with pytest.raises(AssertionError, match="load_meeting: unexpected reply"):
        scripting.parse_load_reply(reply)
