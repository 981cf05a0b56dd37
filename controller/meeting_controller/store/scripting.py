"""The store's Lua scripts and one typed wrapper per script.

Every multi-key operation of the store is a Lua script, because Redis runs a script
atomically: the fencing check (``GET generation``) and the write it guards cannot be separated
by another MC's claim. Each script lives in its own ``scripts/<name>.lua`` file (package data,
reviewable as Lua), with the shared helpers of ``scripts/prelude.lua`` prepended at load time
(Redis Lua has no include).

Scripts are sent once with ``SCRIPT LOAD`` and then run with ``EVALSHA``, so each call carries
a 40-byte digest instead of the script. Redis forgets loaded scripts when it restarts (and on
``SCRIPT FLUSH``); ``EVALSHA`` then answers ``NOSCRIPT`` without running anything, so
:meth:`Scripts.run` loads the script again and retries exactly once. Redis-py's
``register_script`` does the same implicitly; this module does it explicitly so the recovery
is visible, counted (:attr:`Scripts.reloads`) and tested.

This module speaks redis-py and lets its exceptions through; the caller
(:mod:`meeting_controller.store.fenced`) translates them into the project's errors.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import importlib.resources
import logging
from collections.abc import Awaitable, Mapping, Sequence
from typing import cast

from redis.asyncio import Redis
from redis.exceptions import NoScriptError

from meeting_controller.store.keys import MeetingKeys

logger = logging.getLogger(__name__)

#: The package that holds the ``.lua`` files.
_SCRIPTS_PACKAGE = "meeting_controller.store.scripts"
_PRELUDE = "prelude"

#: Every script, by file name (without ``.lua``).
SCRIPT_NAMES = (
    "claim",
    "assign",
    "unassign",
    "update_state",
    "add_participant",
    "remove_participant",
    "refresh",
    "delete_meeting",
    "load_meeting",
    "put_session",
    "delete_session",
)


@dataclasses.dataclass(frozen=True)
class LuaScript:
    """One script as Redis runs it: the prelude followed by the script's own text."""

    name: str
    source: str
    sha: str


@functools.cache
def read_script(name: str) -> LuaScript:
    """Read ``scripts/<name>.lua``, prepend the prelude and compute the SHA1 EVALSHA uses.

    Cached: the files are immutable package data, read once per process.
    """
    package = importlib.resources.files(_SCRIPTS_PACKAGE)
    prelude = package.joinpath(f"{_PRELUDE}.lua").read_text(encoding="utf-8")
    body = package.joinpath(f"{name}.lua").read_text(encoding="utf-8")
    source = f"{prelude}\n{body}"
    return LuaScript(name=name, source=source, sha=hashlib.sha1(source.encode()).hexdigest())


# ---------------------------------------------------------------------------------------------
# Replies. Every write script answers {'ok', value?} or {'fenced', current}; claim may answer
# {'stale', current}. These types make the callers handle each case (mypy checks the matches).


@dataclasses.dataclass(frozen=True)
class Ok:
    """The script did its work; ``value`` is its integer result where it has one, else 0."""

    value: int = 0


@dataclasses.dataclass(frozen=True)
class Fenced:
    """Nothing was written: the stored generation (``current``) is not the one held."""

    current: int


@dataclasses.dataclass(frozen=True)
class Stale:
    """Nothing was written: the stored generation is newer than the one the claim expected."""

    current: int


@dataclasses.dataclass(frozen=True)
class MeetingSnapshot:
    """Everything stored for a meeting, read atomically (generation 0 = no generation key)."""

    generation: int
    mh_assignment_json: str | None
    state: dict[str, str]
    participants: frozenset[str]


def _unexpected(script: str, reply: object) -> AssertionError:
    # A reply of a shape the script never sends means the script and this module disagree:
    # a bug, so it fails loudly (and is never mistaken for a store outage).
    return AssertionError(f"{script}: unexpected reply {reply!r}")


