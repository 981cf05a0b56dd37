"""Session tokens: round trip, every claim bound by the MAC, per-meeting keys, strict parsing."""

from __future__ import annotations

import base64
import hmac
import json
import re
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from meeting_controller import errors
from meeting_controller.tokens import session
from meeting_controller.tokens.session import (
    EXPIRED,
    INVALID,
    MAX_SESSION_TOKEN_LENGTH,
    SessionClaims,
    derive_session_key,
    issue_session_token,
    new_nonce,
    new_participant_id,
    new_session_id,
    verify_session_token,
)

MASTER = bytes(range(32))
OTHER_MASTER = bytes(range(1, 33))
MEETING = "m-42"
NOW_MS = 1_769_000_000_000
EXP_MS = NOW_MS + 300_000


def issue(**overrides: Any) -> str:
    arguments: dict[str, Any] = {
        "master_secret": MASTER,
        "session_id": "s-0123456789abcdef0123456789abcdef",
        "participant_id": "p-0123456789abcdef",
        "meeting_id": MEETING,
        "expires_at_ms": EXP_MS,
        "nonce": "n0nce-AAAAAAAAAAAAAAAAAA",
    }
    arguments.update(overrides)
    return issue_session_token(**arguments)


def verify(token: str, **overrides: Any) -> SessionClaims:
    arguments: dict[str, Any] = {"master_secret": MASTER, "meeting_id": MEETING, "now_ms": NOW_MS}
    arguments.update(overrides)
    return verify_session_token(token, **arguments)


def refused(token: str, **overrides: Any) -> errors.TokenError:
    with pytest.raises(errors.TokenError) as info:
        verify(token, **overrides)
    return info.value


def forge(claims: dict[str, Any], *, meeting_id: str = MEETING) -> str:
    """A token with a *valid* MAC over arbitrary claims: only the post-MAC checks can refuse it."""
    return session._seal(
        claims, key=derive_session_key(master_secret=MASTER, meeting_id=meeting_id)
    )


def good_claims(**overrides: Any) -> dict[str, Any]:
    claims: dict[str, Any] = {
        "v": 1,
        "sid": "s-1",
        "pid": "p-1",
        "mid": MEETING,
        "exp": EXP_MS,
        "n": "nonce",
    }
    claims.update(overrides)
    return claims


VALID = issue()


# --- round trip ----------------------------------------------------------------------------


def test_a_token_verifies_and_returns_every_claim() -> None:
    assert verify(VALID) == SessionClaims(
        session_id="s-0123456789abcdef0123456789abcdef",
        participant_id="p-0123456789abcdef",
        meeting_id=MEETING,
        expires_at_ms=EXP_MS,
        nonce="n0nce-AAAAAAAAAAAAAAAAAA",
    )


def test_a_token_is_compact_url_safe_ascii() -> None:
    assert re.fullmatch(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}", VALID)
    assert len(VALID) < 250


def test_claims_are_frozen() -> None:
    claims = verify(VALID)
    with pytest.raises(AttributeError):
        claims.nonce = "other"  # type: ignore[misc]


def test_unicode_ids_round_trip() -> None:
    token = issue(meeting_id="réunion-東京", participant_id="p-ü", session_id="s-ß")
    claims = verify(token, meeting_id="réunion-東京")
    assert (claims.meeting_id, claims.participant_id, claims.session_id) == (
        "réunion-東京",
        "p-ü",
        "s-ß",
    )


def test_a_different_nonce_gives_a_different_token() -> None:
    first, second = issue(nonce=new_nonce()), issue(nonce=new_nonce())
    assert first != second
    assert verify(first).nonce != verify(second).nonce


def test_issuing_is_deterministic_for_the_same_claims() -> None:
    # Freshness comes from the nonce alone, so the caller controls (and stores) it.
    assert issue() == issue()


# --- expiry --------------------------------------------------------------------------------


def test_a_token_is_valid_until_one_millisecond_before_exp() -> None:
    assert verify(VALID, now_ms=EXP_MS - 1).expires_at_ms == EXP_MS


def test_a_token_is_expired_exactly_at_exp() -> None:
    error = refused(VALID, now_ms=EXP_MS)
    assert error.code == EXPIRED
    assert str(EXP_MS) in str(error)


def test_a_token_is_expired_after_exp() -> None:
    assert refused(VALID, now_ms=EXP_MS + 1_000_000).code == EXPIRED


