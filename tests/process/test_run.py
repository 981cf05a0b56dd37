"""``meeting-controller run`` as a real process: endpoints, signals, exit codes, log format."""

from __future__ import annotations

import json
import signal
import socket
import time

import pytest

from tests.support.gc_server import ThreadedGc
from tests.support.processes import HOST, CliProcess, HttpAnswer, ProcessGroup, free_port
from tests.support.redis_server import RedisServer

MC_METRICS = (
    "mc_meetings_active",
    "mc_participants_active",
    "mc_connections_active",
    "mc_actor_mailbox_depth",
    "mc_actor_failures_total",
)
CONFIG_ERROR = "meeting-controller: configuration error: "


def test_run_serves_health_readiness_and_the_mc_metrics(processes: ProcessGroup) -> None:
    mc = processes.start_mc()

    health = mc.get("/healthz")
    assert (health.status, health.text) == (200, "ok\n")
    mc.wait_for_http("/readyz")  # ready once registered with the GC
    ready = mc.get("/readyz")
    assert ready.status == 200
    assert json.loads(ready.body) == {"ready": True, "reason": "ready"}
    metrics = mc.get("/metrics")
    assert metrics.status == 200
    assert metrics.headers["Content-Type"].startswith("text/plain")
    for name in MC_METRICS:
        assert f"\n{name}" in metrics.text, name
    assert "mc_meetings_active 0.0" in metrics.text


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_stop_signal_ends_the_process_with_0_promptly(
    processes: ProcessGroup, signum: int
) -> None:
    mc = processes.start_mc()
    mc.wait_for_http("/readyz")  # registered: a stop signal now drains first

    started = time.monotonic()
    code = mc.stop(signum=signum)

    assert code == 0, mc.stderr()
    assert time.monotonic() - started < 3.0
    stderr = mc.stderr()
    # A registered MC drains first (nothing to wait for here), then stops.
    assert f"{signal.Signals(signum).name}: draining before shutdown" in stderr
    assert "drain finished: 0 ended, 0 migrated, 0 closed at the deadline" in stderr
    assert "meeting controller stopped" in stderr
    # The HTTP server stopped last: its stop line comes after the drain.
    assert stderr.index("drain finished") < stderr.index("HTTP server stopped")


def test_an_invalid_variable_exits_2_naming_it_before_opening_any_port(
    processes: ProcessGroup,
) -> None:
    # Hold the HTTP port: had the MC tried to listen, it would fail differently (exit 1).
    with socket.socket() as held:
        held.bind((HOST, 0))
        held.listen()
        port = held.getsockname()[1]
        mc = processes.start(
            ["run"],
            env={
                "MC_HTTP_LISTEN": f"{HOST}:{port}",
                "MC_MAX_MEETINGS": "ten",
                "MC_LOG_FORMAT": "xml",
                "MC_MAX_PARTICIPANT": "5",
            },
        )
        code = mc.wait(timeout=10.0)

    assert code == 2
    lines = mc.stderr().splitlines()
    assert lines == [
        CONFIG_ERROR + "MC_MAX_PARTICIPANT: unknown variable (did you mean MC_MAX_PARTICIPANTS?); "
        "see docs/configuration.md for the known ones",
        CONFIG_ERROR + "MC_MAX_MEETINGS='ten': expected a positive integer (1..100000)",
        CONFIG_ERROR + "MC_LOG_FORMAT='xml': expected one of text, json",
    ]
    assert mc.stdout() == ""


def test_flags_override_the_environment(processes: ProcessGroup) -> None:
    port = free_port()
    mc = processes.start_mc(
        env={"MC_ID": "from-env", "MC_LOG_FORMAT": "text", "MC_HTTP_LISTEN": "127.0.0.1:1"},
        args=["--id", "from-flag", "--log-format", "json", "--http-listen", f"{HOST}:{port}"],
        wait=False,
    )
    mc.ports["http"] = port
    mc.wait_for_http()

    assert mc.stop() == 0
    records = [json.loads(line) for line in mc.stderr().splitlines()]
    assert {record["mc_id"] for record in records} == {"from-flag"}


def test_an_invalid_flag_is_reported_as_coming_from_the_command_line(
    processes: ProcessGroup,
) -> None:
    mc = processes.start(["run", "--grpc-listen", "nowhere"])
    assert mc.wait(timeout=10.0) == 2
    assert mc.stderr() == (
        CONFIG_ERROR + "MC_GRPC_LISTEN (from the command line)='nowhere': expected host:port "
        "with port 0..65535 (0 picks a free port), IPv6 as [::]:port\n"
    )


def test_a_taken_http_port_fails_start_up_with_exit_1_and_a_clear_message(
    processes: ProcessGroup,
) -> None:
    with socket.socket() as held:
        held.bind((HOST, 0))
        held.listen()
        port = held.getsockname()[1]
        mc = processes.start_mc(env={"MC_HTTP_LISTEN": f"{HOST}:{port}"}, wait=False)
        code = mc.wait(timeout=10.0)

    assert code == 1
    assert f"cannot listen for HTTP on {HOST}:{port}" in mc.stderr()
    assert "meeting controller stopped" in mc.stderr()


