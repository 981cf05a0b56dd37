"""Join tokens: the JWT a client gets from the GC and presents to an MC in ``JoinRequest``.

Pure token logic (no I/O apart from the two PEM loaders at the bottom): the clock is passed in
as ``now`` (Unix seconds, wall clock, because a JWT's ``exp`` is wall-clock time shared by two
machines), so expiry is tested without sleeping.

Why Ed25519 (JWS ``alg`` = ``EdDSA``): the GC signs, every MC only verifies. With an asymmetric
key an MC that is compromised cannot mint tokens, and the public key can be handed to MCs as a
plain file. The algorithm is pinned on verification, so a token whose header says ``none`` or
``HS256`` (the classic "use the public key as the HMAC secret" confusion) is refused before
its signature is even looked at.

Claims (all required unless noted):

========================= =================================================================
``sub``                   the user id
``meeting_id``            the meeting the token admits to; checked against the meeting the
                          client asks to join (``ERROR_CODE_MEETING_MISMATCH`` otherwise)
``role``                  ``"host"`` or ``"participant"``
``display_name``          optional; the name the roster shows
``iat``, ``exp``          issued at / expires at, integer Unix seconds; ``exp`` is checked
                          with no leeway against the ``now`` the caller passes
``iss``                   :data:`JOIN_TOKEN_ISSUER` unless configured otherwise
``aud``                   :data:`JOIN_TOKEN_AUDIENCE`: a token the GC signs for some other
                          service with the same key is not a join token and is refused
========================= =================================================================

Every failure is a :class:`~meeting_controller.errors.TokenError` whose ``code`` is the name of
the signaling ``ErrorCode`` the client should receive.
"""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path
from typing import Any, Final, Literal, cast

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from meeting_controller import errors

Role = Literal["host", "participant"]
ROLES: Final[tuple[Role, ...]] = ("host", "participant")

ALGORITHM: Final = "EdDSA"
JOIN_TOKEN_ISSUER: Final = "meeting-controller-gc"
JOIN_TOKEN_AUDIENCE: Final = "meeting-controller"

#: Tokens longer than this are refused before parsing: a real join token is a few hundred
#: bytes, and parsing attacker-sized input is work we do not need to do.
MAX_TOKEN_LENGTH: Final = 4096
#: How far in the future ``iat`` may lie (clock skew between the GC and an MC) before the
#: token is refused as invalid. ``exp`` itself gets no leeway.
MAX_CLOCK_SKEW_SECONDS: Final = 30.0

INVALID: Final = "ERROR_CODE_INVALID_JOIN_TOKEN"
EXPIRED: Final = "ERROR_CODE_JOIN_TOKEN_EXPIRED"
MISMATCH: Final = "ERROR_CODE_MEETING_MISMATCH"

_REQUIRED_CLAIMS: Final = ["sub", "meeting_id", "role", "iat", "exp", "iss", "aud"]


@dataclasses.dataclass(frozen=True, slots=True)
class JoinClaims:
    """What a verified join token grants."""

    user_id: str
    """The ``sub`` claim: who joins."""
    meeting_id: str
    """The meeting the token admits to (already checked against the requested one)."""
    role: Role
    """``"host"`` (may host-mute others) or ``"participant"``."""
    display_name: str | None
    """The name to show, if the GC put one in the token."""
    expires_at: int
    """``exp``: Unix seconds after which the token is refused."""


def issue_join_token(
    *,
    signing_key: ed25519.Ed25519PrivateKey,
    user_id: str,
    meeting_id: str,
    role: Role,
    now: float,
    ttl_seconds: float,
    display_name: str | None = None,
    issuer: str = JOIN_TOKEN_ISSUER,
    audience: str = JOIN_TOKEN_AUDIENCE,
) -> tuple[str, int]:
    """Sign a join token; return it with its ``exp`` (Unix seconds).

    ``exp`` is rounded *down* to whole seconds so a token never lives longer than asked.
    Invalid input is our own bug (the GC validates requests first), hence ``ValueError``.
    """
    if not user_id:
        raise ValueError("user_id must not be empty")
    if not meeting_id:
        raise ValueError("meeting_id must not be empty")
    if role not in ROLES:
        raise ValueError(f"role must be one of {ROLES}, not {role!r}")
    if not ttl_seconds > 0:
        raise ValueError(f"ttl_seconds must be positive, not {ttl_seconds!r}")
    issued_at = math.floor(now)
    expires_at = math.floor(now + ttl_seconds)
    payload: dict[str, Any] = {
        "sub": user_id,
        "meeting_id": meeting_id,
        "role": role,
        "iat": issued_at,
        "exp": expires_at,
        "iss": issuer,
        "aud": audience,
    }
    if display_name is not None:
        payload["display_name"] = display_name
    token = jwt.encode(payload, signing_key, algorithm=ALGORITHM)
    return token, expires_at


