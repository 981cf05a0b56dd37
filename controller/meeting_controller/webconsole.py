"""The web console's own tiny HTTP server: the page, its configuration, and a GC pass-through.

The console (``web/index.html`` + ``web/console.js``) speaks the real signaling protocol to the
MCs over WebTransport, straight from the browser. It needs three things a static file server
alone cannot give it, so this module serves them next to the page:

* ``GET /config.json``: the SHA-256 digests of the MCs' self-signed certificate. A browser
  accepts a WebTransport server without a public CA only when the page passes the digest in
  ``serverCertificateHashes`` (ECDSA P-256, valid < 14 days: see :mod:`meeting_controller.tls`).
* ``POST /v1/meetings`` and ``GET /v1/meetings/<id>``, forwarded verbatim to the reference GC.
  The GC's HTTP API sends no CORS headers (and should not: it is not a browser API), so a page
  served from another origin cannot read its answers. Forwarding keeps the page same-origin
  and the GC untouched; the page then does exactly what the Python client does: ask the GC for
  a join ticket, join the MC it names, ask the GC again where a meeting lives when a connection
  is lost without a redirect.
* the page itself, from a fixed list of files (nothing else under ``web/`` is reachable).

A WebTransport page must be a secure context: ``http://127.0.0.1`` and ``http://localhost``
qualify, so the server listens on 127.0.0.1 by default. Like the reference GC it forwards to,
it has **no authentication**: it is for local development and the demo, not for the Internet.

Usage, from the demo or a test (returns at once; the server runs on a daemon thread)::

    server = serve_console("127.0.0.1", 0, gc_url=gc.http_url, certificate_hashes=[digest])
    print(server.url)
    ...
    server.close()

or standalone::

    python -m meeting_controller.webconsole --gc-url http://127.0.0.1:8080 --cert-file cert.pem
"""

from __future__ import annotations

import argparse
import http.server
import json
import logging
import signal
import sys
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Sequence
from http import HTTPStatus
from pathlib import Path
from types import TracebackType
from typing import Final

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from meeting_controller import tls

log = logging.getLogger(__name__)

#: ``web/`` of the source tree (the package is installed from it in editable mode).
DEFAULT_WEB_ROOT: Final = Path(__file__).resolve().parents[2] / "web"

#: URL path -> (file under the web root, Content-Type). Nothing else is served.
FILES: Final[dict[str, tuple[str, str]]] = {
    "/": ("index.html", "text/html; charset=utf-8"),
    "/index.html": ("index.html", "text/html; charset=utf-8"),
    "/console.css": ("console.css", "text/css; charset=utf-8"),
    "/console.js": ("console.js", "text/javascript; charset=utf-8"),
    "/generated/protobuf.min.js": ("generated/protobuf.min.js", "text/javascript; charset=utf-8"),
    "/generated/signaling.js": ("generated/signaling.js", "text/javascript; charset=utf-8"),
}

#: Bodies the console forwards to the GC are join requests: a few hundred bytes.
MAX_BODY_BYTES: Final = 16 * 1024
#: How long a forwarded GC request may take.
GC_TIMEOUT_SECONDS: Final = 10.0


class ConsoleServer(http.server.ThreadingHTTPServer):
    """The console's HTTP server; :func:`serve_console` starts one on a daemon thread."""

    daemon_threads = True

    def __init__(
        self,
        address: tuple[str, int],
        *,
        web_root: Path,
        gc_url: str | None,
        certificate_hashes: Sequence[bytes],
    ) -> None:
        missing = [name for name, _ in FILES.values() if not (web_root / name).is_file()]
        if missing:
            raise FileNotFoundError(
                f"the web console's files are missing from {web_root}: {missing}"
            )
        if gc_url is not None:
            parsed = urllib.parse.urlsplit(gc_url)
            if parsed.scheme != "http" or not parsed.hostname:
                raise ValueError(f"the GC URL must be http://host:port, got {gc_url!r}")
        self.web_root = web_root
        self.gc_url = gc_url.rstrip("/") if gc_url is not None else None
        self.certificate_hashes = [bytes(digest) for digest in certificate_hashes]
        self._thread: threading.Thread | None = None
        super().__init__(address, _Handler)

    @property
    def port(self) -> int:
        return int(self.server_address[1])

    @property
    def url(self) -> str:
        """``http://<host>:<port>/``: open this in a browser."""
        host = str(self.server_address[0])
        return f"http://{host}:{self.port}/"

    def config(self) -> dict[str, object]:
        """What ``GET /config.json`` answers."""
        return {
            "certificate_hashes": [digest.hex() for digest in self.certificate_hashes],
            "gc": self.gc_url is not None,
        }

    def start(self) -> None:
        self._thread = threading.Thread(
            target=self.serve_forever, name="web-console", kwargs={"poll_interval": 0.2}
        )
        self._thread.daemon = True
        self._thread.start()

    def close(self) -> None:
        """Stop serving and release the port (idempotent)."""
        if self._thread is not None:
            self.shutdown()
            self._thread.join(timeout=5.0)
            self._thread = None
        self.server_close()

    def __enter__(self) -> ConsoleServer:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


