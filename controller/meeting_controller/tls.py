"""TLS material for the WebTransport endpoint: self-signed certificates and their fingerprints.

Browsers accept a WebTransport server without a public CA when the page pins the certificate
with ``serverCertificateHashes``; Chromium then insists on a certificate that is

* ECDSA (P-256 here; RSA is refused),
* valid for *less than* 14 days (a 14- or 15-day certificate is refused),

and identifies it by the SHA-256 of its DER encoding. :func:`generate_self_signed` produces
exactly that, and :class:`CertificateInfo` carries the digest in the forms a page (raw bytes,
a list of byte values for ``new Uint8Array(...)``) and a log line (hex) want.

Certificates given by an operator are loaded with :func:`load_certificate`, which checks the
pair up front and raises :class:`~meeting_controller.errors.ConfigError` naming the file, so a
wrong mount stops the MC at start-up instead of failing every QUIC handshake later.
"""

from __future__ import annotations

import dataclasses
import datetime
import hashlib
import ipaddress
import os
from collections.abc import Sequence
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from meeting_controller.errors import ConfigError

#: Chromium refuses ``serverCertificateHashes`` certificates valid for 14 days or more.
MAX_PINNED_VALIDITY = datetime.timedelta(days=14)
#: What we generate: comfortably below the limit, even with the back-dated start.
DEFAULT_VALIDITY = datetime.timedelta(days=13)
#: The certificate starts slightly in the past so that peers with a lagging clock accept it.
_BACKDATE = datetime.timedelta(minutes=5)
#: Always present in generated certificates: local development and tests use them.
DEFAULT_NAMES: tuple[str, ...] = ("localhost", "127.0.0.1", "::1")


@dataclasses.dataclass(frozen=True)
class CertificateInfo:
    """A certificate on disk and its identity, as browsers and clients pin it."""

    cert_file: Path
    key_file: Path
    #: SHA-256 of the DER certificate: what ``serverCertificateHashes`` and pinning compare.
    sha256: bytes
    not_valid_before: datetime.datetime
    not_valid_after: datetime.datetime

    @property
    def sha256_hex(self) -> str:
        """The digest as lowercase hex (for logs and command lines)."""
        return self.sha256.hex()

    @property
    def sha256_list(self) -> list[int]:
        """The digest as byte values, ready for JSON and ``new Uint8Array(...)`` in a page."""
        return list(self.sha256)

    @property
    def validity(self) -> datetime.timedelta:
        return self.not_valid_after - self.not_valid_before


def certificate_sha256(der: bytes) -> bytes:
    """SHA-256 of a DER-encoded certificate (the browser's certificate hash)."""
    return hashlib.sha256(der).digest()


def generate_self_signed(
    *,
    cert_file: Path | str,
    key_file: Path | str,
    names: Sequence[str] = (),
    validity: datetime.timedelta = DEFAULT_VALIDITY,
    now: datetime.datetime | None = None,
) -> CertificateInfo:
    """Create an ECDSA P-256 key and a self-signed certificate, and write both as PEM.

    ``names`` are added to :data:`DEFAULT_NAMES` as subject alternative names (IP addresses
    as IP SANs, anything else as DNS names). ``validity`` must stay below 14 days, or browsers
    would refuse to pin the certificate. The key file is created readable by its owner only.
    """
    if validity <= datetime.timedelta(0) or validity >= MAX_PINNED_VALIDITY:
        raise ValueError(
            f"validity must be positive and shorter than {MAX_PINNED_VALIDITY.days} days "
            f"(browsers refuse to pin longer-lived certificates), got {validity}"
        )
    cert_path, key_path = Path(cert_file), Path(key_file)
    start = (now or datetime.datetime.now(datetime.UTC)) - _BACKDATE
    all_names = list(dict.fromkeys([*DEFAULT_NAMES, *names]))
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, all_names[0])])
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + validity)
        .add_extension(x509.SubjectAlternativeName(_general_names(all_names)), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False
        )
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        encoding=serialization.Encoding.PEM,
        format=serialization.PrivateFormat.PKCS8,
        encryption_algorithm=serialization.NoEncryption(),
    )
    _write_private(key_path, key_pem)
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    return _info(cert_path, key_path, certificate)


def load_certificate(*, cert_file: Path | str, key_file: Path | str) -> CertificateInfo:
    """Check that ``cert_file`` and ``key_file`` hold a matching PEM certificate and key.

    Raises :class:`~meeting_controller.errors.ConfigError` naming the offending file when one
    cannot be read or parsed, or when the key does not belong to the certificate.
    """
    cert_path, key_path = Path(cert_file), Path(key_file)
    cert_pem = _read(cert_path, "certificate")
    key_pem = _read(key_path, "private key")
    try:
        certificate = x509.load_pem_x509_certificate(cert_pem)
    except ValueError as exc:
        raise ConfigError(f"{cert_path}: not a PEM certificate ({exc})") from None
    try:
        key = serialization.load_pem_private_key(key_pem, password=None)
    except (ValueError, TypeError) as exc:
        raise ConfigError(f"{key_path}: not an unencrypted PEM private key ({exc})") from None
    except Exception as exc:  # cryptography raises UnsupportedAlgorithm for some key types
        raise ConfigError(f"{key_path}: cannot load the private key ({exc})") from None
    public = serialization.PublicFormat.SubjectPublicKeyInfo
    if key.public_key().public_bytes(
        serialization.Encoding.DER, public
    ) != certificate.public_key().public_bytes(serialization.Encoding.DER, public):
        raise ConfigError(f"{key_path}: this private key does not belong to {cert_path}")
    return _info(cert_path, key_path, certificate)


def _info(cert_path: Path, key_path: Path, certificate: x509.Certificate) -> CertificateInfo:
    return CertificateInfo(
        cert_file=cert_path,
        key_file=key_path,
        sha256=certificate_sha256(certificate.public_bytes(serialization.Encoding.DER)),
        not_valid_before=certificate.not_valid_before_utc,
        not_valid_after=certificate.not_valid_after_utc,
    )


def _general_names(names: Sequence[str]) -> list[x509.GeneralName]:
    result: list[x509.GeneralName] = []
    for name in names:
        try:
            result.append(x509.IPAddress(ipaddress.ip_address(name)))
        except ValueError:
            result.append(x509.DNSName(name))
    return result


def _read(path: Path, what: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the TLS {what} ({exc.strerror})") from None


def _write_private(path: Path, data: bytes) -> None:
    """Write ``data`` to a file only its owner can read, replacing any previous file."""
    path.unlink(missing_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as file:
        file.write(data)
