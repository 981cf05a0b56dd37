"""The assembled GC (sweeper, start/stop) and the ``meeting-controller gc`` command line."""

from __future__ import annotations

import asyncio
import signal
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import grpc.aio
import pytest

from meeting_controller import errors, tokens
from meeting_controller.gc import cli, server
from meeting_controller.protocol import internal_pb2 as pb
from meeting_controller.protocol import internal_pb2_grpc
from tests.gc.support import FakeClock, ScriptedMc, free_port, http, scripted_mcs


def registration(mc_id: str, mc: ScriptedMc) -> pb.RegisterMcRequest:
    return pb.RegisterMcRequest(
        mc_id=mc_id,
        region="eu",
        grpc_endpoint=mc.endpoint,
        webtransport_endpoint=f"https://{mc_id}.test:4433/",
        max_meetings=10,
        max_participants=100,
    )


async def wait_until(predicate: Callable[[], Awaitable[bool]], *, timeout_s: float = 3.0) -> None:
    deadline = time.monotonic() + timeout_s
    while True:
        if await predicate():
            return
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.02)


# --- the assembled GC -------------------------------------------------------------------------


@pytest.fixture
async def mcs() -> AsyncIterator[dict[str, ScriptedMc]]:
    async with scripted_mcs("mc-a", "mc-b") as started:
        yield started


async def test_the_sweeper_fails_a_dead_mcs_meeting_over(mcs: dict[str, ScriptedMc]) -> None:
    clock = FakeClock()
    gc = server.GlobalController(
        grpc_listen="127.0.0.1:0",
        http_listen="127.0.0.1:0",
        signing_key=tokens.generate_signing_key(),
        fast_heartbeat_ms=1000,
        sweep_interval_s=0.02,
        clock=clock,
    )
    await gc.start()
    try:
        async with grpc.aio.insecure_channel(gc.grpc_address) as channel:
            stub = internal_pb2_grpc.GlobalControllerServiceStub(channel)
            for mc_id, mc in mcs.items():
                assert (await stub.RegisterMc(registration(mc_id, mc), timeout=5)).accepted
            created = await http(
                gc.http_url, "POST", "/v1/meetings", {"meeting_id": "m", "user_id": "u"}
            )
            first = created.json()["mc_id"]
            survivor = "mc-b" if first == "mc-a" else "mc-a"
            # The hosting MC falls silent; the survivor keeps beating past the window.
            for _ in range(4):
                clock.advance(1.0)
                beat = pb.FastHeartbeatRequest(mc_id=survivor, state=pb.MC_STATE_ACTIVE)
                assert (await stub.FastHeartbeat(beat, timeout=5)).status == pb.HEARTBEAT_STATUS_OK

            async def moved() -> bool:
                where = (await http(gc.http_url, "GET", "/v1/meetings/m")).json()
                return bool(where["mc_id"] == survivor)

            await wait_until(moved)
            assert mcs[survivor].assign_calls[0].generation == 1  # took over from generation 1
            fleet = (await http(gc.http_url, "GET", "/v1/mcs")).json()["mcs"]
            assert {mc["mc_id"]: mc["alive"] for mc in fleet} == {first: False, survivor: True}
    finally:
        await gc.stop()


async def test_start_fails_cleanly_when_the_address_is_taken() -> None:
    first = server.GlobalController(
        grpc_listen="127.0.0.1:0",
        http_listen="127.0.0.1:0",
        signing_key=tokens.generate_signing_key(),
    )
    await first.start()
    try:
        taken = first.http_url.removeprefix("http://")
        second = server.GlobalController(
            grpc_listen="127.0.0.1:0", http_listen=taken, signing_key=tokens.generate_signing_key()
        )
        with pytest.raises(errors.ConfigError, match="--http-listen: cannot listen on"):
            await second.start()
        third = server.GlobalController(
            grpc_listen=first.grpc_address,
            http_listen="127.0.0.1:0",
            signing_key=tokens.generate_signing_key(),
        )
        with pytest.raises(errors.ConfigError, match="--grpc-listen: cannot listen on"):
            await third.start()
    finally:
        await first.stop()


async def test_serve_runs_until_stop_is_set() -> None:
    stop = asyncio.Event()
    ready: list[server.GlobalController] = []
    task = asyncio.create_task(
        server.serve(
            grpc_listen="127.0.0.1:0",
            http_listen="127.0.0.1:0",
            signing_key=tokens.generate_signing_key(),
            stop=stop,
            on_ready=ready.append,
        )
    )
    try:
        await wait_until(lambda: asyncio.sleep(0, result=bool(ready)))
        assert (await http(ready[0].http_url, "GET", "/healthz")).status == 200
        stop.set()
        await asyncio.wait_for(task, timeout=5)
        with pytest.raises(ConnectionRefusedError):
            await http(ready[0].http_url, "GET", "/healthz")
    finally:
        task.cancel()


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("127.0.0.1:8080", ("127.0.0.1", 8080)),
        ("0.0.0.0:0", ("0.0.0.0", 0)),
        ("localhost:50051", ("localhost", 50051)),
        ("[::1]:443", ("::1", 443)),
    ],
)
def test_listen_addresses(value: str, expected: tuple[str, int]) -> None:
    assert server.parse_listen_address(value, option="--x") == expected


