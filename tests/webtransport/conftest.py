"""Fixtures of the WebTransport tests."""

from __future__ import annotations

import pytest

from meeting_controller import tls


@pytest.fixture(scope="session")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tls.CertificateInfo:
    """One self-signed ECDSA certificate for the whole run."""
    directory = tmp_path_factory.mktemp("tls")
    return tls.generate_self_signed(
        cert_file=directory / "cert.pem", key_file=directory / "key.pem"
    )