class _Handler(http.server.BaseHTTPRequestHandler):
    server: ConsoleServer
    server_version = "meeting-controller-console"
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:
        log.debug("%s " + format, self.address_string(), *args)

    def do_GET(self) -> None:
        path = urllib.parse.urlsplit(self.path).path
        if path == "/config.json":
            self._send_json(HTTPStatus.OK, self.server.config())
        elif path.startswith("/v1/meetings/"):
            self._forward("GET", path, b"")
        elif path in FILES:
            name, content_type = FILES[path]
            self._send(HTTPStatus.OK, (self.server.web_root / name).read_bytes(), content_type)
        else:
            self._send_json(HTTPStatus.NOT_FOUND, {"error": "not_found", "message": path})

    def do_POST(self) -> None:
        path = urllib.parse.urlsplit(self.path).path
        try:
            length = int(self.headers.get("Content-Length", "0"))
        except ValueError:
            length = -1
        if not 0 <= length <= MAX_BODY_BYTES:
            self._send_json(
                HTTPStatus.BAD_REQUEST,
                {"error": "bad_request", "message": f"a body of 0..{MAX_BODY_BYTES} bytes"},
            )
            return
        body = self.rfile.read(length)
        if path == "/v1/meetings":
            self._forward("POST", path, body)
        else:
            self._send_json(HTTPStatus.NOT_FOUND, {"error": "not_found", "message": path})

    def _forward(self, method: str, path: str, body: bytes) -> None:
        """Pass a GC API call through; the GC's status and JSON come back unchanged."""
        if self.server.gc_url is None:
            self._send_json(
                HTTPStatus.SERVICE_UNAVAILABLE,
                {
                    "error": "no_gc",
                    "message": "this console was started without a GC URL (--gc-url): "
                    "enter an MC endpoint and a join token by hand",
                },
            )
            return
        request = urllib.request.Request(
            self.server.gc_url + path,
            data=body if method == "POST" else None,
            method=method,
            headers={"Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=GC_TIMEOUT_SECONDS) as response:
                status, payload = response.status, response.read()
        except urllib.error.HTTPError as error:  # the GC's own error answer: pass it on
            status, payload = error.code, error.read()
        except (OSError, TimeoutError) as error:
            self._send_json(
                HTTPStatus.BAD_GATEWAY,
                {"error": "gc_unreachable", "message": f"cannot reach the GC: {error}"},
            )
            return
        self._send(HTTPStatus(status), payload, "application/json")

    def _send_json(self, status: HTTPStatus, document: object) -> None:
        self._send(status, json.dumps(document).encode() + b"\n", "application/json")

    def _send(self, status: HTTPStatus, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        # Join tokens pass through here, and the page must pick up a fresh build.
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        self.end_headers()
        self.wfile.write(body)


def serve_console(
    host: str = "127.0.0.1",
    port: int = 0,
    *,
    gc_url: str | None = None,
    certificate_hashes: Sequence[bytes] = (),
    web_root: Path | None = None,
) -> ConsoleServer:
    """Serve the console on ``host:port`` (0: a free port) from a daemon thread; returns at once.

    ``gc_url`` is the reference GC's HTTP API (``http://host:port``), forwarded so the page can
    get join tickets; ``certificate_hashes`` are the SHA-256 digests of the MCs' certificate
    (:attr:`meeting_controller.tls.CertificateInfo.sha256`). Close the server with ``close()``.
    """
    server = ConsoleServer(
        (host, port),
        web_root=web_root or DEFAULT_WEB_ROOT,
        gc_url=gc_url,
        certificate_hashes=certificate_hashes,
    )
    server.start()
    return server


def certificate_file_sha256(path: Path) -> bytes:
    """The browser's certificate hash of a PEM certificate file."""
    certificate = x509.load_pem_x509_certificate(path.read_bytes())
    return tls.certificate_sha256(certificate.public_bytes(serialization.Encoding.DER))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m meeting_controller.webconsole",
        description="Serve the Meeting Controller web console (WebTransport from the browser).",
    )
    parser.add_argument("--host", default="127.0.0.1", help="listen address (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8090, help="listen port (default 8090)")
    parser.add_argument("--gc-url", help="the reference GC's HTTP API, e.g. http://127.0.0.1:8080")
    parser.add_argument(
        "--cert-file",
        type=Path,
        action="append",
        default=[],
        help="the MCs' PEM certificate (self-signed ECDSA P-256, < 14 days); repeatable",
    )
    args = parser.parse_args(argv)
    hashes = [certificate_file_sha256(path) for path in args.cert_file]
    server = serve_console(args.host, args.port, gc_url=args.gc_url, certificate_hashes=hashes)
    print(f"web console: {server.url}", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        stop.wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
