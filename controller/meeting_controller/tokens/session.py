"""Session tokens: what lets a client resume its session after a dropped connection.

Pure token logic, no I/O: the clock is passed in as ``now_ms`` (Unix milliseconds, wall clock,
because the expiry travels to the client as ``JoinResponse.expiry_timestamp`` and may be checked
by another MC after the meeting migrated).

Why HMAC and not a signature like the join token: the MC both issues and verifies session
tokens, so there is no party that must verify without being able to mint. A MAC is smaller and
faster, and the MC fleet already shares secrets (Redis).

Why a per-meeting key derived with HKDF-SHA256 from one fleet-wide master secret:

* any MC of the fleet derives the same key, so a token issued before a meeting migrated is
  still accepted by the MC that owns the meeting now;
* the HKDF ``info`` binds the purpose (:data:`KDF_INFO_PREFIX`, which names the version) and the
  meeting id, so a key (or a token) of one meeting is useless for every other meeting, and the
  master secret is never used directly as a MAC key for anything. ``info`` is the fixed prefix
  followed by the meeting id, so different meeting ids always give different ``info`` strings.

Format (ASCII, at most :data:`MAX_SESSION_TOKEN_LENGTH` characters)::

    base64url(payload) "." base64url(HMAC-SHA256(key, base64url(payload)))

without padding, where ``payload`` is compact UTF-8 JSON with exactly these members:

=========== ======================================================================
``v``       :data:`SESSION_TOKEN_VERSION`; any other version is refused as invalid
``sid``     the session id (the ``session:{<id>}`` key the session state lives under)
``pid``     the participant id the session belongs to
``mid``     the meeting id (also bound through the key)
``exp``     expiry, integer Unix milliseconds; ``now_ms >= exp`` is expired
``n``       a random per-issue nonce (:func:`new_nonce`)
=========== ======================================================================

The payload is readable by anyone holding the token; "opaque" means clients must not interpret
it, not that it is secret. Nothing in it is.

Single use: every successful resume issues a fresh token with a fresh nonce, and the caller
stores the current nonce with the session. A verified token whose nonce is not the stored one
has been used before (or was superseded) and the caller answers
``ERROR_CODE_SESSION_TOKEN_REUSED`` (:data:`REUSED`); this module cannot know the stored nonce.

Every verification failure is a :class:`~meeting_controller.errors.TokenError` whose ``code`` is
the name of the signaling ``ErrorCode`` the client should receive: :data:`INVALID` or
:data:`EXPIRED`. Messages never contain the token, the MAC or any key.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import hashlib
import hmac
import json
import re
import secrets
from typing import Any, Final

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from meeting_controller import errors

#: The only token version this code issues and accepts.
SESSION_TOKEN_VERSION: Final = 1
#: The HKDF ``info`` prefix: purpose and version. The meeting id (UTF-8) follows it.
KDF_INFO_PREFIX: Final = b"meeting-controller/session-token/v1/meeting:"
#: The shortest master secret accepted, in bytes: 256 bits, the strength of HMAC-SHA256.
MIN_MASTER_SECRET_LENGTH: Final = 32
#: Tokens longer than this are refused before anything else is looked at. A real token is
#: about 200 characters; the bound leaves room for long (up to 256-character) ids.
MAX_SESSION_TOKEN_LENGTH: Final = 4096

INVALID: Final = "ERROR_CODE_INVALID_SESSION_TOKEN"
EXPIRED: Final = "ERROR_CODE_SESSION_EXPIRED"
#: Not raised here: the code the caller answers when a verified token's nonce is stale.
REUSED: Final = "ERROR_CODE_SESSION_TOKEN_REUSED"

_MAC_LENGTH: Final = hashlib.sha256().digest_size
_KEY_LENGTH: Final = 32
_SEPARATOR: Final = "."
_CLAIM_NAMES: Final = frozenset({"v", "sid", "pid", "mid", "exp", "n"})
_BASE64URL: Final = re.compile(r"[A-Za-z0-9_-]+")


@dataclasses.dataclass(frozen=True, slots=True)
class SessionClaims:
    """What a verified session token says (MAC checked, version, meeting and expiry too)."""

    session_id: str
    """The session to restore (its state lives under ``session:{<session_id>}``)."""
    participant_id: str
    """The participant the session belongs to."""
    meeting_id: str
    """The meeting, equal to the one the caller verified the token for."""
    expires_at_ms: int
    """Unix milliseconds from which the token is refused as expired."""
    nonce: str
    """The per-issue nonce: compare it with the one stored with the session (single use)."""


def derive_session_key(*, master_secret: bytes, meeting_id: str) -> bytes:
    """The 32-byte HMAC key of ``meeting_id``'s session tokens (HKDF-SHA256, see the module doc).

    Public so that tests (and a future key cache) can use it; callers normally pass the master
    secret to :func:`issue_session_token` and :func:`verify_session_token` instead.
    """
    _check_master_secret(master_secret)
    if not isinstance(meeting_id, str):
        raise TypeError(f"meeting_id must be a str, not {type(meeting_id).__name__}")
    # surrogatepass: a meeting id that is not valid Unicode still derives *some* key (which no
    # token was issued under) rather than raising something other than TokenError in verify.
    info = KDF_INFO_PREFIX + meeting_id.encode("utf-8", "surrogatepass")
    hkdf = HKDF(algorithm=hashes.SHA256(), length=_KEY_LENGTH, salt=None, info=info)
    return hkdf.derive(master_secret)


def issue_session_token(
    *,
    master_secret: bytes,
    session_id: str,
    participant_id: str,
    meeting_id: str,
    expires_at_ms: int,
    nonce: str,
) -> str:
    """Mint the session token for ``session_id`` of ``participant_id`` in ``meeting_id``.

    ``expires_at_ms`` is what the caller also sends as ``JoinResponse.expiry_timestamp``;
    ``nonce`` should come from :func:`new_nonce` and be stored with the session. Invalid
    arguments are our own bug (the ids are ones the MC minted), hence ``ValueError`` or
    ``TypeError``, never :class:`~meeting_controller.errors.TokenError`.
    """
    for name, value in (
        ("session_id", session_id),
        ("participant_id", participant_id),
        ("meeting_id", meeting_id),
        ("nonce", nonce),
    ):
        if not isinstance(value, str):
            raise TypeError(f"{name} must be a str, not {type(value).__name__}")
        if not value:
            raise ValueError(f"{name} must not be empty")
    if not _is_integer(expires_at_ms):
        raise TypeError(f"expires_at_ms must be an int, not {type(expires_at_ms).__name__}")
    key = derive_session_key(master_secret=master_secret, meeting_id=meeting_id)
    token = _seal(
        {
            "v": SESSION_TOKEN_VERSION,
            "sid": session_id,
            "pid": participant_id,
            "mid": meeting_id,
            "exp": expires_at_ms,
            "n": nonce,
        },
        key=key,
    )
    if len(token) > MAX_SESSION_TOKEN_LENGTH:
        # Verification would refuse it, so handing it out would only fail later, at resume.
        raise ValueError(
            f"the session token would be {len(token)} characters long "
            f"(at most {MAX_SESSION_TOKEN_LENGTH}); the ids are too long"
        )
    return token


def verify_session_token(
    token: str, *, master_secret: bytes, meeting_id: str, now_ms: int
) -> SessionClaims:
    """Verify ``token`` for a resume in ``meeting_id`` at ``now_ms`` (Unix milliseconds).

    Checks, in this order: length (first, before any other work), shape and strict base64url
    (canonical encodings only, so no two strings verify as the same token), the MAC under the
    meeting's key in constant time, and only then the payload: JSON, exact claim set and types,
    version, meeting id, expiry. A forged token (or one of another meeting, whose key differs)
    therefore reports "invalid" even when its claims also say expired: nothing in an
    unauthenticated token is believed.

    The nonce is *not* checked here (see the module doc): the caller compares
    :attr:`SessionClaims.nonce` with the stored one.

    Raises :class:`~meeting_controller.errors.TokenError` with ``code`` :data:`INVALID` or
    :data:`EXPIRED`; ``TypeError``/``ValueError`` only for the caller's own mistakes (a
    non-string token, a bad master secret).
    """
    if not isinstance(token, str):
        raise TypeError(f"token must be a str, not {type(token).__name__}")
    if len(token) > MAX_SESSION_TOKEN_LENGTH:
        raise errors.TokenError(
            INVALID,
            f"the session token is {len(token)} characters long "
            f"(at most {MAX_SESSION_TOKEN_LENGTH})",
        )
    if not token:
        raise errors.TokenError(INVALID, "the session token is empty")
    if not _is_integer(now_ms):
        raise TypeError(f"now_ms must be an int, not {type(now_ms).__name__}")
    key = derive_session_key(master_secret=master_secret, meeting_id=meeting_id)

    parts = token.split(_SEPARATOR)
    if len(parts) != 2:
        raise errors.TokenError(
            INVALID, "the session token is malformed (expected two parts separated by '.')"
        )
    payload_part, mac_part = parts
    mac = _b64decode(mac_part)
    if mac is None or len(mac) != _MAC_LENGTH or _b64decode(payload_part) is None:
        raise errors.TokenError(INVALID, "the session token is malformed (not base64url)")
    expected = _mac(key, payload_part)
    if not hmac.compare_digest(expected, mac):
        raise errors.TokenError(
            INVALID,
            "the session token's MAC does not verify (forged, corrupted, or issued for "
            "another meeting or under another master secret)",
        )

    # Authentic from here on: the payload is our own output, but it is still checked strictly
    # so that a token minted by an older or newer release is refused cleanly.
    claims = _parse_claims(payload_part)
    version = claims["v"]
    if not _is_integer(version) or version != SESSION_TOKEN_VERSION:
        raise errors.TokenError(
            INVALID,
            f"the session token has version {version!r}; this MC accepts only version "
            f"{SESSION_TOKEN_VERSION} (join again without a session token)",
        )
    session_id, participant_id = claims["sid"], claims["pid"]
    token_meeting_id, nonce, expires_at_ms = claims["mid"], claims["n"], claims["exp"]
    for name, value in (
        ("sid", session_id),
        ("pid", participant_id),
        ("mid", token_meeting_id),
        ("n", nonce),
    ):
        if not isinstance(value, str) or not value:
            raise errors.TokenError(
                INVALID, f"the session token's {name} claim must be a non-empty string"
            )
    if not _is_integer(expires_at_ms):
        raise errors.TokenError(INVALID, "the session token's exp claim must be an integer")
    if token_meeting_id != meeting_id:
        # Unreachable while the key binds the meeting id; kept so that a change to the key
        # derivation can never silently let a token cross meetings.
        raise errors.TokenError(
            INVALID, f"the session token is for meeting {token_meeting_id!r}, not {meeting_id!r}"
        )
    if now_ms >= expires_at_ms:
        raise errors.TokenError(
            EXPIRED, f"the session token expired at {expires_at_ms} ms (now {now_ms} ms)"
        )
    return SessionClaims(
        session_id=session_id,
        participant_id=participant_id,
        meeting_id=token_meeting_id,
        expires_at_ms=expires_at_ms,
        nonce=nonce,
    )


# ---------------------------------------------------------------------------------------------
# Random values
# ---------------------------------------------------------------------------------------------


def new_nonce() -> str:
    """A fresh per-issue nonce: 128 random bits, base64url (22 characters)."""
    return secrets.token_urlsafe(16)


def new_session_id() -> str:
    """A fresh session id, ``s-`` + 32 hex digits (128 bits: never collides across the fleet).

    Hex only, so the id is safe in URLs, logs and Redis keys (no braces, no whitespace).
    """
    return "s-" + secrets.token_hex(16)


def new_participant_id() -> str:
    """A fresh participant id, ``p-`` + 16 hex digits (64 bits, unique within any meeting).

    Shorter than a session id because every roster entry carries it; it grants nothing by
    itself, so it need not be unguessable, only unique.
    """
    return "p-" + secrets.token_hex(8)


# ---------------------------------------------------------------------------------------------
# Encoding
# ---------------------------------------------------------------------------------------------


def _seal(claims: dict[str, Any], *, key: bytes) -> str:
    """Encode ``claims`` and append their MAC under ``key`` (the tests forge tokens with it)."""
    payload = json.dumps(claims, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    payload_part = _b64encode(payload)
    return payload_part + _SEPARATOR + _b64encode(_mac(key, payload_part))


def _mac(key: bytes, payload_part: str) -> bytes:
    # The MAC covers the encoded payload exactly as sent, so it is checked before any decoding.
    return hmac.new(key, payload_part.encode("ascii"), hashlib.sha256).digest()


def _parse_claims(payload_part: str) -> dict[str, Any]:
    raw = _b64decode(payload_part)
    if raw is None:  # checked before the MAC already
        raise errors.TokenError(INVALID, "the session token is malformed (not base64url)")
    try:
        claims = json.loads(raw.decode("utf-8"))
    except (ValueError, RecursionError):  # UnicodeDecodeError and JSONDecodeError included
        raise errors.TokenError(INVALID, "the session token's payload is not JSON") from None
    if not isinstance(claims, dict):
        raise errors.TokenError(INVALID, "the session token's payload is not a JSON object")
    if set(claims) != _CLAIM_NAMES:
        raise errors.TokenError(
            INVALID,
            f"the session token's claims are {sorted(claims)}, expected {sorted(_CLAIM_NAMES)}",
        )
    return claims


def _b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64decode(segment: str) -> bytes | None:
    """Strict, canonical base64url without padding; None for anything else.

    The standard decoder skips characters outside the alphabet and ignores the unused low bits
    of the last character, so several strings would decode to the same bytes; re-encoding and
    comparing refuses all but the one canonical spelling.
    """
    if not _BASE64URL.fullmatch(segment) or len(segment) % 4 == 1:
        return None
    try:
        data = base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
    except (binascii.Error, ValueError):
        return None
    return data if _b64encode(data) == segment else None


def _check_master_secret(master_secret: bytes) -> None:
    if not isinstance(master_secret, bytes):
        raise TypeError(f"master_secret must be bytes, not {type(master_secret).__name__}")
    if len(master_secret) < MIN_MASTER_SECRET_LENGTH:
        # The length is not secret; the value is never shown.
        raise ValueError(
            f"master_secret must be at least {MIN_MASTER_SECRET_LENGTH} bytes, "
            f"not {len(master_secret)}"
        )


def _is_integer(value: object) -> bool:
    # bool is an int subclass; `"exp": true` is not a time.
    return isinstance(value, int) and not isinstance(value, bool)
