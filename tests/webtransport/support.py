"""Helpers of the WebTransport tests: real servers on free UDP ports of 127.0.0.1."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

from meeting_controller import tls
from meeting_controller.adapters.webtransport import (
    SessionHandler,
    WebTransportServer,
    WebTransportSession,
)


async def echo(session: WebTransportSession) -> None:
    """Send every frame back until the client closes."""
    while (payload := await session.recv()) is not None:
        await session.send(payload)


@contextlib.asynccontextmanager
async def running_server(
    certificate: tls.CertificateInfo, on_session: SessionHandler = echo, **options: Any
) -> AsyncIterator[WebTransportServer]:
    """A started server on a free UDP port of 127.0.0.1, stopped afterwards."""
    server = WebTransportServer(
        host="127.0.0.1",
        port=0,
        certificate_file=str(certificate.cert_file),
        private_key_file=str(certificate.key_file),
        on_session=on_session,
        **options,
    )
    await server.start()
    try:
        yield server
    finally:
        await server.stop(timeout=1.0)


def url_of(server: WebTransportServer, path: str = "/signaling") -> str:
    return f"https://127.0.0.1:{server.port}{path}"
