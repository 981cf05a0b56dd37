"""The ``meeting-controller`` command line, in-process: dispatch, usage errors, exit codes."""

from __future__ import annotations

import os

import pytest

from meeting_controller import cli, demo
from meeting_controller.gc import cli as gc_cli


@pytest.fixture(autouse=True)
def no_mc_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    """The developer's shell must not change what `run` sees."""
    for name in list(os.environ):
        if name.startswith("MC_"):
            monkeypatch.delenv(name)


def test_no_command_prints_the_usage_and_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main([]) == 2
    err = capsys.readouterr().err
    for command in ("run", "gc", "demo", "operator", "bench"):
        assert command in err


def test_gc_hands_every_following_argument_to_the_reference_gc(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    received: list[list[str]] = []

    def fake_main(argv: list[str] | None = None) -> int:
        received.append(list(argv or []))
        return 7

    monkeypatch.setattr(gc_cli, "main", fake_main)

    assert cli.main(["gc", "--help", "--listen", "x"]) == 7
    assert received == [["--help", "--listen", "x"]]


def test_demo_hands_every_following_argument_to_the_demo(monkeypatch: pytest.MonkeyPatch) -> None:
    received: list[list[str]] = []

    def fake_main(argv: list[str] | None = None) -> int:
        received.append(list(argv or []))
        return 0

    monkeypatch.setattr(demo, "main", fake_main)

    assert cli.main(["demo", "--duration", "3"]) == 0
    assert received == [["--duration", "3"]]


def test_run_with_a_bad_environment_exits_2_with_one_prefixed_line_per_problem(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("MC_MAX_MEETINGS", "ten")
    monkeypatch.setenv("MC_RATE_LIMIT_BURST", "0")

    assert cli.main(["run"]) == 2

    assert capsys.readouterr().err.splitlines() == [
        "meeting-controller: configuration error: MC_MAX_MEETINGS='ten': "
        "expected a positive integer (1..100000)",
        "meeting-controller: configuration error: MC_RATE_LIMIT_BURST='0': "
        "expected a positive integer (1..1000000)",
    ]


def test_run_flags_are_documented_with_the_variable_they_override(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as exited:
        cli.main(["run", "--help"])
    assert exited.value.code == 0
    out = capsys.readouterr().out
    for flag, variable in [
        ("--id", "MC_ID"),
        ("--region", "MC_REGION"),
        ("--http-listen", "MC_HTTP_LISTEN"),
        ("--grpc-listen", "MC_GRPC_LISTEN"),
        ("--log-format", "MC_LOG_FORMAT"),
    ]:
        assert flag in out
        assert f"[{variable}]" in out


def test_operator_hands_every_following_argument_to_the_operator(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from meeting_operator import cli as operator_cli

    received: list[list[str]] = []

    def fake_main(argv: list[str] | None = None) -> int:
        received.append(list(argv or []))
        return 5

    monkeypatch.setattr(operator_cli, "main", fake_main)
    assert cli.main(["operator", "--standalone", "-A"]) == 5
    assert received == [["--standalone", "-A"]]


def test_bench_hands_every_following_argument_to_the_benchmarks(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from meeting_controller import bench

    received: list[list[str]] = []

    def fake_main(argv: list[str] | None = None) -> int:
        received.append(list(argv or []))
        return 3

    monkeypatch.setattr(bench, "main", fake_main)
    assert cli.main(["bench", "--quick", "--only", "planner"]) == 3
    assert received == [["--quick", "--only", "planner"]]
