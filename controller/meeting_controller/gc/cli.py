"""``meeting-controller gc``: run the reference Global Controller.

``main(argv)`` returns the exit status instead of exiting, so the top-level CLI can dispatch to
it and tests can call it. Bad flags and unusable key files end with status 2 and one line on
stderr that names the flag or file; SIGINT/SIGTERM stop the GC cleanly with status 0.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import sys
from pathlib import Path
from typing import Final

from cryptography.hazmat.primitives.asymmetric import ed25519

from meeting_controller import errors, tokens
from meeting_controller.gc import server

PROG: Final = "meeting-controller gc"
#: uint32 on the wire.
MAX_INTERVAL_MS: Final = 2**32 - 1
#: Join tokens are used within seconds of being issued; a day is generous and caps the damage
#: of a leaked token.
MAX_TOKEN_TTL_SECONDS: Final = 86400.0
LOG_LEVELS: Final = ("DEBUG", "INFO", "WARNING", "ERROR")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description=(
            "Run the reference Global Controller: registers MCs, places meetings on them and "
            "issues join tokens. All state is in memory; this is for demos, tests and local "
            "development, not production."
        ),
    )
    parser.add_argument(
        "--grpc-listen",
        default="127.0.0.1:50051",
        metavar="HOST:PORT",
        help="GlobalControllerService address for MCs (default: %(default)s)",
    )
    parser.add_argument(
        "--http-listen",
        default="127.0.0.1:8080",
        metavar="HOST:PORT",
        help="client HTTP API address (default: %(default)s)",
    )
    parser.add_argument(
        "--fast-heartbeat-ms",
        type=_interval_ms,
        default=0,
        metavar="MS",
        help="fast heartbeat interval handed to MCs; 0 = the MCs' default (10 s)",
    )
    parser.add_argument(
        "--comprehensive-heartbeat-ms",
        type=_interval_ms,
        default=0,
        metavar="MS",
        help="comprehensive heartbeat interval handed to MCs; 0 = the MCs' default (30 s)",
    )
    parser.add_argument(
        "--signing-key-file",
        type=Path,
        metavar="PEM",
        help="Ed25519 private key (PKCS#8 PEM) that signs join tokens; generated if absent",
    )
    parser.add_argument(
        "--public-key-out",
        type=Path,
        metavar="PATH",
        help="write the signing key's public half (PEM) here, for MCs to verify join tokens",
    )
    parser.add_argument(
        "--token-ttl-seconds",
        type=_token_ttl,
        default=server.DEFAULT_TOKEN_TTL_SECONDS,
        metavar="SECONDS",
        help="lifetime of issued join tokens (default: %(default)g)",
    )
    parser.add_argument(
        "--region",
        default="",
        help="region for meetings that do not ask for one (default: any region)",
    )
    parser.add_argument(
        "--gc-id",
        default=server.DEFAULT_GC_ID,
        help="id sent to MCs as requesting_gc_id (default: %(default)s)",
    )
    parser.add_argument(
        "--log-level",
        type=str.upper,
        choices=LOG_LEVELS,
        default="INFO",
        help="(default: %(default)s)",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    """Parse ``argv`` (``sys.argv[1:]`` when ``None``), run the GC, return the exit status."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse exits on --help (0) and on bad flags (2)
        return exc.code if isinstance(exc.code, int) else 2
    logging.basicConfig(
        level=args.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    try:
        server.parse_listen_address(args.grpc_listen, option="--grpc-listen")
        server.parse_listen_address(args.http_listen, option="--http-listen")
        signing_key = _signing_key(args.signing_key_file)
        if args.public_key_out is not None:
            _write_public_key(args.public_key_out, signing_key)
        return asyncio.run(_run(args, signing_key))
    except errors.ConfigError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 2


async def _run(args: argparse.Namespace, signing_key: ed25519.Ed25519PrivateKey) -> int:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    try:
        await server.serve(
            grpc_listen=args.grpc_listen,
            http_listen=args.http_listen,
            signing_key=signing_key,
            stop=stop,
            fast_heartbeat_ms=args.fast_heartbeat_ms,
            comprehensive_heartbeat_ms=args.comprehensive_heartbeat_ms,
            token_ttl_s=args.token_ttl_seconds,
            default_region=args.region or None,
            gc_id=args.gc_id,
        )
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(signum)
    return 0


def _signing_key(path: Path | None) -> ed25519.Ed25519PrivateKey:
    if path is not None:
        return tokens.load_private_key(path)
    logging.getLogger(__name__).warning(
        "no --signing-key-file: generated a signing key for this run only; MCs can verify its "
        "join tokens only with the public key (--public-key-out)"
    )
    return tokens.generate_signing_key()


def _write_public_key(path: Path, key: ed25519.Ed25519PrivateKey) -> None:
    """Write atomically, so an MC polling for the file never reads half of it."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        temporary.write_bytes(tokens.public_key_pem(key))
        os.replace(temporary, path)
    except OSError as exc:
        temporary.unlink(missing_ok=True)
        raise errors.ConfigError(
            f"--public-key-out: cannot write {path} ({exc.strerror or exc})"
        ) from None


def _interval_ms(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"must be a whole number of milliseconds, not {text!r}"
        ) from None
    if not 0 <= value <= MAX_INTERVAL_MS:
        raise argparse.ArgumentTypeError(f"must be between 0 and {MAX_INTERVAL_MS}, not {value}")
    return value


def _token_ttl(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number of seconds, not {text!r}") from None
    if not 0 < value <= MAX_TOKEN_TTL_SECONDS:
        raise argparse.ArgumentTypeError(
            f"must be more than 0 and at most {MAX_TOKEN_TTL_SECONDS:g}, not {text}"
        )
    return value
