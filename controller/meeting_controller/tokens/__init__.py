"""Tokens the Meeting Controller verifies: join tokens (JWTs signed by the GC).

The public surface is re-exported here; see :mod:`meeting_controller.tokens.join` for the claim
set and the reasons behind it.
"""

from meeting_controller.tokens.join import (
    ALGORITHM,
    JOIN_TOKEN_AUDIENCE,
    JOIN_TOKEN_ISSUER,
    MAX_CLOCK_SKEW_SECONDS,
    MAX_TOKEN_LENGTH,
    ROLES,
    JoinClaims,
    Role,
    generate_signing_key,
    issue_join_token,
    load_private_key,
    load_public_key,
    private_key_pem,
    public_key_from_pem,
    public_key_pem,
    verify_join_token,
)

__all__ = [
    "ALGORITHM",
    "JOIN_TOKEN_AUDIENCE",
    "JOIN_TOKEN_ISSUER",
    "MAX_CLOCK_SKEW_SECONDS",
    "MAX_TOKEN_LENGTH",
    "ROLES",
    "JoinClaims",
    "Role",
    "generate_signing_key",
    "issue_join_token",
    "load_private_key",
    "load_public_key",
    "private_key_pem",
    "public_key_from_pem",
    "public_key_pem",
    "verify_join_token",
]