def verify_join_token(
    token: str,
    *,
    public_key: ed25519.Ed25519PublicKey,
    meeting_id: str,
    now: float,
    issuer: str = JOIN_TOKEN_ISSUER,
    audience: str = JOIN_TOKEN_AUDIENCE,
    check_expiry: bool = True,
) -> JoinClaims:
    """Verify ``token`` for a join to ``meeting_id`` at time ``now`` (Unix seconds).

    ``check_expiry=False`` is for resumes: there the session token is the credential that
    must be fresh, and the join token only proves who resumes (its signature, meeting and
    user are still checked), so a participant in a long meeting can reconnect after its join
    token ran out.

    Checks, in this order: size and shape, algorithm (pinned to EdDSA), signature, required
    claims, issuer, audience, claim types, ``iat`` not in the future beyond the allowed clock
    skew, expiry (``now >= exp`` is expired), role, meeting id. A forged token therefore
    reports "invalid" even when it is also expired or for another meeting: nothing in an
    unauthenticated token is believed.

    Raises :class:`~meeting_controller.errors.TokenError` with ``code`` one of
    ``ERROR_CODE_INVALID_JOIN_TOKEN``, ``ERROR_CODE_JOIN_TOKEN_EXPIRED``,
    ``ERROR_CODE_MEETING_MISMATCH``.
    """
    if not isinstance(public_key, ed25519.Ed25519PublicKey):
        raise TypeError(f"public_key must be an Ed25519 public key, not {type(public_key)!r}")
    if not token:
        raise errors.TokenError(INVALID, "the join token is empty")
    if len(token) > MAX_TOKEN_LENGTH:
        raise errors.TokenError(
            INVALID, f"the join token is {len(token)} characters long (at most {MAX_TOKEN_LENGTH})"
        )
    try:
        payload = jwt.decode(
            token,
            key=public_key,
            algorithms=[ALGORITHM],
            issuer=issuer,
            audience=audience,
            options={
                "require": _REQUIRED_CLAIMS,
                # Time is checked below against the caller's `now`, not PyJWT's own clock.
                "verify_exp": False,
                "verify_iat": False,
                "verify_nbf": False,
            },
        )
    except jwt.InvalidAlgorithmError as exc:
        raise errors.TokenError(
            INVALID, f"the join token is not signed with {ALGORITHM}: {exc}"
        ) from None
    except jwt.InvalidSignatureError:
        raise errors.TokenError(
            INVALID, "the join token's signature does not verify with the GC's public key"
        ) from None
    except jwt.InvalidTokenError as exc:
        raise errors.TokenError(INVALID, f"the join token is invalid: {exc}") from None

    user_id = payload["sub"]
    token_meeting_id = payload["meeting_id"]
    role = payload["role"]
    display_name = payload.get("display_name")
    issued_at = payload["iat"]
    expires_at = payload["exp"]
    if not isinstance(user_id, str) or not user_id:
        raise errors.TokenError(
            INVALID, "the join token's sub (user id) must be a non-empty string"
        )
    if not isinstance(token_meeting_id, str) or not token_meeting_id:
        raise errors.TokenError(INVALID, "the join token's meeting_id must be a non-empty string")
    if display_name is not None and not isinstance(display_name, str):
        raise errors.TokenError(INVALID, "the join token's display_name must be a string")
    if not _is_integer(issued_at) or not _is_integer(expires_at):
        raise errors.TokenError(INVALID, "the join token's iat and exp must be integers")
    if issued_at > now + MAX_CLOCK_SKEW_SECONDS:
        raise errors.TokenError(
            INVALID,
            f"the join token was issued in the future (iat {issued_at}, now {math.floor(now)})",
        )
    if check_expiry and now >= expires_at:
        raise errors.TokenError(
            EXPIRED, f"the join token expired at {expires_at} (now {math.floor(now)})"
        )
    if role not in ROLES:
        raise errors.TokenError(
            INVALID, f"the join token's role must be one of {list(ROLES)}, not {role!r}"
        )
    if token_meeting_id != meeting_id:
        raise errors.TokenError(
            MISMATCH,
            f"the join token is for meeting {token_meeting_id!r}, not {meeting_id!r}",
        )
    return JoinClaims(
        user_id=user_id,
        meeting_id=token_meeting_id,
        role=cast(Role, role),
        display_name=display_name,
        expires_at=int(expires_at),
    )


