"""Join tokens: issued by the GC, verified by MCs. Pure: `now` is passed in, nothing sleeps."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from pathlib import Path

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from meeting_controller import errors, tokens

NOW = 1_800_000_000.0
MEETING = "m-1"


@pytest.fixture(scope="module")
def key() -> ed25519.Ed25519PrivateKey:
    return tokens.generate_signing_key()


def issue(key: ed25519.Ed25519PrivateKey, **overrides: object) -> str:
    arguments: dict[str, object] = {
        "signing_key": key,
        "user_id": "alice",
        "meeting_id": MEETING,
        "role": "host",
        "display_name": "Alice",
        "now": NOW,
        "ttl_seconds": 60,
    }
    arguments.update(overrides)
    token, _ = tokens.issue_join_token(**arguments)  # type: ignore[arg-type]
    return token


def verify(key: ed25519.Ed25519PrivateKey, token: str, **overrides: object) -> tokens.JoinClaims:
    arguments: dict[str, object] = {"public_key": key.public_key(), "meeting_id": MEETING}
    arguments["now"] = NOW + 1
    arguments.update(overrides)
    return tokens.verify_join_token(token, **arguments)  # type: ignore[arg-type]


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def hand_made(header: dict[str, object], payload: dict[str, object], signature: bytes) -> str:
    return ".".join(
        [b64(json.dumps(header).encode()), b64(json.dumps(payload).encode()), b64(signature)]
    )


def valid_payload(**overrides: object) -> dict[str, object]:
    payload: dict[str, object] = {
        "sub": "alice",
        "meeting_id": MEETING,
        "role": "host",
        "iat": int(NOW),
        "exp": int(NOW) + 60,
        "iss": tokens.JOIN_TOKEN_ISSUER,
        "aud": tokens.JOIN_TOKEN_AUDIENCE,
    }
    payload.update(overrides)
    return payload


def signed(key: ed25519.Ed25519PrivateKey, payload: dict[str, object]) -> str:
    return jwt.encode(payload, key, algorithm="EdDSA")


def assert_refused(code: str, key: ed25519.Ed25519PrivateKey, token: str, **kw: object) -> str:
    with pytest.raises(errors.TokenError) as info:
        verify(key, token, **kw)
    assert info.value.code == code
    return str(info.value)


# --- the happy path ---------------------------------------------------------------------------


def test_round_trip_returns_every_claim(key: ed25519.Ed25519PrivateKey) -> None:
    token, expires_at = tokens.issue_join_token(
        signing_key=key,
        user_id="alice",
        meeting_id=MEETING,
        role="host",
        display_name="Alice",
        now=NOW + 0.9,
        ttl_seconds=60,
    )
    assert expires_at == int(NOW) + 60  # rounded down: never longer than asked
    claims = verify(key, token)
    assert claims == tokens.JoinClaims(
        user_id="alice",
        meeting_id=MEETING,
        role="host",
        display_name="Alice",
        expires_at=int(NOW) + 60,
    )


def test_display_name_is_optional(key: ed25519.Ed25519PrivateKey) -> None:
    claims = verify(key, issue(key, display_name=None, role="participant"))
    assert claims.display_name is None
    assert claims.role == "participant"


def test_header_pins_eddsa_and_payload_carries_issuer_and_audience(
    key: ed25519.Ed25519PrivateKey,
) -> None:
    token = issue(key)
    assert jwt.get_unverified_header(token)["alg"] == "EdDSA"
    payload = jwt.decode(token, options={"verify_signature": False})
    assert payload["iss"] == tokens.JOIN_TOKEN_ISSUER
    assert payload["aud"] == tokens.JOIN_TOKEN_AUDIENCE


def test_claims_are_frozen(key: ed25519.Ed25519PrivateKey) -> None:
    claims = verify(key, issue(key))
    with pytest.raises(AttributeError):
        claims.role = "participant"  # type: ignore[misc]


# --- time -------------------------------------------------------------------------------------


def test_valid_until_the_last_second_and_expired_at_exp(key: ed25519.Ed25519PrivateKey) -> None:
    token = issue(key, ttl_seconds=60)
    verify(key, token, now=NOW + 59.999)
    message = assert_refused("ERROR_CODE_JOIN_TOKEN_EXPIRED", key, token, now=NOW + 60)
    assert str(int(NOW) + 60) in message


def test_expired_long_ago(key: ed25519.Ed25519PrivateKey) -> None:
    assert_refused("ERROR_CODE_JOIN_TOKEN_EXPIRED", key, issue(key), now=NOW + 86400)


def test_issued_in_the_future_beyond_clock_skew_is_invalid(
    key: ed25519.Ed25519PrivateKey,
) -> None:
    token = issue(key, now=NOW + 100)
    verify(key, token, now=NOW + 100 - tokens.MAX_CLOCK_SKEW_SECONDS)  # within the skew
    message = assert_refused("ERROR_CODE_INVALID_JOIN_TOKEN", key, token, now=NOW)
    assert "future" in message


# --- meeting and role -------------------------------------------------------------------------


def test_wrong_meeting_is_a_mismatch(key: ed25519.Ed25519PrivateKey) -> None:
    message = assert_refused(
        "ERROR_CODE_MEETING_MISMATCH", key, issue(key), meeting_id="another-meeting"
    )
    assert "'m-1'" in message
    assert "'another-meeting'" in message


@pytest.mark.parametrize("role", ["admin", "HOST", "", None, 1])
def test_bad_role_is_invalid(key: ed25519.Ed25519PrivateKey, role: object) -> None:
    assert_refused("ERROR_CODE_INVALID_JOIN_TOKEN", key, signed(key, valid_payload(role=role)))


@pytest.mark.parametrize(
    "claim", ["sub", "meeting_id", "role", "iat", "exp", "iss", "aud"], ids=str
)
def test_missing_claim_is_invalid(key: ed25519.Ed25519PrivateKey, claim: str) -> None:
    payload = valid_payload()
    del payload[claim]
    assert_refused("ERROR_CODE_INVALID_JOIN_TOKEN", key, signed(key, payload))


@pytest.mark.parametrize(
    ("claim", "value"),
    [
        ("sub", ""),
        ("meeting_id", 42),
        ("meeting_id", ""),
        ("display_name", 7),
        ("exp", "soon"),
        ("exp", True),
        ("iss", "someone-else"),
        ("aud", "another-service"),
    ],
)
def test_wrong_claim_value_is_invalid(
    key: ed25519.Ed25519PrivateKey, claim: str, value: object
) -> None:
    assert_refused(
        "ERROR_CODE_INVALID_JOIN_TOKEN", key, signed(key, valid_payload(**{claim: value}))
    )


# --- forgery ----------------------------------------------------------------------------------


def test_signature_from_another_key_is_invalid(key: ed25519.Ed25519PrivateKey) -> None:
    forger = tokens.generate_signing_key()
    message = assert_refused("ERROR_CODE_INVALID_JOIN_TOKEN", key, issue(forger))
    assert "signature" in message


def test_forgery_is_reported_invalid_even_when_also_expired_and_for_another_meeting(
    key: ed25519.Ed25519PrivateKey,
) -> None:
    forged = issue(tokens.generate_signing_key())
    assert_refused(
        "ERROR_CODE_INVALID_JOIN_TOKEN", key, forged, now=NOW + 10_000, meeting_id="other"
    )


def test_tampered_payload_is_invalid(key: ed25519.Ed25519PrivateKey) -> None:
    header, _payload, signature = issue(key, role="participant").split(".")
    promoted = b64(json.dumps(valid_payload(role="host")).encode())
    assert_refused("ERROR_CODE_INVALID_JOIN_TOKEN", key, f"{header}.{promoted}.{signature}")


def test_alg_none_is_refused(key: ed25519.Ed25519PrivateKey) -> None:
    token = hand_made({"alg": "none", "typ": "JWT"}, valid_payload(), b"")
    message = assert_refused("ERROR_CODE_INVALID_JOIN_TOKEN", key, token)
    assert "EdDSA" in message


def test_hs256_with_the_public_key_as_secret_is_refused(key: ed25519.Ed25519PrivateKey) -> None:
    """The classic algorithm confusion: an HMAC keyed with the (public!) verification key."""
    secret = tokens.public_key_pem(key)
    header = b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    payload = b64(json.dumps(valid_payload()).encode())
    signature = hmac.new(secret, f"{header}.{payload}".encode(), hashlib.sha256).digest()
    token = f"{header}.{payload}.{b64(signature)}"
    assert_refused("ERROR_CODE_INVALID_JOIN_TOKEN", key, token)


def test_a_token_signed_with_another_asymmetric_algorithm_is_refused(
    key: ed25519.Ed25519PrivateKey,
) -> None:
    es256 = ec.generate_private_key(ec.SECP256R1())
    token = jwt.encode(valid_payload(), es256, algorithm="ES256")
    assert_refused("ERROR_CODE_INVALID_JOIN_TOKEN", key, token)


@pytest.mark.parametrize(
    "garbage",
    ["", "garbage", "a.b.c", "....", "eyJhbGciOiJFZERTQSJ9.%%%.xx", "x" * 5000],
    ids=["empty", "word", "three-parts", "dots", "bad-base64", "huge"],
)
def test_garbage_is_invalid(key: ed25519.Ed25519PrivateKey, garbage: str) -> None:
    assert_refused("ERROR_CODE_INVALID_JOIN_TOKEN", key, garbage)


def test_verifier_insists_on_an_ed25519_public_key(key: ed25519.Ed25519PrivateKey) -> None:
    with pytest.raises(TypeError):
        tokens.verify_join_token(
            issue(key),
            public_key=key,  # type: ignore[arg-type]  # the private key by mistake
            meeting_id=MEETING,
            now=NOW,
        )


@pytest.mark.parametrize(
    "overrides",
    [{"user_id": ""}, {"meeting_id": ""}, {"role": "admin"}, {"ttl_seconds": 0}],
    ids=["user", "meeting", "role", "ttl"],
)
def test_issuing_refuses_bad_input(key: ed25519.Ed25519PrivateKey, overrides: object) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - the message varies by field
        issue(key, **overrides)  # type: ignore[arg-type]


# --- key files --------------------------------------------------------------------------------


def test_keys_round_trip_through_pem_files(tmp_path: Path, key: ed25519.Ed25519PrivateKey) -> None:
    (tmp_path / "gc.pem").write_bytes(tokens.private_key_pem(key))
    (tmp_path / "gc.pub").write_bytes(tokens.public_key_pem(key))
    loaded = tokens.load_private_key(tmp_path / "gc.pem")
    public = tokens.load_public_key(tmp_path / "gc.pub")
    verify(key, issue(loaded), public_key=public)
    assert tokens.public_key_pem(public) == tokens.public_key_pem(key)


def test_missing_key_file_names_the_file(tmp_path: Path) -> None:
    missing = tmp_path / "nope.pem"
    with pytest.raises(errors.ConfigError, match=r"nope\.pem: cannot read the private key"):
        tokens.load_private_key(missing)
    with pytest.raises(errors.ConfigError, match=r"nope\.pem: cannot read the public key"):
        tokens.load_public_key(missing)


def test_non_pem_key_file_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "junk.pem"
    path.write_text("not a key\n")
    with pytest.raises(errors.ConfigError, match=r"junk\.pem: not an unencrypted PEM private"):
        tokens.load_private_key(path)
    with pytest.raises(errors.ConfigError, match=r"junk\.pem: not a PEM public key"):
        tokens.load_public_key(path)


def test_other_key_types_are_refused_with_the_file_named(tmp_path: Path) -> None:
    other = ec.generate_private_key(ec.SECP256R1())
    private = tmp_path / "ec.pem"
    public = tmp_path / "ec.pub"
    private.write_bytes(
        other.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    public.write_bytes(
        other.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    with pytest.raises(errors.ConfigError, match=r"ec\.pem: holds a .*Ed25519"):
        tokens.load_private_key(private)
    with pytest.raises(errors.ConfigError, match=r"ec\.pub: holds a .*Ed25519"):
        tokens.load_public_key(public)


def test_a_public_key_file_is_not_a_private_key(
    tmp_path: Path, key: ed25519.Ed25519PrivateKey
) -> None:
    path = tmp_path / "gc.pub"
    path.write_bytes(tokens.public_key_pem(key))
    with pytest.raises(errors.ConfigError, match=r"gc\.pub"):
        tokens.load_private_key(path)


def test_public_key_from_pem_text_names_its_source(key: ed25519.Ed25519PrivateKey) -> None:
    text = tokens.public_key_pem(key).decode()
    public = tokens.public_key_from_pem(text, source="MC_JOIN_TOKEN_PUBLIC_KEY")
    verify(key, issue(key), public_key=public)
    with pytest.raises(errors.ConfigError, match=r"^MC_JOIN_TOKEN_PUBLIC_KEY: not a PEM public"):
        tokens.public_key_from_pem("nope", source="MC_JOIN_TOKEN_PUBLIC_KEY")