def test_an_expired_forgery_is_invalid_not_expired() -> None:
    # Nothing in an unauthenticated token is believed: the MAC is checked before exp.
    assert refused(VALID, master_secret=OTHER_MASTER, now_ms=EXP_MS + 1).code == INVALID


# --- keys ----------------------------------------------------------------------------------


def test_another_meetings_token_is_refused_under_the_same_master_secret() -> None:
    token = issue(meeting_id="m-other")
    error = refused(token)
    assert error.code == INVALID
    assert "MAC" in str(error)
    assert verify(token, meeting_id="m-other").meeting_id == "m-other"


def test_a_token_under_another_master_secret_is_refused() -> None:
    assert refused(issue(master_secret=OTHER_MASTER)).code == INVALID


def test_any_mc_with_the_same_master_secret_verifies() -> None:
    # Another process: a copy of the secret, not the same object.
    assert verify(VALID, master_secret=bytes(bytearray(MASTER))).meeting_id == MEETING


def test_hkdf_keys_differ_per_meeting_and_per_master_secret() -> None:
    keys = {
        derive_session_key(master_secret=master, meeting_id=meeting)
        for master in (MASTER, OTHER_MASTER)
        for meeting in ("m-1", "m-2", "m-1x", "m-", "", "M-1")
    }
    assert len(keys) == 12
    assert all(len(key) == 32 for key in keys)


def test_the_key_is_hkdf_sha256_with_purpose_and_meeting_in_info() -> None:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    expected = HKDF(
        algorithm=hashes.SHA256(),
        length=32,
        salt=None,
        info=b"meeting-controller/session-token/v1/meeting:m-1",
    ).derive(MASTER)
    assert derive_session_key(master_secret=MASTER, meeting_id="m-1") == expected
    assert expected != MASTER


def test_the_key_is_deterministic() -> None:
    assert derive_session_key(master_secret=MASTER, meeting_id="m-1") == derive_session_key(
        master_secret=MASTER, meeting_id="m-1"
    )


@pytest.mark.parametrize("master", [b"", b"x" * 31])
def test_a_short_master_secret_is_a_value_error_that_does_not_show_it(master: bytes) -> None:
    with pytest.raises(ValueError, match="at least 32 bytes") as info:
        issue(master_secret=master)
    if master:
        assert "xxxx" not in str(info.value)
    with pytest.raises(ValueError, match="at least 32 bytes"):
        verify(VALID, master_secret=master)


def test_a_master_secret_that_is_not_bytes_is_a_type_error() -> None:
    with pytest.raises(TypeError, match="bytes"):
        issue(master_secret="x" * 32)


# --- every claim is bound ------------------------------------------------------------------


def _flip(token: str, index: int) -> str:
    """Replace the character at ``index`` by another base64url character."""
    replacement = "A" if token[index] != "A" else "B"
    return token[:index] + replacement + token[index + 1 :]


@pytest.mark.parametrize("index", range(len(VALID)))
def test_changing_any_character_of_payload_or_mac_invalidates_the_token(index: int) -> None:
    if VALID[index] == ".":
        mutated = VALID[:index] + "A" + VALID[index + 1 :]
    else:
        mutated = _flip(VALID, index)
    assert refused(mutated).code == INVALID


@pytest.mark.parametrize("claim", ["v", "sid", "pid", "mid", "exp", "n"])
def test_changing_any_claim_with_the_original_mac_invalidates_the_token(claim: str) -> None:
    payload_part, mac_part = VALID.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload_part + "=="))
    claims[claim] = claims[claim] + 1 if isinstance(claims[claim], int) else claims[claim] + "x"
    tampered = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    assert refused(f"{tampered}.{mac_part}").code == INVALID


def test_a_mac_with_a_different_payload_is_refused() -> None:
    other = issue(participant_id="p-ffffffffffffffff")
    spliced = VALID.split(".")[0] + "." + other.split(".")[1]
    assert refused(spliced).code == INVALID


