"""Real Helm renders of the chart, through ``helm-sdkpy`` in the Python 3.12 venv ``.venv-helm``.

helm-sdkpy needs Python >= 3.12 and the suite runs on 3.11, so the render runs out of process
(``helm_render.py``); one process renders every case of the session, because loading Helm's Go
library is the slow part. Without ``.venv-helm`` the render tests are skipped locally (``make
test`` creates it) and fail in CI (the ``CI`` variable set), where a missing venv is a broken
build, not a reason to skip.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml  # type: ignore[import-untyped,unused-ignore]  # stubs: types-PyYAML

REPO = Path(__file__).resolve().parents[2]
CHART = REPO / "charts" / "meeting-controller"
HELM_VENV = REPO / ".venv-helm"
HELM_PYTHON = HELM_VENV / "bin" / "python"
RENDER_SCRIPT = Path(__file__).with_name("helm_render.py")
RENDER_TIMEOUT_SECONDS = 300


@dataclass(frozen=True)
class Render:
    """The outcome of one ``helm install`` of the chart against the throwaway API server."""

    name: str
    ok: bool
    error: str | None
    manifest: str
    notes: str
    created: list[dict[str, Any]]

    @property
    def documents(self) -> list[dict[str, Any]]:
        """The rendered templates (no CRDs: Helm keeps ``crds/`` out of the release manifest)."""
        return [doc for doc in yaml.safe_load_all(self.manifest) if doc]

    def find(self, kind: str, name: str | None = None) -> list[dict[str, Any]]:
        """The rendered documents of ``kind`` (and ``name``)."""
        return [
            doc
            for doc in self.documents
            if doc["kind"] == kind and (name is None or doc["metadata"]["name"] == name)
        ]

    def one(self, kind: str) -> dict[str, Any]:
        """The only rendered document of ``kind``."""
        (doc,) = self.find(kind)
        return doc


def require_helm_venv() -> Path:
    """The venv's python, or skip (locally) / fail (in CI) when it is absent."""
    if HELM_PYTHON.exists():
        return HELM_PYTHON
    message = f"{HELM_VENV.name} is missing: `make helm-venv` creates it (python3.12 + helm-sdkpy)"
    if os.environ.get("CI"):
        pytest.fail(f"{message}; CI must run the Helm render tests")
    pytest.skip(message)


def render_all(cases: list[dict[str, Any]], *, scratch: Path) -> dict[str, Render]:
    """Render every case (``name``, ``namespace``, ``values``) with real Helm; by case name."""
    python = require_helm_venv()
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(scratch),
        "HELM_DRIVER": "memory",
        "HELM_CACHE_HOME": str(scratch / "cache"),
        "HELM_CONFIG_HOME": str(scratch / "config"),
        "HELM_DATA_HOME": str(scratch / "data"),
    }
    completed = subprocess.run(
        [str(python), str(RENDER_SCRIPT)],
        input=json.dumps({"chart": str(CHART), "cases": cases}),
        capture_output=True,
        text=True,
        env=env,
        timeout=RENDER_TIMEOUT_SECONDS,
        check=False,
    )
    if completed.returncode != 0:
        sys.stderr.write(completed.stderr)
        pytest.fail(f"helm_render.py exited {completed.returncode}: {completed.stderr[-2000:]}")
    output = json.loads(completed.stdout)
    return {
        result["name"]: Render(
            name=result["name"],
            ok=result["ok"],
            error=result["error"],
            manifest=result.get("manifest") or "",
            notes=result.get("notes") or "",
            created=result["created"],
        )
        for result in output["results"]
    }
