"""Self-signed certificates that browsers pin with ``serverCertificateHashes``."""

from __future__ import annotations

import datetime
import hashlib
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from meeting_controller import tls
from meeting_controller.errors import ConfigError


def _load(info: tls.CertificateInfo) -> x509.Certificate:
    return x509.load_pem_x509_certificate(info.cert_file.read_bytes())


class TestGeneratedCertificates:
    def test_are_ecdsa_p256_and_valid_for_less_than_14_days(self, tmp_path: Path) -> None:
        info = tls.generate_self_signed(cert_file=tmp_path / "c.pem", key_file=tmp_path / "k.pem")
        certificate = _load(info)
        key = certificate.public_key()
        assert isinstance(key, ec.EllipticCurvePublicKey)
        assert isinstance(key.curve, ec.SECP256R1)
        validity = certificate.not_valid_after_utc - certificate.not_valid_before_utc
        assert datetime.timedelta(days=12) < validity < datetime.timedelta(days=14)
        assert info.validity == validity
        assert certificate.not_valid_before_utc <= datetime.datetime.now(datetime.UTC)

    def test_carry_local_and_given_names(self, tmp_path: Path) -> None:
        info = tls.generate_self_signed(
            cert_file=tmp_path / "c.pem",
            key_file=tmp_path / "k.pem",
            names=["mc-0.mc.example.svc", "10.1.2.3"],
        )
        names = _load(info).extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        assert set(names.get_values_for_type(x509.DNSName)) == {"localhost", "mc-0.mc.example.svc"}
        assert {str(ip) for ip in names.get_values_for_type(x509.IPAddress)} == {
            "127.0.0.1",
            "::1",
            "10.1.2.3",
        }

    def test_hash_is_the_sha256_of_the_der_certificate(self, tmp_path: Path) -> None:
        info = tls.generate_self_signed(cert_file=tmp_path / "c.pem", key_file=tmp_path / "k.pem")
        der = _load(info).public_bytes(serialization.Encoding.DER)
        assert info.sha256 == hashlib.sha256(der).digest()
        assert info.sha256_hex == hashlib.sha256(der).hexdigest()
        assert bytes(info.sha256_list) == info.sha256
        assert len(info.sha256_list) == 32

    def test_key_file_is_private_to_its_owner(self, tmp_path: Path) -> None:
        info = tls.generate_self_signed(cert_file=tmp_path / "c.pem", key_file=tmp_path / "k.pem")
        assert info.key_file.stat().st_mode & 0o077 == 0

    @pytest.mark.parametrize("days", [14, 15, 0])
    def test_validity_browsers_refuse_is_refused(self, tmp_path: Path, days: int) -> None:
        with pytest.raises(ValueError, match=r"14 days"):
            tls.generate_self_signed(
                cert_file=tmp_path / "c.pem",
                key_file=tmp_path / "k.pem",
                validity=datetime.timedelta(days=days),
            )


class TestLoading:
    def test_a_matching_pair_loads_with_the_same_hash(self, tmp_path: Path) -> None:
        made = tls.generate_self_signed(cert_file=tmp_path / "c.pem", key_file=tmp_path / "k.pem")
        loaded = tls.load_certificate(cert_file=made.cert_file, key_file=made.key_file)
        assert loaded.sha256 == made.sha256

    def test_a_key_of_another_certificate_names_the_key_file(self, tmp_path: Path) -> None:
        one = tls.generate_self_signed(cert_file=tmp_path / "1.pem", key_file=tmp_path / "1.key")
        two = tls.generate_self_signed(cert_file=tmp_path / "2.pem", key_file=tmp_path / "2.key")
        with pytest.raises(ConfigError, match=r"2.key.*does not belong"):
            tls.load_certificate(cert_file=one.cert_file, key_file=two.key_file)

    def test_a_missing_file_is_named(self, tmp_path: Path) -> None:
        made = tls.generate_self_signed(cert_file=tmp_path / "c.pem", key_file=tmp_path / "k.pem")
        with pytest.raises(ConfigError, match=r"missing.pem.*cannot read"):
            tls.load_certificate(cert_file=tmp_path / "missing.pem", key_file=made.key_file)

    def test_garbage_is_named(self, tmp_path: Path) -> None:
        made = tls.generate_self_signed(cert_file=tmp_path / "c.pem", key_file=tmp_path / "k.pem")
        (tmp_path / "bad.pem").write_text("not a certificate")
        with pytest.raises(ConfigError, match=r"bad.pem.*not a PEM certificate"):
            tls.load_certificate(cert_file=tmp_path / "bad.pem", key_file=made.key_file)
        with pytest.raises(ConfigError, match=r"bad.pem.*private key"):
            tls.load_certificate(cert_file=made.cert_file, key_file=tmp_path / "bad.pem")
