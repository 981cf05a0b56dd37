"""The committed protobuf JavaScript of the web console matches proto/ (like the Python check).

Regenerate with ``cd web && npm ci && npm run generate`` when this fails. The generator
(protobufjs-cli, pinned in web/package.json and web/package-lock.json) is installed by
``npm ci`` in web/; without it the check skips, except under ``CI`` where it fails.
"""

from __future__ import annotations

import os
import pathlib
import shutil
import subprocess

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
WEB = ROOT / "web"
COMMITTED = WEB / "generated"


def test_generated_javascript_is_fresh(tmp_path: pathlib.Path) -> None:
    pbjs = WEB / "node_modules" / ".bin" / "pbjs"
    if not (pbjs.exists() and shutil.which("node")):
        message = "protobufjs-cli is not installed: run `npm ci` in web/"
        if os.environ.get("CI"):
            pytest.fail(f"CI is set, so the check must run: {message}", pytrace=False)
        pytest.skip(message)
    subprocess.run(["sh", str(WEB / "generate.sh"), str(tmp_path)], check=True, capture_output=True)
    fresh = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    committed = {p.name: p.read_bytes() for p in COMMITTED.iterdir()}
    assert sorted(committed) == sorted(fresh), "generated files differ: run `npm run generate`"
    stale = [name for name in fresh if fresh[name] != committed[name]]
    assert not stale, f"stale generated JavaScript in {stale}: run `npm run generate` in web/"


def test_the_generated_code_knows_every_signaling_message() -> None:
    code = (COMMITTED / "signaling.js").read_text()
    proto = (ROOT / "proto" / "meeting_controller" / "protocol" / "signaling.proto").read_text()
    messages = [line.split()[1] for line in proto.splitlines() if line.startswith("message ")]
    assert messages
    missing = [name for name in messages if f"v1.{name} = (function()" not in code]
    assert not missing, missing
