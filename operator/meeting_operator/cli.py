"""``meeting-controller operator``: run the kopf operator that reconciles ``MeetingController``
resources.

``meeting_controller.cli`` hands everything after ``operator`` to :func:`main`. The flags are the
ones the Helm chart passes (``charts/meeting-controller/templates/deployment.yaml``). kopf runs
in-process through :func:`kopf.operator`, with this package's handlers registered by importing
:mod:`meeting_operator.handlers`; ``python -m meeting_operator.cli`` works too (the tests use it).

Exit codes: 0 after a clean stop (SIGTERM/SIGINT), 1 when the operator failed, 2 on bad usage.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Sequence

import kopf

PROG = "meeting-controller operator"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Reconcile MeetingController resources into drain-aware MC pod fleets.",
        epilog="Environment: MC_OPERATOR_RECONCILE_INTERVAL_SECONDS (default 2), "
        "MC_OPERATOR_CLUSTER_DOMAIN (default cluster.local), MC_OPERATOR_KUBE_URL (talk to this "
        "API server without credentials, for local emulators).",
    )
    scope = parser.add_mutually_exclusive_group()
    scope.add_argument(
        "-A", "--all-namespaces", action="store_true", help="watch every namespace (default)"
    )
    scope.add_argument(
        "-n",
        "--namespace",
        action="append",
        default=[],
        metavar="NS",
        help="watch only this namespace (repeatable)",
    )
    parser.add_argument(
        "--standalone",
        action="store_true",
        help="no peering with other operator instances (the chart runs exactly one)",
    )
    parser.add_argument("--liveness", metavar="URL", help="serve a liveness probe at this URL")
    parser.add_argument(
        "--metrics-listen", metavar="HOST:PORT", help="serve Prometheus metrics on this address"
    )
    parser.add_argument("--log-format", choices=("text", "json"), default="text")
    parser.add_argument(
        "--log-level", choices=("debug", "info", "warning", "error"), default="info"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the operator until SIGTERM/SIGINT; returns the exit code."""
    options = _parser().parse_args(list(sys.argv[1:] if argv is None else argv))
    kopf.configure(
        debug=options.log_level == "debug",
        verbose=options.log_level in ("debug", "info"),
        quiet=options.log_level == "error",
        log_format=kopf.LogFormat.JSON if options.log_format == "json" else kopf.LogFormat.FULL,
    )
    if options.log_level == "warning":
        logging.getLogger().setLevel(logging.WARNING)

    from meeting_operator import handlers, metrics  # noqa: F401 - registers the handlers

    if options.metrics_listen:
        metrics.serve(options.metrics_listen)
    try:
        asyncio.run(
            kopf.operator(
                standalone=True if options.standalone else None,
                liveness_endpoint=options.liveness,
                clusterwide=not options.namespace,
                namespaces=options.namespace,
            )
        )
    except KeyboardInterrupt:
        return 0
    except Exception:
        logging.getLogger(__name__).exception("the operator failed")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
