"""All operator metrics, in one place (``mc_operator_*``), served by ``--metrics-listen``.

Defined on a registry of their own so that importing the operator next to the MC (one
distribution, one test process) never collides with the MC's ``mc_*`` metrics.
"""

from __future__ import annotations

from typing import Final

import prometheus_client

REGISTRY: Final = prometheus_client.CollectorRegistry(auto_describe=True)

RECONCILE_DURATION: Final = prometheus_client.Histogram(
    "mc_operator_reconcile_duration_seconds",
    "Time one reconciliation of a MeetingController took (observe, plan, act, report).",
    ["namespace", "name"],
    registry=REGISTRY,
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
RECONCILE_ERRORS: Final = prometheus_client.Counter(
    "mc_operator_reconcile_errors_total",
    "Reconciliations that failed (they are retried).",
    ["namespace", "name"],
    registry=REGISTRY,
)
DRAINS_IN_PROGRESS: Final = prometheus_client.Gauge(
    "mc_operator_drains_in_progress",
    "MC pods of a MeetingController that are draining.",
    ["namespace", "name"],
    registry=REGISTRY,
)
DRAINS_STARTED: Final = prometheus_client.Counter(
    "mc_operator_drains_started_total",
    "Drains the operator started, by reason (scale-down, rollout, replace, delete).",
    ["namespace", "name", "reason"],
    registry=REGISTRY,
)
DRAIN_DURATION: Final = prometheus_client.Histogram(
    "mc_operator_drain_duration_seconds",
    "From the start of a drain to the deletion of its pod, by how it ended (drained, deadline).",
    ["namespace", "name", "outcome"],
    registry=REGISTRY,
    buckets=(1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600),
)
PODS_CREATED: Final = prometheus_client.Counter(
    "mc_operator_pods_created_total",
    "MC pods the operator created.",
    ["namespace", "name"],
    registry=REGISTRY,
)
PODS_DELETED: Final = prometheus_client.Counter(
    "mc_operator_pods_deleted_total",
    "MC pods the operator deleted, by reason (drained, deadline, failed, exited, unstarted).",
    ["namespace", "name", "reason"],
    registry=REGISTRY,
)


def serve(listen: str) -> None:
    """Serve :data:`REGISTRY` over HTTP on ``host:port`` (a daemon thread)."""
    host, _, port = listen.rpartition(":")
    prometheus_client.start_http_server(
        int(port), addr=host.strip("[]") or "0.0.0.0", registry=REGISTRY
    )
