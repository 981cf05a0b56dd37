"""End-to-end fixtures: real Redis, the reference GC, real MC processes, real QUIC clients."""

from __future__ import annotations

import dataclasses
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from meeting_controller import tls
from meeting_controller.client import gc as gc_api
from meeting_controller.client.meeting import MeetingClient, Trust
from tests.support.gc_server import ThreadedGc
from tests.support.processes import HOST, CliProcess, ProcessGroup, free_port

ADMIN_TOKEN = b"e2e-admin-token-0123456789"


@dataclasses.dataclass
class Fleet:
    gc: ThreadedGc
    processes: ProcessGroup
    cert: tls.CertificateInfo
    redis_url: str
    workdir: Path
    mcs: dict[str, CliProcess] = dataclasses.field(default_factory=dict)

    @property
    def trust(self) -> Trust:
        return Trust(cafile=str(self.cert.cert_file))

    def start_mc(self, mc_id: str, **env: str) -> CliProcess:
        grpc_port = free_port()
        wt_port = free_port(socket.SOCK_DGRAM)
        mc = self.processes.start_mc(
            env={
                "MC_ID": mc_id,
                "MC_GRPC_LISTEN": f"{HOST}:{grpc_port}",
                "MC_GRPC_ADVERTISE": f"{HOST}:{grpc_port}",
                "MC_WEBTRANSPORT_LISTEN": f"{HOST}:{wt_port}",
                "MC_WEBTRANSPORT_ADVERTISE": f"https://{HOST}:{wt_port}/signaling",
                "MC_TLS_CERT_FILE": str(self.cert.cert_file),
                "MC_TLS_KEY_FILE": str(self.cert.key_file),
                **env,
            }
        )
        mc.ports["grpc"] = grpc_port
        mc.wait_for_http("/readyz")
        self.mcs[mc_id] = mc
        return mc

    async def participant(
        self, user: str, *, meeting_id: str | None = None, role: str | None = None
    ) -> MeetingClient:
        ticket = await gc_api.request_join(
            self.gc.http_url, user_id=user, meeting_id=meeting_id, role=role, display_name=user
        )
        client = MeetingClient(
            ticket=ticket, display_name=user, trust=self.trust, gc_url=self.gc.http_url
        )
        await client.connect()
        return client


@pytest.fixture
def fleet(tmp_path: Path, redis_url: str) -> Iterator[Fleet]:
    cert = tls.generate_self_signed(
        cert_file=tmp_path / "cert.pem", key_file=tmp_path / "key.pem", names=[HOST]
    )
    with ThreadedGc(fast_heartbeat_ms=500) as gc:
        key_file = gc.write_public_key(tmp_path / "gc.pem")
        secret_file = tmp_path / "session.secret"
        secret_file.write_bytes(b"e2e-session-master-secret-of-32+bytes!")
        admin_file = tmp_path / "admin.token"
        admin_file.write_bytes(ADMIN_TOKEN)
        processes = ProcessGroup(
            workdir=tmp_path,
            mc_env={
                "MC_REDIS_URL": redis_url,
                "MC_GC_ENDPOINT": gc.grpc_address,
                "MC_JOIN_TOKEN_PUBLIC_KEY_FILE": str(key_file),
                "MC_SESSION_MASTER_SECRET_FILE": str(secret_file),
                "MC_ADMIN_TOKEN_FILE": str(admin_file),
            },
        )
        try:
            yield Fleet(
                gc=gc, processes=processes, cert=cert, redis_url=redis_url, workdir=tmp_path
            )
        finally:
            processes.close()