@given(
    edits=st.lists(
        st.tuples(
            st.sampled_from(["replace", "insert", "delete"]),
            st.integers(min_value=0),
            st.characters(),
        ),
        min_size=1,
        max_size=4,
    ),
)
def test_random_mutations_never_verify_and_only_raise_token_error(
    edits: list[tuple[str, int, str]],
) -> None:
    token = VALID
    for operation, position, char in edits:
        index = position % (len(token) + 1)
        if operation == "insert":
            token = token[:index] + char + token[index:]
        elif operation == "delete" and token:
            index %= len(token)
            token = token[:index] + token[index + 1 :]
        elif token:
            index %= len(token)
            token = token[:index] + char + token[index + 1 :]
    if token == VALID:
        return
    with pytest.raises(errors.TokenError) as info:
        verify(token)
    assert info.value.code == INVALID


@given(st.text(max_size=300) | st.text(alphabet="ABCabc012_-.=+/", max_size=300))
def test_arbitrary_strings_never_verify_and_only_raise_token_error(token: str) -> None:
    with pytest.raises(errors.TokenError) as info:
        verify(token)
    assert info.value.code == INVALID


# --- malformed input -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "token",
    [
        "",
        ".",
        "..",
        "abc",
        "abc.",
        ".abc",
        VALID + ".",
        VALID + "." + VALID.split(".")[1],
        VALID.replace(".", ".."),
        VALID + "=",  # padding is not part of the format
        VALID.split(".")[0] + "==." + VALID.split(".")[1],
        VALID + "A",  # MAC one character too long
        VALID[:-1],  # MAC one character too short
        " " + VALID,
        VALID + "\n",
        "+" + VALID[1:],  # plain base64 is not base64url
        VALID[:5] + "/" + VALID[6:],
        "é" * 10 + "." + VALID.split(".")[1],
        "\x00" * 50,
        "\ud800.\udfff",  # lone surrogates
    ],
)
def test_malformed_tokens_are_invalid(token: str) -> None:
    assert refused(token).code == INVALID


def test_a_non_canonical_base64_spelling_of_the_same_bytes_is_refused() -> None:
    # The unused low bits of the last character: "QQ" and "QR" both decode to b"A".
    payload_part, mac_part = VALID.split(".")
    assert len(mac_part) % 4 == 3  # 32 bytes -> 43 characters, 2 unused bits at the end
    last = mac_part[-1]
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    twin = alphabet[alphabet.index(last) ^ 1]
    mutated = f"{payload_part}.{mac_part[:-1]}{twin}"
    assert base64.urlsafe_b64decode(mutated.split(".")[1] + "=") == base64.urlsafe_b64decode(
        mac_part + "="
    )
    assert refused(mutated).code == INVALID


