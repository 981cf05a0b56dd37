"""Every Prometheus metric the Meeting Controller exports, in one place.

Keeping them together (as crate-operator does) makes the exported surface reviewable in one
read and keeps names consistent: everything the MC exports starts with ``mc_``. Label values
are bounded sets (actor kinds, reasons, results), never ids, so cardinality stays flat however
many meetings a process hosts.

The metrics live in the process-wide default registry: one MC per process is the deployment
model, and tests that run several actor systems in one interpreter only ever compare deltas.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

#: Actor kinds used as the ``actor`` label.
ACTOR_KINDS = ("controller", "meeting", "connection")

meetings_active = Gauge("mc_meetings_active", "Meetings hosted by this MC.")
participants_active = Gauge(
    "mc_participants_active", "Participants in the meetings of this MC (connected or in grace)."
)
connections_active = Gauge("mc_connections_active", "Live participant connections.")

actor_mailbox_depth = Gauge(
    "mc_actor_mailbox_depth",
    "Messages waiting in actor mailboxes, summed over all actors of a kind.",
    ["actor"],
)
actor_failures_total = Counter(
    "mc_actor_failures_total",
    "Actors that ended with an unexpected exception (detected by their supervisor).",
    ["actor"],
)
actor_shutdown_abandoned_total = Counter(
    "mc_actor_shutdown_abandoned_total",
    "Actors (or close frames) given up on because they missed their shutdown deadline.",
    ["actor"],
)

fenced_out_total = Counter(
    "mc_fenced_out_total",
    "Redis writes refused because a newer owner holds the meeting's fencing generation.",
    ["reason"],
)

assignments_total = Counter(
    "mc_assignments_total",
    "Meeting assignments from the GC, by result (accepted or the rejection reason).",
    ["result"],
)

events_buffered_total = Counter(
    "mc_events_buffered_total", "Server messages numbered and kept in recovery buffers."
)
events_replayed_total = Counter(
    "mc_events_replayed_total", "Missed events replayed to resuming participants."
)
joins_total = Counter("mc_joins_total", "Join attempts, by result.", ["result"])
resumes_total = Counter("mc_resumes_total", "Resume attempts, by result.", ["result"])
join_duration_seconds = Histogram(
    "mc_join_duration_seconds",
    "From the first frame of a session to its JoinResponse (joins and resumes).",
    ["kind"],
    # Sub-millisecond on loopback up to a few seconds across regions.
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
)
sessions_active = Gauge("mc_sessions_active", "Open WebTransport signaling sessions.")

takeovers_total = Counter(
    "mc_takeovers_total",
    "Meetings this MC took over from another MC, by kind (migration, failover).",
    ["kind"],
)
migrations_total = Counter(
    "mc_migrations_total",
    "Meetings this MC tried to move away while draining, by result.",
    ["result"],
)
migration_duration_seconds = Histogram(
    "mc_migration_duration_seconds",
    "From freezing a meeting to handing it over to its target MC.",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
participants_resumed_total = Counter(
    "mc_participants_resumed_total",
    "Participants that resumed here after their meeting moved, by how it moved.",
    ["kind"],
)
participants_lost_total = Counter(
    "mc_participants_lost_total",
    "Participants taken over that never resumed here within the grace period.",
)

registered = Gauge("mc_registered", "1 while this MC is registered with the Global Controller.")
heartbeats_total = Counter(
    "mc_heartbeats_total", "Heartbeats sent to the GC, by kind and result.", ["kind", "result"]
)

# Pre-create the label sets we know about, so dashboards see zeros instead of gaps.
for _kind in ACTOR_KINDS:
    actor_mailbox_depth.labels(actor=_kind)
    actor_failures_total.labels(actor=_kind)
    actor_shutdown_abandoned_total.labels(actor=_kind)

__all__ = [
    "ACTOR_KINDS",
    "actor_failures_total",
    "actor_mailbox_depth",
    "actor_shutdown_abandoned_total",
    "assignments_total",
    "connections_active",
    "events_buffered_total",
    "events_replayed_total",
    "fenced_out_total",
    "heartbeats_total",
    "join_duration_seconds",
    "joins_total",
    "meetings_active",
    "migration_duration_seconds",
    "migrations_total",
    "participants_active",
    "participants_lost_total",
    "participants_resumed_total",
    "registered",
    "resumes_total",
    "sessions_active",
    "takeovers_total",
]
