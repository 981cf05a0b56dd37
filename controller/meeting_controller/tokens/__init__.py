"""Tokens the Meeting Controller verifies: join tokens (JWTs signed by the GC) and session tokens
(HMACs the MC fleet issues for resuming a session).

The public surface is re-exported here; see :mod:`meeting_controller.tokens.join` and
:mod:`meeting_controller.tokens.session` for the claim sets and the reasons behind them.
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
from meeting_controller.tokens.session import (
    MAX_SESSION_TOKEN_LENGTH,
    MIN_MASTER_SECRET_LENGTH,
    SESSION_TOKEN_VERSION,
    SessionClaims,
    derive_session_key,
    issue_session_token,
    new_nonce,
    new_participant_id,
    new_session_id,
    verify_session_token,
)

__all__ = [
    "ALGORITHM",
    "JOIN_TOKEN_AUDIENCE",
    "JOIN_TOKEN_ISSUER",
    "MAX_CLOCK_SKEW_SECONDS",
    "MAX_SESSION_TOKEN_LENGTH",
    "MAX_TOKEN_LENGTH",
    "MIN_MASTER_SECRET_LENGTH",
    "ROLES",
    "SESSION_TOKEN_VERSION",
    "JoinClaims",
    "Role",
    "SessionClaims",
    "derive_session_key",
    "generate_signing_key",
    "issue_join_token",
    "issue_session_token",
    "load_private_key",
    "load_public_key",
    "new_nonce",
    "new_participant_id",
    "new_session_id",
    "private_key_pem",
    "public_key_from_pem",
    "public_key_pem",
    "verify_join_token",
    "verify_session_token",
]