def test_json_log_format_makes_every_output_line_a_json_record(processes: ProcessGroup) -> None:
    mc = processes.start_mc(env={"MC_LOG_FORMAT": "json", "MC_LOG_LEVEL": "debug"})
    mc.get("/readyz")
    mc.get("/nope")
    assert mc.stop() == 0

    output = mc.stdout().splitlines() + mc.stderr().splitlines()
    records = [json.loads(line) for line in output]  # fails on any non-JSON line
    assert len(records) >= 4
    for record in records:
        assert {"ts", "level", "logger", "msg"} <= record.keys()
        assert record["mc_id"] == "test-mc"
    events = [record.get("event") for record in records]
    assert events[0] == "starting"
    assert events[-1] == "stopped"
    assert {"http_listening", "running", "shutdown_requested", "http_stopped"} <= set(events)


def test_the_start_line_shows_the_settings_with_secrets_redacted(
    processes: ProcessGroup, tmp_path_factory: pytest.TempPathFactory
) -> None:
    secret_dir = tmp_path_factory.mktemp("secrets")
    (secret_dir / "master").write_text("super-secret-session-master-key-0123456789\n")
    # Nothing listens there: the MC logs its start line, then fails on Redis (exit 1), and
    # the password must be redacted in the error too.
    port = free_port()
    mc = processes.start_mc(
        env={
            "MC_LOG_FORMAT": "json",
            "MC_SESSION_MASTER_SECRET_FILE": str(secret_dir / "master"),
            "MC_REDIS_URL": f"redis://:hunter2@127.0.0.1:{port}/0",
        },
        wait=False,
    )
    assert mc.wait(timeout=10.0) == 1

    stderr = mc.stderr()
    assert "super-secret" not in stderr
    assert "hunter2" not in stderr
    start = json.loads(stderr.splitlines()[0])
    assert start["settings"]["session_master_secret"] == "Secret('**********')"
    assert start["settings"]["redis_url"] == f"redis://:***@127.0.0.1:{port}/0"
    assert start["settings"]["mc_id"] == "test-mc"


# -- Redis and the GC at start-up ----------------------------------------------------------


def test_an_unreachable_redis_fails_start_up_with_exit_1_naming_the_url(
    processes: ProcessGroup,
) -> None:
    url = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there
    mc = processes.start_mc(env={"MC_REDIS_URL": url}, wait=False)

    assert mc.wait(timeout=10.0) == 1
    stderr = mc.stderr()
    assert f"cannot start: cannot connect to Redis at {url}" in stderr


def test_readyz_turns_200_once_registered_and_the_gc_lists_the_mc(
    processes: ProcessGroup, reference_gc: ThreadedGc
) -> None:
    mc = processes.start_mc(env={"MC_ID": "mc-ready"})

    mc.wait_for_http("/readyz")

    assert json.loads(mc.get("/readyz").body) == {"ready": True, "reason": "ready"}
    [listed] = reference_gc.fleet()
    assert (listed["mc_id"], listed["state"], listed["alive"]) == ("mc-ready", "active", True)
    assert "registered with the GC at " + reference_gc.grpc_address in mc.stderr()
    assert mc.stop() == 0, mc.stderr()


def test_readyz_fails_while_redis_is_away_and_recovers_by_itself(
    processes: ProcessGroup, redis_server: RedisServer
) -> None:
    mc = processes.start_mc()
    mc.wait_for_http("/readyz")

    redis_server.stop()
    answer = wait_for_readyz(mc, 503)
    assert json.loads(answer.body) == {"ready": False, "reason": "redis unreachable"}
    assert mc.get("/healthz").status == 200  # an outage is no reason to be restarted

    redis_server.start()  # same port: the MC's client reconnects
    wait_for_readyz(mc, 200)
    assert mc.stop() == 0, mc.stderr()


def wait_for_readyz(mc: CliProcess, status: int, *, timeout: float = 10.0) -> HttpAnswer:
    deadline = time.monotonic() + timeout
    while True:
        answer = mc.get("/readyz")
        if answer.status == status:
            return answer
        assert time.monotonic() < deadline, f"/readyz still {answer.status}:\n{mc.stderr()}"
        time.sleep(0.05)


def test_a_registration_the_gc_rejects_fails_start_up_with_exit_1_and_its_reason(
    processes: ProcessGroup,
) -> None:
    first = processes.start_mc(env={"MC_ID": "twin"})
    first.wait_for_http("/readyz")

    # Same id, another gRPC endpoint, while the first is alive: the GC refuses it.
    second = processes.start_mc(env={"MC_ID": "twin"}, wait=False)

    assert second.wait(timeout=10.0) == 1
    stderr = second.stderr()
    assert "cannot start: " in stderr
    assert "MC id 'twin' is already registered and alive" in stderr
    assert "meeting controller stopped" in stderr
    # The refusal harmed neither the first MC nor its registration.
    assert first.get("/readyz").status == 200
    assert first.stop() == 0, first.stderr()


def test_run_refuses_to_start_without_the_join_token_public_key(processes: ProcessGroup) -> None:
    mc = processes.start(["run"], env={"MC_JOIN_TOKEN_PUBLIC_KEY_FILE": ""})
    assert mc.wait(timeout=10.0) == 2
    assert mc.stderr().splitlines() == [
        CONFIG_ERROR + "MC_JOIN_TOKEN_PUBLIC_KEY_FILE is not set: the MC needs the Global "
        "Controller's public key (PEM) to verify join tokens"
    ]
