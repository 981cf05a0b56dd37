"""The console's HTTP server: the page's files, its configuration and the GC pass-through."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from meeting_controller import tls
from meeting_controller.webconsole import FILES, certificate_file_sha256, serve_console
from tests.support.gc_server import ThreadedGc


def get(url: str, data: bytes | None = None) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, data=data, method="POST" if data is not None else "GET")
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


@pytest.fixture
def gc() -> Iterator[ThreadedGc]:
    with ThreadedGc() as gc:
        yield gc


def test_serves_the_page_and_nothing_else(tmp_path: Path) -> None:
    with serve_console("127.0.0.1", 0) as console:
        assert console.url.startswith("http://127.0.0.1:")
        for path, (name, content_type) in FILES.items():
            status, headers, body = get(console.url.rstrip("/") + path)
            assert status == 200, path
            assert headers["Content-Type"] == content_type
            assert body == (console.web_root / name).read_bytes()
        for path in ("/package.json", "/node_modules/.bin/pbjs", "/../pyproject.toml", "/x"):
            assert get(console.url.rstrip("/") + path)[0] == 404, path


def test_config_carries_the_certificate_hashes(tmp_path: Path) -> None:
    cert = tls.generate_self_signed(cert_file=tmp_path / "c.pem", key_file=tmp_path / "k.pem")
    assert certificate_file_sha256(cert.cert_file) == cert.sha256
    with serve_console("127.0.0.1", 0, certificate_hashes=[cert.sha256]) as console:
        status, _, body = get(console.url + "config.json")
    assert status == 200
    assert json.loads(body) == {"certificate_hashes": [cert.sha256_hex], "gc": False}


def test_without_a_gc_ticket_requests_say_what_to_do() -> None:
    with serve_console("127.0.0.1", 0) as console:
        status, _, body = get(console.url + "v1/meetings", b'{"user_id": "u"}')
    assert status == 503
    assert "by hand" in json.loads(body)["message"]


def test_gc_answers_pass_through_unchanged(gc: ThreadedGc) -> None:
    with serve_console("127.0.0.1", 0, gc_url=gc.http_url) as console:
        # No MC registered: the GC's own 503 and message come back.
        status, _, body = get(console.url + "v1/meetings", b'{"user_id": "u"}')
        assert status == 503
        assert json.loads(body)["error"] == "no_capacity"
        status, _, body = get(console.url + "v1/meetings", b'{"bogus": 1}')
        assert status == 400
        status, _, body = get(console.url + "v1/meetings/unknown")
        assert status == 404
        assert "unknown" in json.loads(body)["message"]


def test_an_unreachable_gc_is_a_502(tmp_path: Path) -> None:
    with serve_console("127.0.0.1", 0, gc_url="http://127.0.0.1:9") as console:
        status, _, body = get(console.url + "v1/meetings", b'{"user_id": "u"}')
    assert status == 502
    assert "cannot reach the GC" in json.loads(body)["message"]


def test_a_missing_web_root_fails_at_start(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="missing"):
        serve_console("127.0.0.1", 0, web_root=tmp_path)
