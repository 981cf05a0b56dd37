"""``meeting-controller``: the one command line of the project.

Subcommands:

* ``run`` - the Meeting Controller process (configured by ``MC_*`` variables; a few flags
  override them);
* ``gc`` - the reference Global Controller (its own parser, in ``meeting_controller.gc.cli``);
* ``demo`` - start a local MC and show what it serves (``make demo``);
* ``operator`` - the kopf operator (``meeting_operator.cli``).
* ``bench`` - benchmarks against the raw libraries underneath (``make bench``).

Exit codes: 0 success, 1 runtime failure, 2 usage or configuration error (nothing was started),
130 interrupted before the signal handlers were in place.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys

from meeting_controller.errors import ConfigError

PROG = "meeting-controller"
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130

#: ``run`` flags and the variables they override (flags win over the environment).
_RUN_FLAGS: tuple[tuple[str, str, str], ...] = (
    ("--id", "MC_ID", "this MC's id (default: the hostname)"),
    ("--region", "MC_REGION", "the region this MC serves"),
    ("--http-listen", "MC_HTTP_LISTEN", "host:port of /healthz, /readyz, /metrics"),
    ("--grpc-listen", "MC_GRPC_LISTEN", "host:port of the internal gRPC API"),
    ("--log-format", "MC_LOG_FORMAT", "text or json"),
    ("--log-level", "MC_LOG_LEVEL", "debug, info, warning or error"),
)

#: Subcommands that parse their own arguments: everything after the name is handed over.
_DELEGATED = ("gc", "demo", "operator", "bench")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Kubernetes-native Meeting Controller for video meetings.",
        epilog="Configuration: MC_* environment variables, see docs/configuration.md.",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    run = commands.add_parser(
        "run",
        help="run the Meeting Controller",
        description="Run the Meeting Controller until SIGTERM/SIGINT. Configured by MC_* "
        "environment variables (docs/configuration.md); these flags override them.",
    )
    for flag, variable, text in _RUN_FLAGS:
        run.add_argument(flag, dest=variable, metavar="VALUE", help=f"{text} [{variable}]")
    commands.add_parser("gc", help="run the reference Global Controller", add_help=False)
    commands.add_parser(
        "demo", help="run a local fleet with participants and drain one MC live", add_help=False
    )
    commands.add_parser("operator", help="run the Kubernetes operator", add_help=False)
    commands.add_parser(
        "bench", help="benchmarks vs. the raw libraries (make bench)", add_help=False
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``meeting-controller`` console script; returns the exit code."""
    args = list(sys.argv[1:] if argv is None else argv)
    if args and args[0] in _DELEGATED:
        return _delegate(args[0], args[1:])
    parser = _parser()
    options = parser.parse_args(args)
    if options.command is None:
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    overrides = {
        variable: value
        for _, variable, _ in _RUN_FLAGS
        if (value := getattr(options, variable)) is not None
    }
    return _run(overrides)


def _run(overrides: dict[str, str]) -> int:
    # Imported here so that `meeting-controller gc --help` does not pay for the actor core.
    from meeting_controller import app, config

    try:
        settings = config.load_settings(os.environ, overrides=overrides)
        config.require_for_run(settings)
    except ConfigError as error:
        for line in str(error).splitlines():
            print(f"{PROG}: configuration error: {line}", file=sys.stderr)
        return EXIT_USAGE
    try:
        return asyncio.run(app.run(settings))
    except KeyboardInterrupt:  # Ctrl-C before the signal handlers were installed.
        return EXIT_INTERRUPTED


def _delegate(command: str, rest: list[str]) -> int:
    if command == "demo":
        from meeting_controller import demo

        return demo.main(rest)
    if command == "bench":
        from meeting_controller import bench

        return bench.main(rest)
    if command == "operator":
        from meeting_operator import cli as operator_cli

        return operator_cli.main(rest)
    # The reference GC is a separate component; imported lazily so `run` never depends on it.
    try:
        from meeting_controller.gc import cli as gc_cli
    except ModuleNotFoundError as error:
        if error.name is None or not error.name.startswith("meeting_controller.gc"):
            raise
        print(f"{PROG} gc: not available in this build ({error.name} is missing)", file=sys.stderr)
        return EXIT_USAGE
    return gc_cli.main(rest)


if __name__ == "__main__":
    sys.exit(main())
