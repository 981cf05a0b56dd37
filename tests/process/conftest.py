"""Fixtures of the process tests: real ``meeting-controller`` children, always cleaned up.

Every ``meeting-controller run`` child gets this test's own real Redis (``MC_REDIS_URL``) and
real reference GC (``MC_GC_ENDPOINT``), since the MC connects to both eagerly at start-up.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.gc_server import ThreadedGc
from tests.support.processes import ProcessGroup


@pytest.fixture
def reference_gc() -> Iterator[ThreadedGc]:
    """The reference GC, in-process on free ports, stopped when the test ends."""
    with ThreadedGc() as gc:
        yield gc


@pytest.fixture
def processes(tmp_path: Path, redis_url: str, reference_gc: ThreadedGc) -> Iterator[ProcessGroup]:
    """Starts ``meeting-controller`` children; whatever still runs is stopped by PID at the end."""
    group = ProcessGroup(
        workdir=tmp_path,
        mc_env={
            "MC_REDIS_URL": redis_url,
            "MC_GC_ENDPOINT": reference_gc.grpc_address,
            "MC_JOIN_TOKEN_PUBLIC_KEY_FILE": str(
                reference_gc.write_public_key(tmp_path / "gc-public-key.pem")
            ),
        },
    )
    try:
        yield group
    finally:
        group.close()
