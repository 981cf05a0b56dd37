"""The demo's simulated participants: real WebTransport clients that join, chatter and are counted.

A :class:`Crowd` is ``meetings x per_meeting`` :class:`~meeting_controller.client.meeting.
MeetingClient` sessions in this process. Each meeting's first participant creates it at the GC
(and is its host); the others join it. Every join is timed on the client's side, from asking
the GC for a ticket to the MC's ``JoinResponse``: that is the join latency a user feels.

While they run, participants change mute state all along: they mute and unmute themselves, the
host mutes one participant, who now and then asks to be unmuted; the host approves (and mutes
again later). One listener per participant reads its event stream (so that nothing piles up),
keeps its own mute flags and answers unmute requests when it is the host.

:meth:`Crowd.check` is the proof that nobody was lost: every participant must answer a ping on
its *current* connection (after a drain: on the MC its meeting moved to), and every event
stream must be continuous - ``sequence_log == [1, 2, ..., last_sequence]``.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import dataclasses
import itertools
import math
import random
import time
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from typing import Any

from meeting_controller.client import gc as gc_api
from meeting_controller.client.meeting import (
    MeetingClient,
    SequenceViolation,
    SessionError,
    Trust,
)
from meeting_controller.protocol import signaling_pb2 as sig

#: Joins in flight at the same time (GC ticket + WebTransport handshake + JoinRequest).
JOIN_CONCURRENCY = 16
#: A meeting's participants change something every this many seconds (uniform).
CHATTER_PAUSE_SECONDS = (0.15, 0.6)
#: Share of a meeting's steps that are about the host-muted participant (unmute request,
#: or the host muting them again once approved).
HOST_STEP_SHARE = 0.12
#: One ping attempt waits this long for its pong before the ping is sent again.
PING_ATTEMPT_SECONDS = 1.0
#: Ping nonces of the checks (the client's own keepalives use nonces from 2**62 up).
FIRST_NONCE = 1_000_000

#: What a request may raise while the participant is between two connections.
_SEND_ERRORS = (ConnectionError, OSError)


class JoinFailed(Exception):
    """A simulated participant could not join; the message says who and why."""


def percentile(values: Sequence[float], fraction: float) -> float | None:
    """Nearest-rank percentile of ``values`` (``fraction`` in (0, 1]); ``None`` when empty."""
    if not values:
        return None
    ordered = sorted(values)
    rank = min(len(ordered), max(1, math.ceil(fraction * len(ordered))))
    return ordered[rank - 1]


def continuous(sequence_log: Sequence[int], last_sequence: int) -> bool:
    """True when a stream delivered 1, 2, ..., ``last_sequence``: each once, none skipped."""
    return list(sequence_log) == list(range(1, last_sequence + 1))


@dataclasses.dataclass
class JoinStats:
    """Client-side join latencies and the join rate."""

    latencies: list[float] = dataclasses.field(default_factory=list)
    started_at: float | None = None
    finished_at: float | None = None

    def begin(self, now: float) -> None:
        if self.started_at is None:
            self.started_at = now

    def record(self, seconds: float) -> None:
        self.latencies.append(seconds)

    def finish(self, now: float) -> None:
        self.finished_at = now

    @property
    def joined(self) -> int:
        return len(self.latencies)

    def per_second(self, now: float) -> float:
        """Joins per second over the join phase (so far, while it runs)."""
        if self.started_at is None:
            return 0.0
        elapsed = (self.finished_at if self.finished_at is not None else now) - self.started_at
        return self.joined / elapsed if elapsed > 0 else 0.0

    def percentile_ms(self, fraction: float) -> float | None:
        value = percentile(self.latencies, fraction)
        return None if value is None else value * 1000.0


@dataclasses.dataclass
class Counters:
    """What the participants asked for, and what came back."""

    self_mutes: int = 0
    host_mutes: int = 0
    unmute_requests: int = 0
    unmute_approvals: int = 0
    mute_updates: int = 0
    refused: int = 0
    events: int = 0

    @property
    def mute_changes(self) -> int:
        """Requests that change a mute state (self, host-mute, approval)."""
        return self.self_mutes + self.host_mutes + self.unmute_approvals


@dataclasses.dataclass(eq=False)
class Participant:
    """One simulated participant: its client and what it knows about itself."""

    name: str
    client: MeetingClient
    is_host: bool
    self_muted: bool = False
    host_muted: bool = False
    ended: bool = False
    #: Why its event stream ended (a session error, a sequence violation), if it did.
    failure: BaseException | None = None
    pongs: dict[int, asyncio.Future[None]] = dataclasses.field(default_factory=dict)

    @property
    def participant_id(self) -> str:
        return self.client.participant_id


@dataclasses.dataclass(eq=False)
class Meeting:
    """A meeting of the crowd: its id, the MC the GC placed it on, its participants."""

    meeting_id: str
    placed_on: str
    participants: list[Participant] = dataclasses.field(default_factory=list)

    @property
    def host(self) -> Participant:
        return self.participants[0]


@dataclasses.dataclass(frozen=True)
class Check:
    """The result of :meth:`Crowd.check`."""

    checked: int
    unreachable: tuple[Participant, ...]
    with_gaps: tuple[Participant, ...]

    @property
    def lost(self) -> int:
        """Participants not reachable, or whose stream was not continuous (each counted once)."""
        return len({id(p) for p in (*self.unreachable, *self.with_gaps)})


class Crowd:
    """The demo's participants; see the module docstring."""

    def __init__(
        self,
        *,
        gc_url: str,
        trust: Trust,
        meetings: int,
        per_meeting: int,
        owner_of: Callable[[str], str | None],
        seed: int = 7,
        join_concurrency: int = JOIN_CONCURRENCY,
    ) -> None:
        """``owner_of`` maps a WebTransport endpoint to the id of the MC serving it."""
        self.gc_url = gc_url
        self.trust = trust
        self.wanted_meetings = meetings
        self.per_meeting = per_meeting
        self.owner_of = owner_of
        self.meetings: list[Meeting] = []
        self.joins = JoinStats()
        self.counters = Counters()
        self._seed = seed
        self._join_slots = asyncio.Semaphore(join_concurrency)
        self._clients: list[MeetingClient] = []
        self._listeners: set[asyncio.Task[None]] = set()
        self._background: set[asyncio.Task[None]] = set()
        self._chatter: list[asyncio.Task[None]] = []
        self._nonces = itertools.count(FIRST_NONCE)

    # -- what there is ------------------------------------------------------------------------

    @property
    def participants(self) -> list[Participant]:
        return [p for meeting in self.meetings for p in meeting.participants]

    @property
    def wanted_participants(self) -> int:
        return self.wanted_meetings * self.per_meeting

    @property
    def resumes(self) -> int:
        return sum(p.client.resumes for p in self.participants)

    @property
    def resumed(self) -> int:
        """Participants that resumed their session at least once."""
        return sum(1 for p in self.participants if p.client.resumes)

    def where(self, participant: Participant) -> str | None:
        """The MC the participant is connected to (or reconnecting to) now."""
        return self.owner_of(participant.client.endpoint)

    def connected_by_mc(self) -> dict[str, tuple[int, int]]:
        """``mc_id -> (meetings, participants)`` as the clients see it now."""
        meetings: dict[str, set[str]] = collections.defaultdict(set)
        participants: collections.Counter[str] = collections.Counter()
        for meeting in self.meetings:
            for p in meeting.participants:
                mc_id = self.where(p)
                if mc_id is None or p.failure is not None or p.ended:
                    continue
                meetings[mc_id].add(meeting.meeting_id)
                participants[mc_id] += 1
        return {mc_id: (len(meetings[mc_id]), participants[mc_id]) for mc_id in participants}

    def busiest(self) -> str | None:
        """The MC with the most participants (then meetings, then the smallest id)."""
        counts = self.connected_by_mc()
        if not counts:
            return None
        return min(counts, key=lambda mc_id: (-counts[mc_id][1], -counts[mc_id][0], mc_id))

    def meetings_on(self, mc_id: str) -> list[Meeting]:
        """The meetings whose host is connected to ``mc_id`` now."""
        return [m for m in self.meetings if m.participants and self.where(m.host) == mc_id]

    # -- joining ------------------------------------------------------------------------------

    async def join_all(self) -> None:
        """Create every meeting and join every participant; raises :class:`JoinFailed`."""
        loop = asyncio.get_running_loop()
        self.joins.begin(loop.time())
        try:
            async with asyncio.TaskGroup() as group:
                for index in range(self.wanted_meetings):
                    group.create_task(self._populate(index), name=f"demo-meeting-{index + 1}")
        except BaseExceptionGroup as errors:
            raise _first_leaf(errors) from None
        finally:
            self.joins.finish(loop.time())

    async def _populate(self, index: int) -> None:
        host = await self._join(f"host-{index + 1}", meeting_id=None)
        ticket = host.client.ticket
        meeting = Meeting(meeting_id=ticket.meeting_id, placed_on=ticket.mc_id)
        meeting.participants.append(host)
        self.meetings.append(meeting)
        async with asyncio.TaskGroup() as group:
            guests = [
                group.create_task(
                    self._join(f"guest-{index + 1}-{n}", meeting_id=meeting.meeting_id)
                )
                for n in range(1, self.per_meeting)
            ]
        meeting.participants.extend(guest.result() for guest in guests)

    async def _join(self, name: str, *, meeting_id: str | None) -> Participant:
        async with self._join_slots:
            started = time.perf_counter()
            try:
                ticket = await gc_api.request_join(
                    self.gc_url, user_id=name, meeting_id=meeting_id, display_name=name
                )
            except gc_api.GcRequestError as error:
                raise JoinFailed(f"{name}: the GC gave no ticket: {error}") from error
            client = MeetingClient(
                ticket=ticket, display_name=name, trust=self.trust, gc_url=self.gc_url
            )
            self._clients.append(client)
            try:
                await client.connect()
            except (SessionError, SequenceViolation, ConnectionError, OSError) as error:
                raise JoinFailed(
                    f"{name}: could not join {ticket.meeting_id} at {ticket.mc_endpoint}: "
                    f"{type(error).__name__}: {error}"
                ) from error
            self.joins.record(time.perf_counter() - started)
        participant = Participant(name=name, client=client, is_host=ticket.role == "host")
        listener = asyncio.create_task(self._listen(participant), name=f"demo-listen-{name}")
        self._listeners.add(listener)
        listener.add_done_callback(self._listeners.discard)
        return participant

    # -- listening ----------------------------------------------------------------------------

    async def _listen(self, participant: Participant) -> None:
        try:
            async for event in participant.client.events():
                self.counters.events += 1
                self._on_event(participant, event)
        except (SessionError, SequenceViolation, ConnectionError, OSError) as error:
            participant.failure = error

    def _on_event(self, participant: Participant, event: sig.ServerMessage) -> None:
        kind = event.WhichOneof("payload")
        if kind == "pong":
            future = participant.pongs.get(event.pong.nonce)
            if future is not None and not future.done():
                future.set_result(None)
        elif kind == "mute_update":
            update = event.mute_update
            if update.participant_id == participant.participant_id:
                self.counters.mute_updates += 1
                participant.self_muted = update.is_self_muted
                participant.host_muted = update.is_host_muted
        elif kind == "unmute_requested" and participant.is_host:
            target = event.unmute_requested.participant_id
            self._spawn(self._approve(participant, target))
        elif kind == "error":
            self.counters.refused += 1
        elif kind == "meeting_ended":
            participant.ended = True

    async def _approve(self, host: Participant, target: str) -> None:
        if await _quietly(host.client.decide_unmute(target, approved=True)):
            self.counters.unmute_approvals += 1

    def _spawn(self, coroutine: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(coroutine)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    # -- chatter ------------------------------------------------------------------------------

    def start_chatter(self) -> None:
        """Every meeting starts changing mute states (until :meth:`stop_chatter`)."""
        if self._chatter:
            return
        self._chatter = [
            asyncio.create_task(
                self._chat(meeting, random.Random(self._seed * 7919 + index)),
                name=f"demo-chatter-{index}",
            )
            for index, meeting in enumerate(self.meetings)
        ]

    async def stop_chatter(self) -> None:
        chatter, self._chatter = self._chatter, []
        for task in chatter:
            task.cancel()
        await asyncio.gather(*chatter, return_exceptions=True)

    async def _chat(self, meeting: Meeting, rng: random.Random) -> None:
        host = meeting.host
        target = meeting.participants[1] if len(meeting.participants) > 1 else None
        if target is not None and not target.host_muted:
            await self._host_mute(host, target)
        while True:
            await asyncio.sleep(rng.uniform(*CHATTER_PAUSE_SECONDS))
            if target is not None and rng.random() < HOST_STEP_SHARE:
                if target.host_muted:
                    if await _quietly(target.client.request_unmute("the demo asks")):
                        self.counters.unmute_requests += 1
                else:
                    await self._host_mute(host, target)
                continue
            speakers = [p for p in meeting.participants if not p.host_muted]
            if not speakers:
                continue
            speaker = rng.choice(speakers)
            if await _quietly(speaker.client.mute(not speaker.self_muted)):
                self.counters.self_mutes += 1

    async def _host_mute(self, host: Participant, target: Participant) -> None:
        if await _quietly(host.client.host_mute(target.participant_id, True)):
            self.counters.host_mutes += 1

    # -- the check ----------------------------------------------------------------------------

    async def check(self, *, timeout: float) -> Check:
        """Every participant pings on its current connection; every stream must be continuous."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        participants = self.participants
        answered = await asyncio.gather(*(self._reach(p, deadline) for p in participants))
        unreachable = tuple(p for p, ok in zip(participants, answered, strict=True) if not ok)
        with_gaps = tuple(
            p
            for p in participants
            if isinstance(p.failure, SequenceViolation)
            or not continuous(p.client.sequence_log, p.client.last_sequence)
        )
        return Check(checked=len(participants), unreachable=unreachable, with_gaps=with_gaps)

    async def _reach(self, participant: Participant, deadline: float) -> bool:
        """Ping until the pong comes back (a ping sent while reconnecting is lost: send again)."""
        loop = asyncio.get_running_loop()
        nonce = next(self._nonces)
        pong: asyncio.Future[None] = loop.create_future()
        participant.pongs[nonce] = pong
        try:
            while True:
                if participant.failure is not None or participant.ended:
                    return False
                remaining = deadline - loop.time()
                if remaining <= 0:
                    return False
                await _quietly(participant.client.ping(nonce))
                await asyncio.wait({pong}, timeout=min(PING_ATTEMPT_SECONDS, remaining))
                if pong.done():
                    return True
        finally:
            participant.pongs.pop(nonce, None)
            pong.cancel()

    # -- the end ------------------------------------------------------------------------------

    async def leave(self, *, timeout: float) -> None:
        """Everybody leaves for good (so the MCs hold nothing when they are stopped)."""
        await self.stop_chatter()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout):
                await asyncio.gather(
                    *(client.leave() for client in self._clients), return_exceptions=True
                )
        await self.abort()

    async def abort(self) -> None:
        """Cancel every task of the crowd and close every client (no leave)."""
        tasks = [*self._chatter, *self._listeners, *self._background]
        self._chatter = []
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(2.0):
                await asyncio.gather(
                    *(client.close() for client in self._clients), return_exceptions=True
                )


def _first_leaf(errors: BaseExceptionGroup[BaseException]) -> BaseException:
    """The first exception of a (nested) exception group that is not a group itself."""
    first = errors.exceptions[0]
    return _first_leaf(first) if isinstance(first, BaseExceptionGroup) else first


async def _quietly(request: Awaitable[None]) -> bool:
    """Send a request; ``False`` when the participant is between connections right now."""
    try:
        await request
    except _SEND_ERRORS:
        return False
    return True
