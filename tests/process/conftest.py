"""Fixtures of the process tests: real ``meeting-controller`` children, always cleaned up."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.processes import ProcessGroup


@pytest.fixture
def processes(tmp_path: Path) -> Iterator[ProcessGroup]:
    """Starts ``meeting-controller`` children; whatever still runs is stopped by PID at the end."""
    group = ProcessGroup(workdir=tmp_path)
    try:
        yield group
    finally:
        group.close()