def parse_write_reply(reply: object, *, script: str) -> Ok | Fenced | Stale:
    """Turn a write script's raw reply into :class:`Ok`, :class:`Fenced` or :class:`Stale`.

    Pure. Any other shape raises ``AssertionError`` (see :func:`_unexpected`).
    """
    if not isinstance(reply, list) or not reply or len(reply) > 2:
        raise _unexpected(script, reply)
    status = reply[0]
    value = reply[1] if len(reply) == 2 else 0
    if not isinstance(value, int):
        raise _unexpected(script, reply)
    if status == "ok":
        return Ok(value)
    if status == "fenced":
        return Fenced(value)
    if status == "stale":
        return Stale(value)
    raise _unexpected(script, reply)


def parse_load_reply(reply: object) -> MeetingSnapshot:
    """Turn ``load_meeting``'s raw reply into a :class:`MeetingSnapshot` (pure)."""
    if not isinstance(reply, list) or len(reply) != 4:
        raise _unexpected("load_meeting", reply)
    generation, mh, flat_state, members = reply
    if (
        not isinstance(generation, int)
        or not (mh is None or isinstance(mh, str))
        or not isinstance(flat_state, list)
        or len(flat_state) % 2
        or not isinstance(members, list)
    ):
        raise _unexpected("load_meeting", reply)
    state = {str(flat_state[i]): str(flat_state[i + 1]) for i in range(0, len(flat_state), 2)}
    return MeetingSnapshot(
        generation=generation,
        mh_assignment_json=mh,
        state=state,
        participants=frozenset(str(member) for member in members),
    )


def _flatten(pairs: Mapping[str, str]) -> list[str]:
    flat: list[str] = []
    for field, value in pairs.items():
        flat.extend((field, value))
    return flat