def _is_integer(value: object) -> bool:
    # bool is an int subclass; `"exp": true` is not a time.
    return isinstance(value, int) and not isinstance(value, bool)


# ---------------------------------------------------------------------------------------------
# Keys
# ---------------------------------------------------------------------------------------------


def generate_signing_key() -> ed25519.Ed25519PrivateKey:
    """A fresh Ed25519 signing key (for a GC started without ``--signing-key-file``)."""
    return ed25519.Ed25519PrivateKey.generate()


def private_key_pem(key: ed25519.Ed25519PrivateKey) -> bytes:
    """PKCS#8 PEM, unencrypted (the file's permissions protect it, as for any k8s Secret)."""
    return key.private_bytes(
        encoding=serialization.Encoding.PEM,
        format=serialization.PrivateFormat.PKCS8,
        encryption_algorithm=serialization.NoEncryption(),
    )


def public_key_pem(key: ed25519.Ed25519PublicKey | ed25519.Ed25519PrivateKey) -> bytes:
    """SubjectPublicKeyInfo PEM of the public half: the file MCs verify join tokens with."""
    public = key.public_key() if isinstance(key, ed25519.Ed25519PrivateKey) else key
    return public.public_bytes(
        encoding=serialization.Encoding.PEM,
        format=serialization.PublicFormat.SubjectPublicKeyInfo,
    )


def load_private_key(path: Path) -> ed25519.Ed25519PrivateKey:
    """Load an Ed25519 private key from a PEM file.

    Raises :class:`~meeting_controller.errors.ConfigError` naming the file when it cannot be
    read, is not PEM, is encrypted, or holds another kind of key: a misconfigured key must stop
    the process at start-up with a message an operator can act on.
    """
    data = _read_key_file(path, "private")
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError) as exc:
        raise errors.ConfigError(
            f"{path}: not an unencrypted PEM private key ({_first_line(exc)})"
        ) from None
    except Exception as exc:  # cryptography raises UnsupportedAlgorithm for some key types
        raise errors.ConfigError(f"{path}: cannot load the private key ({exc})") from None
    if not isinstance(key, ed25519.Ed25519PrivateKey):
        raise errors.ConfigError(
            f"{path}: holds a {type(key).__name__}, but join tokens need an Ed25519 key "
            "(generate one with: openssl genpkey -algorithm ed25519)"
        )
    return key


def load_public_key(path: Path) -> ed25519.Ed25519PublicKey:
    """Load an Ed25519 public key from a PEM file (errors as :func:`load_private_key`)."""
    return public_key_from_pem(_read_key_file(path, "public"), source=str(path))


def public_key_from_pem(data: bytes | str, *, source: str) -> ed25519.Ed25519PublicKey:
    """Parse an Ed25519 public key from PEM text (e.g. one already read into the settings).

    ``source`` names where the text came from (a file, an environment variable) in the
    :class:`~meeting_controller.errors.ConfigError` raised when it is not such a key.
    """
    if isinstance(data, str):
        data = data.encode("utf-8")
    try:
        key = serialization.load_pem_public_key(data)
    except (ValueError, TypeError) as exc:
        raise errors.ConfigError(f"{source}: not a PEM public key ({_first_line(exc)})") from None
    except Exception as exc:
        raise errors.ConfigError(f"{source}: cannot load the public key ({exc})") from None
    if not isinstance(key, ed25519.Ed25519PublicKey):
        raise errors.ConfigError(
            f"{source}: holds a {type(key).__name__}, but join tokens need an Ed25519 public key"
        )
    return key


def _read_key_file(path: Path, kind: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise errors.ConfigError(
            f"{path}: cannot read the {kind} key file ({exc.strerror or exc})"
        ) from None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
