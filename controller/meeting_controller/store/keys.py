"""The Redis key schema of the Meeting Controller, and the validation of the ids in it.

Purely data-manipulative: no I/O. The key names are exactly the ones the integration guide
lists, braces included::

    meeting:{<meeting id>}:generation    STRING   fencing generation (monotonic counter)
    meeting:{<meeting id>}:mh            STRING   MH assignment (JSON)
    meeting:{<meeting id>}:state         HASH     meeting metadata
    meeting:{<meeting id>}:participants  SET      participant ids
    session:{<session id>}               HASH     participant session data (field -> value)

The braces are a Redis Cluster *hash tag*: Cluster hashes only the text between the first
``{`` and the next ``}``, so every key of one meeting lands in the same slot and the multi-key
Lua scripts that fence a meeting's writes also run on a Cluster. That is why an id may not
contain a brace (a ``}`` would end the tag early and scatter one meeting over several slots),
nor whitespace or control characters (they make keys unreadable in ``redis-cli`` and logs and
are never legitimate in the ids the GC and the MC mint). Ids are validated before any key is
built, so an invalid id can never reach Redis.
"""

from __future__ import annotations

import dataclasses
import functools
import unicodedata

#: The longest id accepted, in characters. Ids are UUIDs or short codes in practice; the bound
#: keeps keys (and the memory and log lines they cost) small whatever a caller sends.
MAX_ID_LENGTH = 256

#: The id kinds named in error messages.
MEETING_ID = "meeting id"
SESSION_ID = "session id"
PARTICIPANT_ID = "participant id"


class InvalidId(ValueError):
    """An id cannot be used in a Redis key (or as a stored member); the message says why.

    A ``ValueError`` because it is raised before any I/O for a bad argument; callers that take
    ids from the network (the gRPC and signaling adapters) should catch it and reject the
    request.
    """

    def __init__(self, *, kind: str, value: str, reason: str) -> None:
        shown = value if len(value) <= 40 else value[:40] + "..."
        super().__init__(f"invalid {kind} {shown!r}: {reason}")
        self.kind = kind
        self.value = value
        self.reason = reason


def id_problem(value: str) -> str | None:
    """Say what is wrong with ``value`` as an id, or return None when it is acceptable.

    Separate from :func:`validate_id` so that callers (and tests) can ask without catching.
    """
    if not value:
        return "must not be empty"
    if len(value) > MAX_ID_LENGTH:
        return f"must be at most {MAX_ID_LENGTH} characters, got {len(value)}"
    for position, char in enumerate(value):
        if char in "{}":
            return (
                f"must not contain {char!r} (position {position}): braces would break the "
                "Redis Cluster hash tag that keeps a meeting's keys in one slot"
            )
        if char.isspace():
            return f"must not contain whitespace (position {position})"
        if unicodedata.category(char).startswith("C"):
            return f"must not contain control or unassigned characters (position {position})"
    return None


def validate_id(value: str, *, kind: str) -> str:
    """Return ``value`` unchanged when it is a valid id, else raise :class:`InvalidId`.

    A non-string is a bug in the caller, not bad input, hence ``TypeError``.
    """
    if not isinstance(value, str):
        raise TypeError(f"a {kind} must be a str, got {type(value).__name__}")
    problem = id_problem(value)
    if problem is not None:
        raise InvalidId(kind=kind, value=value, reason=problem)
    return value


@dataclasses.dataclass(frozen=True)
class MeetingKeys:
    """The four keys of one meeting, in the order the Lua scripts receive them as ``KEYS``."""

    generation: str
    mh: str
    state: str
    participants: str

    @property
    def all(self) -> tuple[str, str, str, str]:
        """All four keys, generation first (the scripts' ``KEYS[1]``..``KEYS[4]``)."""
        return (self.generation, self.mh, self.state, self.participants)


@functools.lru_cache(maxsize=4096)
def meeting_keys(meeting_id: str) -> MeetingKeys:
    """Build the keys of ``meeting_id`` (validated first).

    Cached: every write of a meeting needs its keys, and validating the id character by
    character on each of them was a measurable share of the client's time per write (the
    client, not Redis, limits the write rate). Invalid ids raise and are never cached.
    """
    validate_id(meeting_id, kind=MEETING_ID)
    prefix = f"meeting:{{{meeting_id}}}"
    return MeetingKeys(
        generation=f"{prefix}:generation",
        mh=f"{prefix}:mh",
        state=f"{prefix}:state",
        participants=f"{prefix}:participants",
    )


def session_key(session_id: str) -> str:
    """Build the key of a participant session (validated first)."""
    validate_id(session_id, kind=SESSION_ID)
    return f"session:{{{session_id}}}"


def cluster_hash_tag(key: str) -> str:
    """Return the part of ``key`` that Redis Cluster hashes to choose the key's slot.

    Redis's rule: if the key has a ``{`` followed later by a ``}`` with at least one character
    between them, only that first tag is hashed; otherwise the whole key is. Two keys with the
    same result live in the same slot, which multi-key scripts on a Cluster require.
    """
    start = key.find("{")
    if start == -1:
        return key
    end = key.find("}", start + 1)
    if end == -1 or end == start + 1:
        return key
    return key[start + 1 : end]
