"""The fenced Redis state store: the only code of the MC that talks to Redis.

Redis holds what another MC needs to take a meeting over (the MH assignment, the meeting's
metadata, its participants, the participants' sessions). Two MCs may believe they own the same
meeting (a partition, a slow drain, a dead MC coming back), so every write is **fenced**: the
writer passes the *generation* it obtained when it claimed the meeting, and a Lua script
compares it with ``meeting:{<id>}:generation`` in the same atomic step as the write. A claim
moves the generation to generation + 1, so after a takeover every write of the previous owner
fails with :class:`~meeting_controller.errors.FencedOut` (and is counted in
``mc_fenced_out_total``) instead of silently overwriting the new owner's state.

Storage layout (see :mod:`meeting_controller.store.keys` for the key names):

* ``:generation`` is a STRING holding an integer; 0 ("no key") means nobody owns the meeting.
* ``:mh`` is the MH assignment as a JSON STRING, stored verbatim.
* ``:state`` is a HASH of string fields (meeting metadata).
* ``:participants`` is a SET of participant ids.
* ``session:{<id>}`` is a HASH of string fields (session token state, participant id, meeting
  id, role, mute flags, last sequence numbers, ... chosen by the caller). A HASH rather than a
  JSON string so a field can be read (``HGET``) or, later, updated (``HSET``) on its own.

Every key has a TTL and none is ever written without one: the scripts give all four keys of a
meeting the meeting TTL on every write (so they expire together), and sessions get the TTL the
caller passes. The owner keeps a live meeting's keys alive with :meth:`FencedRedisClient.refresh`.

Errors: redis-py's exceptions never leave this module. Connection failures, timeouts and error
replies become :class:`~meeting_controller.errors.StoreError` (the message names the operation
and the URL, password redacted); invalid ids raise :class:`~meeting_controller.store.keys.
InvalidId` before any I/O. When Redis comes back after an outage the same client works again:
redis-py reconnects on the next command, and scripts lost by the restart are reloaded on
NOSCRIPT (:class:`~meeting_controller.store.scripting.Scripts`).

Redis Cluster: a meeting's keys share the hash tag ``{<meeting id>}`` and so one slot; the
meeting scripts run on a Cluster. The session scripts also read the meeting's generation key,
whose slot differs from the session key's (``{<session id>}``): on a Cluster they would fail
with CROSSSLOT. The key names are fixed by the integration guide, so sessions on a Cluster
would need a different fencing scheme; a single Redis (or a primary with replicas) is fine.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from collections.abc import Awaitable, Iterator, Mapping
from types import TracebackType
from typing import cast

from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import AuthenticationError, AuthorizationError, RedisError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from meeting_controller import errors, metrics
from meeting_controller.store import keys, scripting

#: Default TTL of a meeting's keys: an hour. The owner refreshes it well before it runs out;
#: if every owner is gone, the state expires instead of lingering forever.
DEFAULT_MEETING_TTL_MS = 60 * 60 * 1000

#: ``mc_fenced_out_total`` reasons: a newer claim moved the generation on, or the generation
#: key is gone (the meeting was deleted or expired, so nobody may write without a new claim).
REASON_NEWER_OWNER = "newer_owner"
REASON_MEETING_GONE = "meeting_gone"

# Pre-create the label sets, so dashboards see zeros instead of gaps (as metrics.py does).
for _reason in (REASON_NEWER_OWNER, REASON_MEETING_GONE):
    metrics.fenced_out_total.labels(reason=_reason)


@dataclasses.dataclass(frozen=True)
class MeetingRecord:
    """Everything the store holds for a meeting, read in one atomic snapshot.

    What an MC needs to take a meeting over: claim it first (so the previous owner can no
    longer change it), then load it.
    """

    meeting_id: str
    #: The fencing generation stored when the snapshot was taken.
    generation: int
    #: The MH assignment JSON exactly as stored, or None when none was assigned.
    mh_assignment_json: str | None
    #: The meeting metadata hash.
    state: Mapping[str, str]
    #: The participant ids.
    participants: frozenset[str]


def redact_url(url: str) -> str:
    """Return ``url`` with its password (userinfo or ``?password=``) replaced by ``***``.

    Pure. Used in every message that names the Redis URL, so logs never carry the secret. The
    rest of the URL is kept byte for byte (no re-encoding), so it still reads as configured.
    """
    scheme, separator, rest = url.partition("://")
    if separator:
        ends = [index for index in (rest.find(char) for char in "/?#") if index != -1]
        end = min(ends, default=len(rest))
        netloc, tail = rest[:end], rest[end:]
        userinfo, at, hostport = netloc.rpartition("@")
        user, has_password, _ = userinfo.partition(":")
        if at and has_password:
            netloc = f"{user}:***@{hostport}"
        url = f"{scheme}://{netloc}{tail}"
    base, question, query_and_fragment = url.partition("?")
    if not question:
        return url
    query, hash_sign, fragment = query_and_fragment.partition("#")
    parameters = [
        "password=***" if parameter.partition("=")[0].lower() == "password" else parameter
        for parameter in query.split("&")
    ]
    return f"{base}?{'&'.join(parameters)}{hash_sign}{fragment}"


def _check_generation(generation: int) -> int:
    if isinstance(generation, bool) or not isinstance(generation, int) or generation < 1:
        raise ValueError(f"a fencing generation is an int >= 1, got {generation!r}")
    return generation


def _check_ttl(ttl_ms: int, *, name: str) -> int:
    # PEXPIRE with 0 or less deletes the key: never let a bad TTL turn a write into a delete.
    if isinstance(ttl_ms, bool) or not isinstance(ttl_ms, int) or ttl_ms < 1:
        raise ValueError(f"{name} is a number of milliseconds >= 1, got {ttl_ms!r}")
    return ttl_ms


class FencedRedisClient:
    """Fenced reads and writes of meeting and session state in Redis.

    One instance per MC process, shared by all its meetings (redis-py pools connections).
    Construction does no I/O; :meth:`connect` checks the server eagerly so a wrong URL fails
    the MC's start-up instead of its first assignment.
    """

    def __init__(
        self,
        url: str,
        *,
        meeting_ttl_ms: int = DEFAULT_MEETING_TTL_MS,
        connect_timeout_s: float = 2.0,
        command_timeout_s: float = 2.0,
    ) -> None:
        """Configure a client for the Redis at ``url`` (``redis://``, ``rediss://``, ``unix://``).

        The timeouts bound how long an operation may hang on an unreachable or stalled Redis.

        Every command is sent at most once (redis-py's automatic retries are off): when a
        connection dies mid-command, Redis may or may not have run the script, and a silent
        retry could claim a meeting twice or report a claim's own success as a stale
        generation. The caller gets a StoreError and decides. Connections that died while idle
        (e.g. across a Redis restart) are still replaced transparently: redis-py checks a
        pooled connection before handing it out.
        """
        self._meeting_ttl_ms = _check_ttl(meeting_ttl_ms, name="meeting_ttl_ms")
        self._url = redact_url(url)
        self._command_timeout_s = command_timeout_s
        try:
            self._redis = Redis.from_url(
                url,
                decode_responses=True,
                socket_connect_timeout=connect_timeout_s,
                socket_timeout=command_timeout_s,
                retry=Retry(NoBackoff(), 0),
            )
        except ValueError as error:
            raise errors.ConfigError(f"invalid Redis URL {self._url!r}: {error}") from error
        self._scripts = scripting.Scripts(self._redis)

    @property
    def url(self) -> str:
        """The Redis URL with its password redacted (safe to log)."""
        return self._url

    @property
    def meeting_ttl_ms(self) -> int:
        """The TTL every write gives a meeting's keys."""
        return self._meeting_ttl_ms

    @property
    def scripts(self) -> scripting.Scripts:
        """The Lua scripts (their SHAs and reload count), for diagnostics and tests."""
        return self._scripts

    # -- lifecycle ----------------------------------------------------------------------------

    async def connect(self) -> None:
        """Check that Redis answers and load every script; raise StoreError if it does not.

        Called once at MC start-up: failing here, with the URL in the message, is the clear
        error an operator needs, rather than a failure on the first assignment.
        """
        with self._translate_errors("connect"):
            await cast("Awaitable[object]", self._redis.ping())
            await self._scripts.load_all()

    async def close(self) -> None:
        """Close every pooled connection."""
        with contextlib.suppress(RedisError, OSError):
            await self._redis.aclose()

    async def __aenter__(self) -> FencedRedisClient:
        await self.connect()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def ping(self) -> bool:
        """True when Redis answers PING within the command timeout; never raises.

        Readiness (``/readyz``) asks this; an exception there would turn "Redis is down" into
        "the probe handler crashed".
        """
        try:
            async with asyncio.timeout(self._command_timeout_s):
                return bool(await cast("Awaitable[object]", self._redis.ping()))
        except Exception:
            return False

    # -- meeting ownership --------------------------------------------------------------------

    async def claim_meeting(
        self, meeting_id: str, *, expected_generation: int | None = None
    ) -> int:
        """Take ownership of a meeting: move its generation to generation + 1 and return it.

        Whoever held the previous generation is fenced out from now on, which is exactly what a
        takeover (drain migration, failover) needs: claim first, then :meth:`load_meeting`.
        With ``expected_generation`` (the generation the assignment was based on), a stored
        generation greater than it means the assignment is older than the stored state:
        :class:`~meeting_controller.errors.StaleGeneration` is raised and nothing changes.
        The claim gives all of the meeting's keys a fresh TTL.
        """
        meeting = keys.meeting_keys(meeting_id)
        if expected_generation is not None and (
            isinstance(expected_generation, bool)
            or not isinstance(expected_generation, int)
            or expected_generation < 0
        ):
            raise ValueError(f"expected_generation is an int >= 0, got {expected_generation!r}")
        with self._translate_errors("claim_meeting"):
            reply = await self._scripts.claim(
                meeting, ttl_ms=self._meeting_ttl_ms, expected_generation=expected_generation
            )
        if isinstance(reply, scripting.Stale):
            assert expected_generation is not None
            raise errors.StaleGeneration(
                meeting_id=meeting_id, offered=expected_generation, current=reply.current
            )
        return reply.value

    async def get_generation(self, meeting_id: str) -> int:
        """The stored fencing generation of a meeting; 0 when nobody has claimed it."""
        meeting = keys.meeting_keys(meeting_id)
        with self._translate_errors("get_generation"):
            value = await cast("Awaitable[str | None]", self._redis.get(meeting.generation))
        return int(value) if value is not None else 0

    async def assign(
        self,
        meeting_id: str,
        *,
        generation: int,
        mh_assignment_json: str,
        state: Mapping[str, str],
    ) -> None:
        """Store the MH assignment and the meeting metadata (replacing earlier metadata).

        One script, so another MC never sees the assignment without its metadata. Fenced.
        """
        meeting = keys.meeting_keys(meeting_id)
        held = _check_generation(generation)
        with self._translate_errors("assign"):
            reply = await self._scripts.assign(
                meeting,
                held=held,
                ttl_ms=self._meeting_ttl_ms,
                mh_assignment_json=mh_assignment_json,
                state=state,
            )
        self._unfenced(reply, meeting_id=meeting_id, held=held, operation="assign")

    async def unassign(self, meeting_id: str, *, generation: int) -> None:
        """Roll back a failed assignment: remove its MH assignment, metadata and participants.

        Fenced. The generation key goes too when ``generation`` is 1, i.e. when this MC's claim
        created it: rolling back a meeting's first claim leaves the keyspace as it was. After a
        takeover (generation > 1) the generation is kept, with a fresh TTL, because lowering or
        removing it would let the previous owner's fenced-out writes through again. If the
        meeting's generation key is already gone (a retried rollback), this is a no-op.
        """
        meeting = keys.meeting_keys(meeting_id)
        held = _check_generation(generation)
        with self._translate_errors("unassign"):
            reply = await self._scripts.unassign(meeting, held=held, ttl_ms=self._meeting_ttl_ms)
        self._unfenced(reply, meeting_id=meeting_id, held=held, operation="unassign")

    async def update_state(
        self, meeting_id: str, *, generation: int, fields: Mapping[str, str]
    ) -> None:
        """Merge ``fields`` into the meeting metadata. Fenced; refreshes the meeting's TTL."""
        meeting = keys.meeting_keys(meeting_id)
        held = _check_generation(generation)
        with self._translate_errors("update_state"):
            reply = await self._scripts.update_state(
                meeting, held=held, ttl_ms=self._meeting_ttl_ms, fields=fields
            )
        self._unfenced(reply, meeting_id=meeting_id, held=held, operation="update_state")

    async def add_participant(
        self, meeting_id: str, *, generation: int, participant_id: str
    ) -> bool:
        """Add a participant id to the meeting; True if it was not there yet. Fenced."""
        meeting = keys.meeting_keys(meeting_id)
        keys.validate_id(participant_id, kind=keys.PARTICIPANT_ID)
        held = _check_generation(generation)
        with self._translate_errors("add_participant"):
            reply = await self._scripts.add_participant(
                meeting, held=held, ttl_ms=self._meeting_ttl_ms, participant_id=participant_id
            )
        ok = self._unfenced(reply, meeting_id=meeting_id, held=held, operation="add_participant")
        return ok.value == 1

    async def remove_participant(
        self, meeting_id: str, *, generation: int, participant_id: str
    ) -> bool:
        """Remove a participant id from the meeting; True if it was there. Fenced."""
        meeting = keys.meeting_keys(meeting_id)
        keys.validate_id(participant_id, kind=keys.PARTICIPANT_ID)
        held = _check_generation(generation)
        with self._translate_errors("remove_participant"):
            reply = await self._scripts.remove_participant(
                meeting, held=held, ttl_ms=self._meeting_ttl_ms, participant_id=participant_id
            )
        ok = self._unfenced(reply, meeting_id=meeting_id, held=held, operation="remove_participant")
        return ok.value == 1

    async def refresh(self, meeting_id: str, *, generation: int) -> None:
        """Give every key of the meeting the full TTL again. Fenced.

        The owner calls this periodically (well within the TTL) so a live meeting's state never
        expires, while the state of a meeting whose owners all died does.
        """
        meeting = keys.meeting_keys(meeting_id)
        held = _check_generation(generation)
        with self._translate_errors("refresh"):
            reply = await self._scripts.refresh(meeting, held=held, ttl_ms=self._meeting_ttl_ms)
        self._unfenced(reply, meeting_id=meeting_id, held=held, operation="refresh")

    async def load_meeting(self, meeting_id: str) -> MeetingRecord | None:
        """Everything stored for a meeting, atomically; None when it has no generation key.

        For a takeover: claim the meeting first, then load it, so the snapshot cannot change
        under the new owner (every other writer is fenced out by then).
        """
        meeting = keys.meeting_keys(meeting_id)
        with self._translate_errors("load_meeting"):
            snapshot = await self._scripts.load_meeting(meeting)
        if snapshot.generation == 0:
            return None
        return MeetingRecord(
            meeting_id=meeting_id,
            generation=snapshot.generation,
            mh_assignment_json=snapshot.mh_assignment_json,
            state=snapshot.state,
            participants=snapshot.participants,
        )

    async def delete_meeting(self, meeting_id: str, *, generation: int) -> None:
        """Remove every key of the meeting when it ends. Fenced; a no-op if already gone.

        Sessions are not touched: they are keyed by session id and expire with their own TTL.
        """
        meeting = keys.meeting_keys(meeting_id)
        held = _check_generation(generation)
        with self._translate_errors("delete_meeting"):
            reply = await self._scripts.delete_meeting(meeting, held=held)
        self._unfenced(reply, meeting_id=meeting_id, held=held, operation="delete_meeting")

    # -- sessions -----------------------------------------------------------------------------

    async def put_session(
        self,
        meeting_id: str,
        *,
        generation: int,
        session_id: str,
        data: Mapping[str, str],
        ttl_ms: int,
    ) -> None:
        """Store (replace) a participant session, with its own TTL, fenced by its meeting.

        ``ttl_ms`` is per call because a session lives as long as its token (minutes), not as
        long as the meeting. ``data`` must not be empty (Redis has no empty hashes).
        """
        meeting = keys.meeting_keys(meeting_id)
        session = keys.session_key(session_id)
        held = _check_generation(generation)
        _check_ttl(ttl_ms, name="ttl_ms")
        if not data:
            raise ValueError(f"session {session_id!r}: data must not be empty")
        with self._translate_errors("put_session"):
            reply = await self._scripts.put_session(
                generation_key=meeting.generation,
                session_key=session,
                held=held,
                ttl_ms=ttl_ms,
                data=data,
            )
        self._unfenced(reply, meeting_id=meeting_id, held=held, operation="put_session")

    async def get_session(self, session_id: str) -> dict[str, str] | None:
        """The stored session data, or None when the session does not exist (or expired)."""
        session = keys.session_key(session_id)
        with self._translate_errors("get_session"):
            data = await cast("Awaitable[dict[str, str]]", self._redis.hgetall(session))
        return data or None

    async def delete_session(self, meeting_id: str, *, generation: int, session_id: str) -> bool:
        """Remove a participant session; True if it existed. Fenced by its meeting."""
        meeting = keys.meeting_keys(meeting_id)
        session = keys.session_key(session_id)
        held = _check_generation(generation)
        with self._translate_errors("delete_session"):
            reply = await self._scripts.delete_session(
                generation_key=meeting.generation, session_key=session, held=held
            )
        ok = self._unfenced(reply, meeting_id=meeting_id, held=held, operation="delete_session")
        return ok.value == 1

    # -- edges --------------------------------------------------------------------------------

    @staticmethod
    def _unfenced(
        reply: scripting.Ok | scripting.Fenced, *, meeting_id: str, held: int, operation: str
    ) -> scripting.Ok:
        """Return the Ok reply, or count the refusal and raise FencedOut."""
        if isinstance(reply, scripting.Fenced):
            reason = REASON_MEETING_GONE if reply.current == 0 else REASON_NEWER_OWNER
            metrics.fenced_out_total.labels(reason=reason).inc()
            raise errors.FencedOut(
                meeting_id=meeting_id, held=held, current=reply.current, operation=operation
            )
        return reply

    @contextlib.contextmanager
    def _translate_errors(self, operation: str) -> Iterator[None]:
        """Turn redis-py and socket errors into StoreError naming the operation and URL.

        The wording says what an operator should look at: the network (unreachable), the
        credentials, or the command (an error reply). At start-up every failure reads as
        "cannot connect", since the MC cannot run on that Redis either way.
        """
        try:
            yield
        except (AuthenticationError, AuthorizationError) as error:
            what = f"Redis at {self._url} refused the credentials"
            raise errors.StoreError(self._message(what, operation, error)) from error
        except (RedisConnectionError, RedisTimeoutError, OSError) as error:
            what = f"Redis is unreachable at {self._url}"
            raise errors.StoreError(self._message(what, operation, error)) from error
        except RedisError as error:
            what = f"Redis at {self._url} answered with an error"
            raise errors.StoreError(self._message(what, operation, error)) from error

    def _message(self, what: str, operation: str, error: BaseException) -> str:
        if operation == "connect":
            what = f"cannot connect to Redis at {self._url}"
        return f"{what} ({operation}): {str(error) or type(error).__name__}"
