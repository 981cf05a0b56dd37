"""The reference GC's model of the MC fleet: purely data-manipulative, no I/O, no clock.

Every operation takes ``now`` (seconds on a monotonic clock: liveness is about elapsed time on
this one GC, never about wall-clock time shared with other machines), so the whole liveness
logic is tested with plain numbers.

**Alive** means: a fast heartbeat (or the registration itself) was seen within
``3 x fast interval``. Three missed fast heartbeats make an MC dead: it is not placed on, its
heartbeats are answered with ``UNKNOWN_MC`` (so it registers again and the GC starts from a
clean record), and its id may be registered again by a new process. Liveness is computed from
the timestamps on every question rather than stored, so answers never depend on when the
background sweeper last ran; :meth:`Registry.sweep` only reports *newly* dead MCs (for logs and
failover) and remembers that it did.

The state is in memory only: a restarted GC knows no MC until they heartbeat (answered
``UNKNOWN_MC``) and register again.
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Iterator
from typing import Final

#: Missed fast heartbeats after which an MC counts as dead.
MISSED_HEARTBEATS_LIMIT: Final = 3
#: The MC's own default fast heartbeat interval, which it uses when the GC hands out 0.
DEFAULT_FAST_HEARTBEAT_SECONDS: Final = 10.0
DEFAULT_COMPREHENSIVE_HEARTBEAT_SECONDS: Final = 30.0


class Health(enum.Enum):
    """Health as the MC reports it (the proto's ``Health``, without UNSPECIFIED)."""

    HEALTHY = "healthy"
    DEGRADED = "degraded"
    UNHEALTHY = "unhealthy"


class McState(enum.Enum):
    """Lifecycle state as the MC reports it (the proto's ``McState``)."""

    STARTING = "starting"
    ACTIVE = "active"
    DRAINING = "draining"
    DRAINED = "drained"
    SHUTTING_DOWN = "shutting_down"


#: States in which an MC still owns its meetings (a draining MC hosts them until it has
#: migrated them away).
HOSTING_STATES: Final = frozenset({McState.STARTING, McState.ACTIVE, McState.DRAINING})
#: States after which the id may be registered again even while the old process still
#: heartbeats: it has declared that it is leaving.
LEAVING_STATES: Final = frozenset({McState.DRAINED, McState.SHUTTING_DOWN})


@dataclasses.dataclass(frozen=True, slots=True)
class McRecord:
    """One registered MC as the GC last heard of it. Immutable: updates replace the record."""

    mc_id: str
    region: str
    grpc_endpoint: str
    """host:port of the MC's ``MeetingControllerService``."""
    webtransport_endpoint: str
    """The https URL clients open their WebTransport session to."""
    max_meetings: int
    max_participants: int
    registered_at: float
    last_fast_heartbeat_at: float
    """Registration counts as the first fast heartbeat."""
    heartbeats_since_registration: int = 0
    """0 until the first heartbeat: tells a retried registration from a second process."""
    last_comprehensive_heartbeat_at: float | None = None
    current_meetings: int = 0
    current_participants: int = 0
    health: Health = Health.HEALTHY
    state: McState = McState.ACTIVE
    cpu_usage_percent: float | None = None
    memory_usage_percent: float | None = None
    drain_deadline_unix_ms: int | None = None
    #: How the MC's last drain ended: (migrated, closed, ended) meetings, as it reported.
    drain_report: tuple[int, int, int] | None = None
    declared_dead: bool = False
    """Set by :meth:`Registry.sweep` once it has reported this MC dead (with health
    ``UNHEALTHY``, which is what ``GET /v1/mcs`` then shows)."""


@dataclasses.dataclass(frozen=True, slots=True)
class RegistrationResult:
    accepted: bool
    reason: str = ""
    replaced: McRecord | None = None
    """The record a re-registration replaced (a dead or leaving MC with the same id)."""


def liveness_window(fast_interval_s: float) -> float:
    """Seconds without a fast heartbeat after which an MC is dead."""
    return MISSED_HEARTBEATS_LIMIT * fast_interval_s


def effective_fast_interval(fast_heartbeat_ms: int) -> float:
    """The fast interval MCs actually use when the GC hands out ``fast_heartbeat_ms``."""
    if fast_heartbeat_ms < 0:
        raise ValueError(f"fast_heartbeat_ms must be >= 0, not {fast_heartbeat_ms}")
    return fast_heartbeat_ms / 1000 if fast_heartbeat_ms else DEFAULT_FAST_HEARTBEAT_SECONDS


def is_alive(record: McRecord, *, now: float, window: float) -> bool:
    """Whether ``record`` heartbeated within ``window`` seconds before ``now``."""
    return now - record.last_fast_heartbeat_at <= window


class Registry:
    """The fleet: register, heartbeat, drain, and ask who is alive. See the module docstring."""

    def __init__(self, *, fast_interval_s: float) -> None:
        if not fast_interval_s > 0:
            raise ValueError(f"fast_interval_s must be positive, not {fast_interval_s}")
        self.window: Final = liveness_window(fast_interval_s)
        self._records: dict[str, McRecord] = {}

    # --- questions --------------------------------------------------------------------------

    def get(self, mc_id: str) -> McRecord | None:
        return self._records.get(mc_id)

    def __iter__(self) -> Iterator[McRecord]:
        return iter(list(self._records.values()))

    def __len__(self) -> int:
        return len(self._records)

    def is_alive(self, mc_id: str, *, now: float) -> bool:
        record = self._records.get(mc_id)
        return record is not None and is_alive(record, now=now, window=self.window)

    def hosts_meetings(self, mc_id: str, *, now: float) -> bool:
        """Whether ``mc_id`` is alive and in a state in which it owns meetings."""
        record = self._records.get(mc_id)
        return (
            record is not None
            and is_alive(record, now=now, window=self.window)
            and record.state in HOSTING_STATES
        )

    def still_hosts(self, mc_id: str, *, recorded_at: float, now: float) -> bool:
        """Whether a meeting recorded on ``mc_id`` at ``recorded_at`` is still there.

        Besides :meth:`hosts_meetings`, the registration must be the one the meeting was
        recorded under: an MC process that restarted and registered again under the same id
        starts without meetings, so what the GC recorded on its predecessor is gone.
        """
        record = self._records.get(mc_id)
        return (
            record is not None
            and record.registered_at <= recorded_at
            and self.hosts_meetings(mc_id, now=now)
        )

    # --- changes ----------------------------------------------------------------------------

    def register(
        self,
        *,
        mc_id: str,
        region: str,
        grpc_endpoint: str,
        webtransport_endpoint: str,
        max_meetings: int,
        max_participants: int,
        now: float,
    ) -> RegistrationResult:
        """Register an MC, or refuse with a reason an operator can act on.

        Refused: empty fields, zero limits, and an id that is registered and alive (two
        processes claiming one id would split its meetings). Accepted in its place: an id whose
        MC is dead or has declared that it leaves (drained, shutting down), and a *retry* of a
        registration that already succeeded (same endpoints, no heartbeat since): the MC
        retries with backoff when a response is lost, and refusing the retry would fail a
        start-up that in fact worked.
        """
        problems = [
            name
            for name, value in (
                ("mc_id", mc_id),
                ("region", region),
                ("grpc_endpoint", grpc_endpoint),
                ("webtransport_endpoint", webtransport_endpoint),
            )
            if not value.strip()
        ]
        if problems:
            return RegistrationResult(False, f"missing {', '.join(problems)}")
        if max_meetings <= 0 or max_participants <= 0:
            return RegistrationResult(
                False,
                f"max_meetings ({max_meetings}) and max_participants ({max_participants}) "
                "must both be positive",
            )
        existing = self._records.get(mc_id)
        if (
            existing is not None
            and is_alive(existing, now=now, window=self.window)
            and existing.state not in LEAVING_STATES
            and not _is_retry(
                existing, grpc_endpoint=grpc_endpoint, webtransport_endpoint=webtransport_endpoint
            )
        ):
            age = now - existing.last_fast_heartbeat_at
            return RegistrationResult(
                False,
                f"MC id {mc_id!r} is already registered and alive (gRPC endpoint "
                f"{existing.grpc_endpoint}, last heartbeat {age:.1f}s ago); use another id, or "
                f"retry after it misses {MISSED_HEARTBEATS_LIMIT} heartbeats "
                f"({self.window:g}s)",
            )
        retry = (
            existing is not None
            and is_alive(existing, now=now, window=self.window)
            and existing.state not in LEAVING_STATES
        )
        self._records[mc_id] = McRecord(
            mc_id=mc_id,
            region=region,
            grpc_endpoint=grpc_endpoint,
            webtransport_endpoint=webtransport_endpoint,
            max_meetings=max_meetings,
            max_participants=max_participants,
            # A retry is the same process: meetings placed since its first attempt are its own.
            registered_at=existing.registered_at if retry and existing is not None else now,
            last_fast_heartbeat_at=now,
        )
        return RegistrationResult(True, replaced=None if retry else existing)

    def heartbeat(
        self,
        *,
        mc_id: str,
        current_meetings: int,
        current_participants: int,
        health: Health,
        state: McState,
        now: float,
        cpu_usage_percent: float | None = None,
        memory_usage_percent: float | None = None,
    ) -> bool:
        """Record a heartbeat; ``False`` means "unknown MC, register again".

        An MC already dead at ``now`` is unknown as well: the GC may have failed its meetings
        over, so it must come back through registration rather than silently resume. A
        comprehensive heartbeat (with CPU and memory) also counts as a fast one: it carries
        everything a fast heartbeat does.
        """
        record = self._records.get(mc_id)
        if record is None or not is_alive(record, now=now, window=self.window):
            return False
        comprehensive = cpu_usage_percent is not None or memory_usage_percent is not None
        self._records[mc_id] = dataclasses.replace(
            record,
            last_fast_heartbeat_at=now,
            heartbeats_since_registration=record.heartbeats_since_registration + 1,
            current_meetings=current_meetings,
            current_participants=current_participants,
            health=health,
            # A drain is one-way: a stale ACTIVE in a heartbeat must not undo it.
            state=_merge_state(record.state, state),
            last_comprehensive_heartbeat_at=(
                now if comprehensive else record.last_comprehensive_heartbeat_at
            ),
            cpu_usage_percent=(cpu_usage_percent if comprehensive else record.cpu_usage_percent),
            memory_usage_percent=(
                memory_usage_percent if comprehensive else record.memory_usage_percent
            ),
            declared_dead=False,
        )
        return True

    def mark_draining(self, mc_id: str, *, deadline_unix_ms: int | None = None) -> bool:
        """The MC stopped accepting meetings; ``False`` if the id is unknown."""
        record = self._records.get(mc_id)
        if record is None:
            return False
        self._records[mc_id] = dataclasses.replace(
            record,
            state=_merge_state(record.state, McState.DRAINING),
            drain_deadline_unix_ms=deadline_unix_ms or record.drain_deadline_unix_ms,
        )
        return True

    def mark_drained(
        self, mc_id: str, *, migrated: int = 0, closed: int = 0, ended: int = 0
    ) -> bool:
        """The MC finished its drain: it hosts nothing any more. ``False`` if unknown.

        The counts are kept so that operators can see how the meetings left (live migrations
        versus meetings closed at the deadline).
        """
        record = self._records.get(mc_id)
        if record is None:
            return False
        self._records[mc_id] = dataclasses.replace(
            record,
            state=_merge_state(record.state, McState.DRAINED),
            current_meetings=0,
            drain_report=(migrated, closed, ended),
        )
        return True

    def mark_shutting_down(self, mc_id: str) -> bool:
        """The MC said it is shutting down (e.g. it refused an assignment for that reason)."""
        record = self._records.get(mc_id)
        if record is None:
            return False
        self._records[mc_id] = dataclasses.replace(
            record, state=_merge_state(record.state, McState.SHUTTING_DOWN)
        )
        return True

    def note_full(self, mc_id: str) -> None:
        """The MC refused a meeting as AT_CAPACITY: treat it as full until it heartbeats.

        Saves every placement until then from asking it again; the next heartbeat's counts
        replace the guess.
        """
        record = self._records.get(mc_id)
        if record is not None:
            self._records[mc_id] = dataclasses.replace(
                record, current_meetings=max(record.current_meetings, record.max_meetings)
            )

    def note_unhealthy(self, mc_id: str) -> None:
        """The MC refused a meeting as UNHEALTHY: skip it until its next heartbeat."""
        record = self._records.get(mc_id)
        if record is not None:
            self._records[mc_id] = dataclasses.replace(record, health=Health.UNHEALTHY)

    def note_assignment(self, mc_id: str, *, participants: int) -> None:
        """Count a meeting the GC just placed on ``mc_id`` before its next heartbeat says so.

        Without this, placements between two heartbeats all see the same free capacity and
        pile onto the same MC. The next heartbeat overwrites the guess with the truth.
        """
        record = self._records.get(mc_id)
        if record is not None:
            self._records[mc_id] = dataclasses.replace(
                record,
                current_meetings=record.current_meetings + 1,
                current_participants=record.current_participants + participants,
            )

    def sweep(self, *, now: float) -> list[McRecord]:
        """Return the MCs that died since the last sweep (each is reported once)."""
        newly_dead = []
        for mc_id, record in list(self._records.items()):
            if not record.declared_dead and not is_alive(record, now=now, window=self.window):
                dead = dataclasses.replace(record, declared_dead=True, health=Health.UNHEALTHY)
                self._records[mc_id] = dead
                newly_dead.append(dead)
        return newly_dead

    def forget(self, mc_id: str) -> None:
        self._records.pop(mc_id, None)


def _is_retry(existing: McRecord, *, grpc_endpoint: str, webtransport_endpoint: str) -> bool:
    return (
        existing.heartbeats_since_registration == 0
        and existing.grpc_endpoint == grpc_endpoint
        and existing.webtransport_endpoint == webtransport_endpoint
    )


_STATE_ORDER: Final = {
    McState.STARTING: 1,
    McState.ACTIVE: 1,
    McState.DRAINING: 2,
    McState.DRAINED: 3,
    McState.SHUTTING_DOWN: 4,
}


def _merge_state(current: McState, reported: McState) -> McState:
    """Leaving is one-way within one registration: draining -> drained -> shutting down.

    (Starting and active may alternate: the MC says which one it is.) Heartbeats and
    notifications travel on different calls and may overtake each other; a heartbeat that
    still says ACTIVE after the MC announced its drain must not make it placeable again.
    """
    return reported if _STATE_ORDER[reported] >= _STATE_ORDER[current] else current