class Scripts:
    """The store's scripts, bound to one redis-py client (which must decode responses).

    One method per script: its parameters are the script's ``KEYS`` and ``ARGV`` contract in
    typed form, its result the parsed reply.
    """

    def __init__(self, redis: Redis) -> None:
        self._redis = redis
        self._scripts = {name: read_script(name) for name in SCRIPT_NAMES}
        #: How many times a script had to be loaded again after NOSCRIPT (a Redis restart or
        #: ``SCRIPT FLUSH``); exposed for diagnostics and tests.
        self.reloads = 0

    @property
    def shas(self) -> dict[str, str]:
        """The SHA1 of every script, by name."""
        return {name: script.sha for name, script in self._scripts.items()}

    async def load_all(self) -> None:
        """``SCRIPT LOAD`` every script, so the first calls need no NOSCRIPT round trip."""
        for script in self._scripts.values():
            await self._load(script)

    async def _load(self, script: LuaScript) -> None:
        sha = await cast("Awaitable[object]", self._redis.script_load(script.source))
        assert sha == script.sha, f"Redis computed {sha!r} for {script.name}, we {script.sha}"

    async def run(self, name: str, *, keys: Sequence[str], args: Sequence[str | int]) -> object:
        """``EVALSHA`` the script; on NOSCRIPT load it again and retry once.

        NOSCRIPT is answered before the script runs, so the retry can never apply a write
        twice. A second NOSCRIPT (the cache flushed again in between) propagates.
        """
        script = self._scripts[name]
        try:
            return await self._evalsha(script, keys=keys, args=args)
        except NoScriptError:
            logger.warning("Redis lost Lua script %s (restart or SCRIPT FLUSH); reloading", name)
            self.reloads += 1
            await self._load(script)
            return await self._evalsha(script, keys=keys, args=args)

    async def _evalsha(
        self, script: LuaScript, *, keys: Sequence[str], args: Sequence[str | int]
    ) -> object:
        # redis-py types its commands as "awaitable or value" for its sync and async clients.
        return await cast(
            "Awaitable[object]", self._redis.evalsha(script.sha, len(keys), *keys, *args)
        )

    async def _write(
        self, name: str, *, keys: Sequence[str], args: Sequence[str | int]
    ) -> Ok | Fenced | Stale:
        return parse_write_reply(await self.run(name, keys=keys, args=args), script=name)

    async def _fenced_write(
        self, name: str, *, keys: Sequence[str], args: Sequence[str | int]
    ) -> Ok | Fenced:
        reply = await self._write(name, keys=keys, args=args)
        assert not isinstance(reply, Stale), f"{name} cannot answer 'stale'"
        return reply

    # -- one wrapper per script ---------------------------------------------------------------

    async def claim(
        self, keys: MeetingKeys, *, ttl_ms: int, expected_generation: int | None
    ) -> Ok | Stale:
        """``claim.lua``: ``Ok(new generation)`` or ``Stale(current)``."""
        expected = "" if expected_generation is None else expected_generation
        reply = await self._write("claim", keys=keys.all, args=(ttl_ms, expected))
        assert not isinstance(reply, Fenced), "claim cannot answer 'fenced'"
        return reply

    async def assign(
        self,
        keys: MeetingKeys,
        *,
        held: int,
        ttl_ms: int,
        mh_assignment_json: str,
        state: Mapping[str, str],
    ) -> Ok | Fenced:
        """``assign.lua``: store the MH assignment and replace the state hash."""
        args: list[str | int] = [held, ttl_ms, mh_assignment_json, *_flatten(state)]
        return await self._fenced_write("assign", keys=keys.all, args=args)

    async def unassign(self, keys: MeetingKeys, *, held: int, ttl_ms: int) -> Ok | Fenced:
        """``unassign.lua``: remove what the assignment wrote (and a generation it created)."""
        return await self._fenced_write("unassign", keys=keys.all, args=(held, ttl_ms))

    async def update_state(
        self, keys: MeetingKeys, *, held: int, ttl_ms: int, fields: Mapping[str, str]
    ) -> Ok | Fenced:
        """``update_state.lua``: merge ``fields`` into the state hash."""
        args: list[str | int] = [held, ttl_ms, *_flatten(fields)]
        return await self._fenced_write("update_state", keys=keys.all, args=args)

    async def add_participant(
        self, keys: MeetingKeys, *, held: int, ttl_ms: int, participant_id: str
    ) -> Ok | Fenced:
        """``add_participant.lua``: ``Ok(1)`` when the id was new, ``Ok(0)`` when present."""
        args = (held, ttl_ms, participant_id)
        return await self._fenced_write("add_participant", keys=keys.all, args=args)

    async def remove_participant(
        self, keys: MeetingKeys, *, held: int, ttl_ms: int, participant_id: str
    ) -> Ok | Fenced:
        """``remove_participant.lua``: ``Ok(1)`` when the id was present, else ``Ok(0)``."""
        args = (held, ttl_ms, participant_id)
        return await self._fenced_write("remove_participant", keys=keys.all, args=args)

    async def refresh(self, keys: MeetingKeys, *, held: int, ttl_ms: int) -> Ok | Fenced:
        """``refresh.lua``: give every key of the meeting the TTL again."""
        return await self._fenced_write("refresh", keys=keys.all, args=(held, ttl_ms))

    async def delete_meeting(self, keys: MeetingKeys, *, held: int) -> Ok | Fenced:
        """``delete_meeting.lua``: remove every key of the meeting."""
        return await self._fenced_write("delete_meeting", keys=keys.all, args=(held,))

    async def load_meeting(self, keys: MeetingKeys) -> MeetingSnapshot:
        """``load_meeting.lua``: an atomic snapshot of the meeting's keys."""
        return parse_load_reply(await self.run("load_meeting", keys=keys.all, args=()))

    async def put_session(
        self,
        *,
        generation_key: str,
        session_key: str,
        held: int,
        ttl_ms: int,
        data: Mapping[str, str],
    ) -> Ok | Fenced:
        """``put_session.lua``: replace the session hash (``data`` must not be empty)."""
        args: list[str | int] = [held, ttl_ms, *_flatten(data)]
        return await self._fenced_write(
            "put_session", keys=(generation_key, session_key), args=args
        )

    async def delete_session(
        self, *, generation_key: str, session_key: str, held: int
    ) -> Ok | Fenced:
        """``delete_session.lua``: ``Ok(1)`` when the session existed, else ``Ok(0)``."""
        return await self._fenced_write(
            "delete_session", keys=(generation_key, session_key), args=(held,)
        )
