"""The committed protobuf/gRPC code matches proto/ (run `make proto` when this fails)."""

from __future__ import annotations

import os
import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]
PROTO = ROOT / "proto"
GENERATED = ROOT / "controller" / "meeting_controller" / "protocol"


def generate(out: pathlib.Path) -> None:
    protos = sorted(str(p.relative_to(PROTO)) for p in PROTO.rglob("*.proto"))
    grpc_protos = [p for p in protos if p.endswith("internal.proto")]
    env = {
        **os.environ,
        "PATH": f"{pathlib.Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
    }
    base = [sys.executable, "-m", "grpc_tools.protoc", f"-I{PROTO}"]
    subprocess.run(
        [*base, f"--python_out={out}", f"--mypy_out={out}", *protos],
        cwd=PROTO,
        env=env,
        check=True,
        capture_output=True,
    )
    subprocess.run(
        [*base, f"--grpc_python_out={out}", f"--mypy_grpc_out={out}", *grpc_protos],
        cwd=PROTO,
        env=env,
        check=True,
        capture_output=True,
    )


def test_generated_code_is_fresh(tmp_path: pathlib.Path) -> None:
    generate(tmp_path)
    fresh = {
        p.name: p.read_bytes() for p in (tmp_path / "meeting_controller" / "protocol").iterdir()
    }
    committed = {p.name: p.read_bytes() for p in GENERATED.glob("*_pb2*.py*")}
    assert sorted(committed) == sorted(fresh), "generated files differ: run `make proto`"
    stale = [name for name in fresh if fresh[name] != committed[name]]
    assert not stale, f"stale generated code in {stale}: run `make proto` and commit the result"


def test_every_seed_message_exists() -> None:
    from meeting_controller.protocol import internal_pb2, signaling_pb2

    for name in (
        "JoinRequest",
        "JoinResponse",
        "MuteRequest",
        "HostMuteRequest",
        "UnmuteRequest",
        "UnmuteDecision",
        "ParticipantMuteUpdate",
        "ParticipantJoined",
        "ParticipantLeft",
        "RedirectToMc",
        "Error",
    ):
        assert hasattr(signaling_pb2, name), name
    join = signaling_pb2.JoinRequest.DESCRIPTOR.fields_by_name
    assert {
        "meeting_id",
        "join_token",
        "session_token",
        "last_sequence_number",
        "display_name",
    } <= set(join)
    register = internal_pb2.RegisterMcRequest.DESCRIPTOR.fields_by_name
    assert {
        "mc_id",
        "region",
        "grpc_endpoint",
        "webtransport_endpoint",
        "max_meetings",
        "max_participants",
    } <= set(register)
    reasons = set(internal_pb2.RejectionReason.keys())
    assert {
        "REJECTION_REASON_DRAINING",
        "REJECTION_REASON_AT_CAPACITY",
        "REJECTION_REASON_UNHEALTHY",
        "REJECTION_REASON_SHUTTING_DOWN",
    } <= reasons
    services = internal_pb2.DESCRIPTOR.services_by_name
    assert set(services["GlobalControllerService"].methods_by_name) >= {
        "RegisterMc",
        "FastHeartbeat",
        "ComprehensiveHeartbeat",
        "NotifyDraining",
        "NotifyDrained",
        "NotifyMeetingEnded",
    }
    assert set(services["MeetingControllerService"].methods_by_name) >= {
        "AssignMeeting",
        "AssignMeetingWithMh",
        "GetStatus",
        "GetMeeting",
        "Drain",
    }
