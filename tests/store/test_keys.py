"""The key schema: exact key names, id validation and Redis Cluster hash tags (pure, no I/O)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from meeting_controller.store import keys
from meeting_controller.store.keys import InvalidId

#: Characters an id may never contain, one per rule.
FORBIDDEN = ["{", "}", " ", "\t", "\n", "\r", "\x00", "\x1b", "\x7f", "\u00a0", "\u2028", "\u200b"]

valid_ids = st.text(
    alphabet=st.characters(
        blacklist_categories=("Cc", "Cf", "Cs", "Co", "Cn", "Zs", "Zl", "Zp"),
        blacklist_characters="{}\x1c\x1d\x1e\x1f\x85",
    ),
    min_size=1,
    max_size=keys.MAX_ID_LENGTH,
)


def test_meeting_keys_are_exactly_the_ones_the_integration_guide_lists() -> None:
    meeting = keys.meeting_keys("m-42")
    assert meeting.generation == "meeting:{m-42}:generation"
    assert meeting.mh == "meeting:{m-42}:mh"
    assert meeting.state == "meeting:{m-42}:state"
    assert meeting.participants == "meeting:{m-42}:participants"
    assert meeting.all == (meeting.generation, meeting.mh, meeting.state, meeting.participants)


def test_a_session_key_is_the_session_id_in_braces() -> None:
    assert keys.session_key("s-7") == "session:{s-7}"


@given(meeting_id=valid_ids)
def test_all_keys_of_a_meeting_share_one_cluster_hash_tag_which_is_the_meeting_id(
    meeting_id: str,
) -> None:
    meeting = keys.meeting_keys(meeting_id)
    assert {keys.cluster_hash_tag(key) for key in meeting.all} == {meeting_id}


@given(session_id=valid_ids)
def test_a_session_key_hashes_on_its_session_id(session_id: str) -> None:
    assert keys.cluster_hash_tag(keys.session_key(session_id)) == session_id


@pytest.mark.parametrize(
    ("key", "tag"),
    [
        # The examples of the Redis Cluster specification.
        ("{user1000}.following", "user1000"),
        ("{user1000}.followers", "user1000"),
        ("foo{}{bar}", "foo{}{bar}"),
        ("foo{{bar}}zap", "{bar"),
        ("foo{bar}{zap}", "bar"),
        ("no-tag-at-all", "no-tag-at-all"),
        ("open{only", "open{only"),
        ("close}only", "close}only"),
    ],
)
def test_the_cluster_hash_tag_follows_the_redis_rule(key: str, tag: str) -> None:
    assert keys.cluster_hash_tag(key) == tag


@pytest.mark.parametrize("value", ["m", "0", "a" * keys.MAX_ID_LENGTH, "Ümlaut-会議", "a:b/c.d_e"])
def test_ids_without_braces_whitespace_or_control_characters_are_accepted(value: str) -> None:
    assert keys.validate_id(value, kind=keys.MEETING_ID) == value
    assert keys.id_problem(value) is None


def test_an_empty_id_is_rejected_with_a_clear_message() -> None:
    with pytest.raises(InvalidId, match=r"invalid meeting id '': must not be empty"):
        keys.meeting_keys("")


def test_an_id_longer_than_the_bound_is_rejected() -> None:
    too_long = "a" * (keys.MAX_ID_LENGTH + 1)
    with pytest.raises(InvalidId, match=rf"at most {keys.MAX_ID_LENGTH} characters, got 257"):
        keys.session_key(too_long)


@pytest.mark.parametrize("brace", ["{", "}"])
def test_a_brace_is_rejected_because_it_would_break_the_hash_tag(brace: str) -> None:
    with pytest.raises(InvalidId, match="hash tag") as caught:
        keys.meeting_keys(f"a{brace}b")
    assert caught.value.kind == keys.MEETING_ID
    assert caught.value.value == f"a{brace}b"


@pytest.mark.parametrize("char", FORBIDDEN, ids=[f"U+{ord(c):04X}" for c in FORBIDDEN])
@pytest.mark.parametrize("position", ["start", "middle", "end"])
def test_braces_whitespace_and_control_characters_are_rejected_anywhere(
    char: str, position: str
) -> None:
    value = {"start": char + "ab", "middle": "a" + char + "b", "end": "ab" + char}[position]
    assert keys.id_problem(value) is not None
    with pytest.raises(InvalidId):
        keys.validate_id(value, kind=keys.PARTICIPANT_ID)


@given(prefix=valid_ids, char=st.sampled_from(FORBIDDEN), suffix=valid_ids)
def test_any_id_containing_a_forbidden_character_is_rejected(
    prefix: str, char: str, suffix: str
) -> None:
    with pytest.raises(InvalidId):
        keys.meeting_keys(prefix[:100] + char + suffix[:100])


@given(value=valid_ids)
def test_every_valid_id_builds_keys_that_contain_it_verbatim(value: str) -> None:
    assert keys.meeting_keys(value).generation == f"meeting:{{{value}}}:generation"
    assert keys.session_key(value) == f"session:{{{value}}}"


def test_the_error_message_shortens_a_long_bad_id() -> None:
    with pytest.raises(InvalidId) as caught:
        keys.meeting_keys("x" * 300)
    assert "x" * 40 + "..." in str(caught.value)
    assert "x" * 41 not in str(caught.value)


def test_a_non_string_id_is_a_type_error_because_it_is_a_bug_of_the_caller() -> None:
    with pytest.raises(TypeError, match="must be a str"):
        keys.validate_id(42, kind=keys.MEETING_ID)  # type: ignore[arg-type]