def test_an_oversize_token_is_refused_by_length_before_anything_else(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def no_key(**_: object) -> bytes:
        raise AssertionError("the key must not be derived for an oversize token")

    monkeypatch.setattr(session, "derive_session_key", no_key)
    error = refused("A" * (MAX_SESSION_TOKEN_LENGTH + 1))
    assert error.code == INVALID
    assert "characters long" in str(error)


def test_a_token_of_exactly_the_maximum_length_is_looked_at() -> None:
    error = refused("A" * MAX_SESSION_TOKEN_LENGTH)
    assert "characters long" not in str(error)


def test_issuing_a_token_longer_than_the_maximum_is_refused() -> None:
    with pytest.raises(ValueError, match="too long"):
        issue(session_id="s" * MAX_SESSION_TOKEN_LENGTH)


def test_a_non_string_token_is_a_type_error() -> None:
    not_a_string: Any = b"abc"
    with pytest.raises(TypeError):
        verify_session_token(not_a_string, master_secret=MASTER, meeting_id=MEETING, now_ms=0)


# --- the MAC is checked first, in constant time --------------------------------------------


def test_the_mac_is_compared_with_hmac_compare_digest(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[bytes, bytes]] = []
    real = hmac.compare_digest

    def recording(a: bytes, b: bytes) -> bool:
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(hmac, "compare_digest", recording)
    verify(VALID)
    assert len(calls) == 1
    expected, presented = calls[0]
    assert len(expected) == len(presented) == 32
    assert expected == presented


def test_the_verdict_rests_on_compare_digest(monkeypatch: pytest.MonkeyPatch) -> None:
    # If the comparison says "different", a perfectly valid token is refused: no `==` elsewhere.
    monkeypatch.setattr(hmac, "compare_digest", lambda a, b: False)
    assert refused(VALID).code == INVALID


def test_the_payload_of_a_forged_token_is_never_parsed(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_parse(*_: object, **__: object) -> object:
        raise AssertionError("an unauthenticated payload was parsed")

    monkeypatch.setattr(json, "loads", no_parse)
    forged = issue(master_secret=OTHER_MASTER)
    assert refused(forged).code == INVALID


# --- authentic tokens with bad claims (older/newer releases) -------------------------------


@pytest.mark.parametrize("version", [0, 2, "1", True, None, 1.0])
def test_another_version_is_invalid(version: object) -> None:
    error = refused(forge(good_claims(v=version)))
    assert error.code == INVALID
    assert "version" in str(error)


def test_a_forged_good_token_is_accepted() -> None:
    # Control for the tests around it: `forge` itself produces verifiable tokens.
    assert verify(forge(good_claims())).session_id == "s-1"


@pytest.mark.parametrize(
    "claims",
    [
        good_claims(sid=""),
        good_claims(pid=7),
        good_claims(mid=None),
        good_claims(n=["x"]),
        good_claims(exp="123"),
        good_claims(exp=True),
        good_claims(exp=1.5),
        {k: v for k, v in good_claims().items() if k != "n"},
        good_claims(extra="x"),
    ],
)
def test_authentic_tokens_with_bad_claims_are_invalid(claims: dict[str, Any]) -> None:
    assert refused(forge(claims)).code == INVALID


@pytest.mark.parametrize("payload", [b"[1,2]", b"not json", b"\xff\xfe", b"1"])
def test_authentic_payloads_that_are_not_a_json_object_are_invalid(payload: bytes) -> None:
    key = derive_session_key(master_secret=MASTER, meeting_id=MEETING)
    part = base64.urlsafe_b64encode(payload).rstrip(b"=").decode()
    mac = base64.urlsafe_b64encode(session._mac(key, part)).rstrip(b"=").decode()
    assert refused(f"{part}.{mac}").code == INVALID


def test_a_meeting_claim_that_disagrees_with_the_key_is_invalid() -> None:
    # Defence in depth: only reachable if the key derivation stopped binding the meeting.
    error = refused(forge(good_claims(mid="m-other")))
    assert error.code == INVALID
    assert "m-other" in str(error)


# --- messages ------------------------------------------------------------------------------


def test_messages_never_echo_the_token_mac_or_secret() -> None:
    payload_part, mac_part = VALID.split(".")
    key = derive_session_key(master_secret=MASTER, meeting_id=MEETING)
    messages = [
        str(refused(VALID, master_secret=OTHER_MASTER)),
        str(refused(VALID, now_ms=EXP_MS)),
        str(refused(_flip(VALID, 3))),
        str(refused(VALID + "A")),
    ]
    for message in messages:
        for secret in (payload_part, mac_part, MASTER.hex(), key.hex(), repr(MASTER), repr(key)):
            assert secret not in message


# --- issuing arguments and random values ---------------------------------------------------


@pytest.mark.parametrize("field", ["session_id", "participant_id", "meeting_id", "nonce"])
def test_empty_ids_are_refused_when_issuing(field: str) -> None:
    with pytest.raises(ValueError, match=field):
        issue(**{field: ""})


@pytest.mark.parametrize("expires", [1.5, "1", True, None])
def test_a_non_integer_expiry_is_refused_when_issuing(expires: object) -> None:
    with pytest.raises(TypeError, match="expires_at_ms"):
        issue(expires_at_ms=expires)


def test_new_ids_have_their_documented_shape_and_do_not_repeat() -> None:
    sessions = {new_session_id() for _ in range(200)}
    participants = {new_participant_id() for _ in range(200)}
    nonces = {new_nonce() for _ in range(200)}
    assert len(sessions) == len(participants) == len(nonces) == 200
    assert all(re.fullmatch(r"s-[0-9a-f]{32}", s) for s in sessions)
    assert all(re.fullmatch(r"p-[0-9a-f]{16}", p) for p in participants)
    assert all(re.fullmatch(r"[A-Za-z0-9_-]{22}", n) for n in nonces)


def test_new_ids_are_valid_redis_key_ids() -> None:
    from meeting_controller.store import keys

    assert keys.id_problem(new_session_id()) is None
    assert keys.id_problem(new_participant_id()) is None
    assert keys.session_key(new_session_id()).startswith("session:{s-")


def test_the_package_exports_the_session_api() -> None:
    from meeting_controller import tokens

    assert tokens.issue_session_token is issue_session_token
    assert tokens.verify_session_token is verify_session_token
    assert tokens.SessionClaims is SessionClaims