@pytest.mark.parametrize("value", ["8080", ":8080", "host:", "host:http", "host:65536", "h:-1"])
def test_bad_listen_addresses_name_the_option(value: str) -> None:
    with pytest.raises(errors.ConfigError, match="--x must be host:port"):
        server.parse_listen_address(value, option="--x")


# --- the command line -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "message_part"),
    [
        (["--fast-heartbeat-ms", "soon"], "--fast-heartbeat-ms: must be a whole number"),
        (["--comprehensive-heartbeat-ms", "-5"], "--comprehensive-heartbeat-ms: must be between"),
        (["--token-ttl-seconds", "0"], "--token-ttl-seconds: must be more than 0"),
        (["--token-ttl-seconds", "x"], "--token-ttl-seconds: must be a number"),
        (["--log-level", "LOUD"], "--log-level: invalid choice"),
        (["--grpc-listen", "nope"], "--grpc-listen must be host:port"),
        (["--http-listen", "h:99999"], "--http-listen must be host:port"),
        (["--signing-key-file", "/nonexistent/gc.pem"], "/nonexistent/gc.pem: cannot read"),
        (["--unknown"], "unrecognized arguments: --unknown"),
    ],
)
def test_bad_flags_exit_2_with_a_clear_message(
    argv: list[str], message_part: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(argv) == 2
    assert message_part in capsys.readouterr().err


def test_a_key_file_of_the_wrong_type_is_named(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "gc.pub"
    path.write_bytes(tokens.public_key_pem(tokens.generate_signing_key()))
    assert cli.main(["--signing-key-file", str(path)]) == 2
    assert f"{path}:" in capsys.readouterr().err


def test_help_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["--help"]) == 0
    assert "--public-key-out" in capsys.readouterr().out


def test_defaults() -> None:
    args = cli.build_parser().parse_args([])
    assert (args.grpc_listen, args.http_listen) == ("127.0.0.1:50051", "127.0.0.1:8080")
    assert (args.fast_heartbeat_ms, args.comprehensive_heartbeat_ms) == (0, 0)
    assert args.signing_key_file is None
    assert args.public_key_out is None


async def test_the_gc_process_serves_signs_verifiable_tokens_and_stops_on_sigterm(
    tmp_path: Path, mcs: dict[str, ScriptedMc]
) -> None:
    """End to end: a real `gc` process, a scripted MC, and a token checked with the PEM file."""
    key_file = tmp_path / "gc.pem"
    key_file.write_bytes(tokens.private_key_pem(tokens.generate_signing_key()))
    public_out = tmp_path / "gc.pub"
    grpc_port, http_port = free_port(), free_port()
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        "import sys; from meeting_controller.gc.cli import main; sys.exit(main(sys.argv[1:]))",
        f"--grpc-listen=127.0.0.1:{grpc_port}",
        f"--http-listen=127.0.0.1:{http_port}",
        f"--signing-key-file={key_file}",
        f"--public-key-out={public_out}",
        "--fast-heartbeat-ms=500",
        "--log-level=warning",
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{http_port}"
    try:

        async def healthy() -> bool:
            try:
                return (await http(url, "GET", "/healthz")).status == 200
            except OSError:
                assert process.returncode is None, "the GC process exited early"
                return False

        await wait_until(healthy, timeout_s=15)
        async with grpc.aio.insecure_channel(f"127.0.0.1:{grpc_port}") as channel:
            stub = internal_pb2_grpc.GlobalControllerServiceStub(channel)
            answer = await stub.RegisterMc(registration("mc-a", mcs["mc-a"]), timeout=5)
            assert answer.accepted
            assert answer.fast_heartbeat_interval_ms == 500
        created = await http(url, "POST", "/v1/meetings", {"meeting_id": "m", "user_id": "u"})
        assert created.status == 201, created.body
        claims = tokens.verify_join_token(
            created.json()["join_token"],
            public_key=tokens.load_public_key(public_out),
            meeting_id="m",
            now=time.time(),
        )
        assert claims.role == "host"
        process.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(process.wait(), timeout=10) == 0
    finally:
        if process.returncode is None:
            process.kill()  # our own child, by its pid
        _, stderr = await process.communicate()
        print(stderr.decode(errors="replace"))  # shown by pytest when the test fails
