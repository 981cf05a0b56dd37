"""``load_settings``: defaults, one clear error per bad variable, all errors at once, secrets."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest

from meeting_controller import config
from meeting_controller.config import Address, Secret, Settings, load_settings
from meeting_controller.errors import ConfigError

DOCS = Path(__file__).resolve().parents[2] / "docs" / "configuration.md"
SECRET = b"s3cr3t-master-key-0123456789abcdefghijklmnop"
PEM = (
    b"-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE\n-----END PUBLIC KEY-----\n"
)


def load(environ: Mapping[str, str], **kwargs: object) -> Settings:
    """``load_settings`` with a fixed hostname, so no test depends on the machine's name."""
    return load_settings(environ, hostname=lambda: "mc-host", **kwargs)  # type: ignore[arg-type]


def problems(environ: Mapping[str, str]) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load(environ)
    return str(caught.value).splitlines()


# -- defaults -------------------------------------------------------------------------------------


def test_an_empty_environment_gives_the_documented_defaults() -> None:
    settings = load({})

    assert settings.mc_id == "mc-host"
    assert settings.region == "local"
    assert settings.gc_endpoint == Address("127.0.0.1", 50051)
    assert settings.redis_url == "redis://127.0.0.1:6379/0"
    assert (settings.max_meetings, settings.max_participants) == (100, 1000)
    assert settings.grpc_listen == Address("0.0.0.0", 50052)
    assert settings.grpc_advertise == Address("mc-host", 50052)
    assert settings.webtransport_listen == Address("0.0.0.0", 4433)
    assert settings.webtransport_advertise == "https://mc-host:4433/signaling"
    assert settings.http_listen == Address("0.0.0.0", 8081)
    assert settings.fast_heartbeat_ms is None
    assert settings.comprehensive_heartbeat_ms is None
    assert settings.session_ttl_seconds == 300
    assert settings.disconnect_grace_seconds == 30
    assert settings.event_buffer_size == 256
    assert settings.max_frame_bytes == 65536
    assert (settings.rate_limit_per_second, settings.rate_limit_burst) == (50, 100)
    assert settings.session_master_secret is None
    assert settings.join_token_public_key is None
    assert settings.admin_token is None
    assert (settings.tls_cert_file, settings.tls_key_file) == (None, None)
    assert settings.drain_timeout_seconds == 300
    assert settings.mailbox_capacity == 1024
    assert (settings.log_format, settings.log_level) == ("text", "info")


def test_the_id_defaults_to_the_lower_cased_hostname() -> None:
    settings = load_settings({}, hostname=lambda: "MC-Pod-3")
    assert settings.mc_id == "mc-pod-3"
    assert settings.grpc_advertise == Address("mc-pod-3", 50052)


def test_a_hostname_that_is_no_valid_id_asks_for_mc_id() -> None:
    with pytest.raises(ConfigError, match=r"MC_ID is unset and the hostname 'my_laptop'"):
        load_settings({}, hostname=lambda: "my_laptop")


def test_advertised_addresses_follow_the_id_and_the_listen_ports() -> None:
    settings = load(
        {"MC_ID": "mc-7", "MC_GRPC_LISTEN": "0.0.0.0:6000", "MC_WEBTRANSPORT_LISTEN": "[::]:7000"}
    )
    assert settings.grpc_advertise == Address("mc-7", 6000)
    assert settings.webtransport_advertise == "https://mc-7:7000/signaling"


def test_an_empty_value_counts_as_unset() -> None:
    settings = load({"MC_MAX_MEETINGS": "", "MC_FAST_HEARTBEAT_MS": "  ", "MC_TLS_CERT_FILE": ""})
    assert settings.max_meetings == 100
    assert settings.fast_heartbeat_ms is None
    assert settings.tls_cert_file is None


# -- valid values ---------------------------------------------------------------------------------


def test_valid_values_are_parsed_into_typed_fields() -> None:
    settings = load(
        {
            "MC_ID": "mc-a.b-1",
            "MC_REGION": "eu-west-1",
            "MC_GC_ENDPOINT": "gc.svc.cluster.local:50051",
            "MC_REDIS_URL": "rediss://:pw@redis:6380/2",
            "MC_MAX_MEETINGS": "5",
            "MC_MAX_PARTICIPANTS": "50",
            "MC_GRPC_LISTEN": "127.0.0.1:0",
            "MC_GRPC_ADVERTISE": "[fd00::1]:50052",
            "MC_WEBTRANSPORT_ADVERTISE": "https://mc.example.com/wt",
            "MC_HTTP_LISTEN": "[::]:9000",
            "MC_FAST_HEARTBEAT_MS": "100",
            "MC_COMPREHENSIVE_HEARTBEAT_MS": "60000",
            "MC_DISCONNECT_GRACE_SECONDS": "0",
            "MC_MAX_FRAME_BYTES": "256",
            "MC_LOG_FORMAT": "JSON",
            "MC_LOG_LEVEL": "debug",
        }
    )
    assert settings.mc_id == "mc-a.b-1"
    assert settings.region == "eu-west-1"
    assert settings.gc_endpoint == Address("gc.svc.cluster.local", 50051)
    assert settings.redis_url == "rediss://:pw@redis:6380/2"
    assert (settings.max_meetings, settings.max_participants) == (5, 50)
    assert settings.grpc_listen == Address("127.0.0.1", 0)
    assert settings.grpc_advertise == Address("fd00::1", 50052)
    assert str(settings.grpc_advertise) == "[fd00::1]:50052"
    assert settings.webtransport_advertise == "https://mc.example.com/wt"
    assert settings.http_listen == Address("::", 9000)
    assert str(settings.http_listen) == "[::]:9000"
    assert (settings.fast_heartbeat_ms, settings.comprehensive_heartbeat_ms) == (100, 60000)
    assert settings.disconnect_grace_seconds == 0
    assert settings.max_frame_bytes == 256
    assert (settings.log_format, settings.log_level) == ("json", "debug")


@pytest.mark.parametrize(
    "url",
    ["redis://localhost", "redis://10.0.0.1:6379/15", "rediss://r:6380", "unix:///run/r.sock"],
)
def test_redis_urls_of_every_supported_scheme_are_accepted(url: str) -> None:
    assert load({"MC_REDIS_URL": url}).redis_url == url


# -- invalid values: one clear line each ----------------------------------------------------------

INVALID = [
    ("MC_ID", "MC_1", "1..63 characters of [a-z0-9.-]"),
    ("MC_ID", "-mc", "starting and ending with a letter or digit"),
    ("MC_ID", "a" * 64, "1..63 characters"),
    ("MC_REGION", "eu west", "1..63 characters of [a-z0-9.-]"),
    ("MC_GC_ENDPOINT", "gc", "host:port with port 1..65535"),
    ("MC_GC_ENDPOINT", "gc:0", "host:port with port 1..65535"),
    ("MC_REDIS_URL", "http://redis:6379", "redis://host[:port][/db]"),
    ("MC_REDIS_URL", "redis://redis:99999", "redis://host[:port][/db]"),
    ("MC_REDIS_URL", "redis://redis/db1", "redis://host[:port][/db]"),
    ("MC_MAX_MEETINGS", "ten", "a positive integer (1..100000)"),
    ("MC_MAX_MEETINGS", "0", "a positive integer (1..100000)"),
    ("MC_MAX_MEETINGS", "100001", "a positive integer (1..100000)"),
    ("MC_MAX_MEETINGS", "-5", "a positive integer (1..100000)"),
    ("MC_MAX_MEETINGS", "1_000", "a positive integer (1..100000)"),
    ("MC_MAX_PARTICIPANTS", "1.5", "a positive integer (1..1000000)"),
    ("MC_GRPC_LISTEN", "0.0.0.0", "host:port with port 0..65535"),
    ("MC_GRPC_LISTEN", "0.0.0.0:65536", "host:port with port 0..65535"),
    ("MC_GRPC_LISTEN", "::1:50052", "IPv6 as [::]:port"),
    ("MC_GRPC_ADVERTISE", "mc:0", "host:port with port 1..65535"),
    ("MC_WEBTRANSPORT_LISTEN", "[zz::1]:4433", "host:port with port 0..65535"),
    ("MC_WEBTRANSPORT_ADVERTISE", "http://mc:4433/", "an https://host[:port]/ URL"),
    ("MC_WEBTRANSPORT_ADVERTISE", "https://:4433/", "an https://host[:port]/ URL"),
    ("MC_HTTP_LISTEN", "localhost:http", "host:port with port 0..65535"),
    ("MC_FAST_HEARTBEAT_MS", "99", "a positive integer (100..3600000)"),
    ("MC_COMPREHENSIVE_HEARTBEAT_MS", "30s", "a positive integer (100..3600000)"),
    ("MC_SESSION_TTL_SECONDS", "0", "a positive integer (1..86400)"),
    ("MC_DISCONNECT_GRACE_SECONDS", "-1", "a non-negative integer (0..3600)"),
    ("MC_EVENT_BUFFER_SIZE", "0", "a positive integer (1..65536)"),
    ("MC_MAX_FRAME_BYTES", "255", "a positive integer (256..16777216)"),
    ("MC_MAX_FRAME_BYTES", "16777217", "a positive integer (256..16777216)"),
    ("MC_RATE_LIMIT_PER_SECOND", "fast", "a positive integer (1..100000)"),
    ("MC_RATE_LIMIT_BURST", "0", "a positive integer (1..1000000)"),
    ("MC_SESSION_MASTER_SECRET_FILE", "/nonexistent/secret", "a readable file"),
    ("MC_JOIN_TOKEN_PUBLIC_KEY_FILE", "/nonexistent/key.pem", "a readable file"),
    ("MC_ADMIN_TOKEN_FILE", "/nonexistent/token", "a readable file"),
    ("MC_DRAIN_TIMEOUT_SECONDS", "0", "a positive integer (1..86400)"),
    ("MC_MAILBOX_CAPACITY", "lots", "a positive integer (1..1000000)"),
    ("MC_LOG_FORMAT", "xml", "one of text, json"),
    ("MC_LOG_LEVEL", "verbose", "one of debug, info, warning, error"),
]


@pytest.mark.parametrize(("name", "value", "expected"), INVALID)
def test_an_invalid_value_gives_one_line_naming_the_variable_value_and_form(
    name: str, value: str, expected: str
) -> None:
    lines = problems({name: value})

    assert len(lines) == 1
    assert lines[0].startswith(f"{name}={value!r}: expected ")
    assert expected in lines[0]


def test_every_variable_with_a_value_check_is_covered_by_the_invalid_table() -> None:
    # TLS files are covered below (they also need each other).
    covered = {name for name, _, _ in INVALID} | {"MC_TLS_CERT_FILE", "MC_TLS_KEY_FILE"}
    assert covered == set(config.KNOWN_VARIABLES)


def test_the_example_of_the_brief_reads_exactly_as_promised() -> None:
    assert problems({"MC_MAX_MEETINGS": "ten"}) == [
        "MC_MAX_MEETINGS='ten': expected a positive integer (1..100000)"
    ]


def test_all_problems_are_reported_together_one_line_each() -> None:
    lines = problems(
        {
            "MC_MAX_MEETINGS": "ten",
            "MC_HTTP_LISTEN": "nowhere",
            "MC_LOG_FORMAT": "xml",
            "MC_MAX_MEETING": "10",
        }
    )

    assert len(lines) == 4
    for name in ("MC_MAX_MEETINGS=", "MC_HTTP_LISTEN=", "MC_LOG_FORMAT=", "MC_MAX_MEETING:"):
        assert sum(line.startswith(name) for line in lines) == 1, (name, lines)


def test_a_very_long_value_is_shortened_in_the_message() -> None:
    (line,) = problems({"MC_REGION": "x" * 500 + "_"})
    assert len(line) < 200
    assert "..." in line


# -- unknown variables ----------------------------------------------------------------------------


def test_an_unknown_mc_variable_is_an_error_with_a_suggestion() -> None:
    assert problems({"MC_MAX_MEETING": "10"}) == [
        "MC_MAX_MEETING: unknown variable (did you mean MC_MAX_MEETINGS?); "
        "see docs/configuration.md for the known ones"
    ]


def test_an_unknown_mc_variable_without_a_near_match_gets_no_suggestion() -> None:
    (line,) = problems({"MC_FROBNICATE": "1"})
    assert line.startswith("MC_FROBNICATE: unknown variable;")


def test_variables_outside_the_mc_prefix_are_not_ours_to_judge() -> None:
    load({"PATH": "/bin", "MCX_THING": "1", "mc_lower": "1", "HOME": "/root"})


@pytest.mark.parametrize(
    "name",
    [
        "MC_OPERATOR_SERVICE_HOST",
        "MC_OPERATOR_SERVICE_PORT",
        "MC_OPERATOR_SERVICE_PORT_HTTP",
        "MC_OPERATOR_PORT",
        "MC_OPERATOR_PORT_8081_TCP",
        "MC_OPERATOR_PORT_8081_TCP_ADDR",
        "MC_PORT_4433_UDP_PROTO",
    ],
)
def test_kubernetes_service_link_variables_are_ignored(name: str) -> None:
    load({name: "10.0.0.1"})


# -- command-line overrides -----------------------------------------------------------------------


def test_overrides_win_over_the_environment() -> None:
    settings = load({"MC_ID": "from-env"}, overrides={"MC_ID": "from-flag"})
    assert settings.mc_id == "from-flag"


def test_an_invalid_override_says_it_came_from_the_command_line() -> None:
    with pytest.raises(ConfigError) as caught:
        load({"MC_LOG_FORMAT": "json"}, overrides={"MC_LOG_FORMAT": "yaml"})
    assert str(caught.value) == (
        "MC_LOG_FORMAT (from the command line)='yaml': expected one of text, json"
    )


# -- files and secrets ----------------------------------------------------------------------------


@pytest.fixture
def secret_files(tmp_path: Path) -> dict[str, Path]:
    files = {
        "MC_SESSION_MASTER_SECRET_FILE": (tmp_path / "master", SECRET + b"\n"),
        "MC_ADMIN_TOKEN_FILE": (tmp_path / "admin", b"admin-token-0123456789\n"),
        "MC_JOIN_TOKEN_PUBLIC_KEY_FILE": (tmp_path / "join.pem", PEM),
        "MC_TLS_CERT_FILE": (tmp_path / "tls.crt", b"cert"),
        "MC_TLS_KEY_FILE": (tmp_path / "tls.key", b"key"),
    }
    for path, content in files.values():
        path.write_bytes(content)
    return {name: path for name, (path, _) in files.items()}


def test_secret_files_are_read_at_load_time(secret_files: dict[str, Path]) -> None:
    settings = load({name: str(path) for name, path in secret_files.items()})

    assert settings.session_master_secret is not None
    assert settings.session_master_secret.reveal() == SECRET  # trailing newline dropped
    assert settings.admin_token is not None
    assert settings.admin_token.reveal() == b"admin-token-0123456789"
    assert settings.join_token_public_key == PEM.decode()
    assert settings.tls_cert_file == secret_files["MC_TLS_CERT_FILE"]
    assert settings.tls_key_file == secret_files["MC_TLS_KEY_FILE"]
    # Reading happened at load time: the files can go away now.
    for path in secret_files.values():
        path.unlink()
    assert settings.session_master_secret.reveal() == SECRET


def test_secrets_never_show_in_repr_str_or_the_log_description(
    secret_files: dict[str, Path],
) -> None:
    settings = load(
        {
            **{name: str(path) for name, path in secret_files.items()},
            "MC_REDIS_URL": "redis://user:hunter2@redis:6379/0",
        }
    )

    for rendering in (repr(settings), str(settings), str(settings.describe())):
        assert SECRET.decode() not in rendering
        assert "admin-token" not in rendering
        assert "hunter2" not in rendering
        assert "Secret('**********')" in rendering
        assert "redis://user:***@redis:6379/0" in rendering
    assert repr(Secret(b"abc")) == str(Secret(b"abc")) == "Secret('**********')"


def test_a_redis_password_is_not_shown_in_an_error_either() -> None:
    (line,) = problems({"MC_REDIS_URL": "redis://:hunter2@redis:notaport"})
    assert "hunter2" not in line
    assert line.startswith("MC_REDIS_URL='redis://:***@redis:notaport': expected")


def test_secrets_compare_by_value() -> None:
    assert Secret(b"same") == Secret(b"same")
    assert Secret(b"same") != Secret(b"other")


@pytest.mark.parametrize(
    "name",
    [
        "MC_SESSION_MASTER_SECRET_FILE",
        "MC_JOIN_TOKEN_PUBLIC_KEY_FILE",
        "MC_ADMIN_TOKEN_FILE",
        "MC_TLS_CERT_FILE",
        "MC_TLS_KEY_FILE",
    ],
)
def test_a_missing_file_names_the_variable_and_the_path(name: str, tmp_path: Path) -> None:
    missing = tmp_path / "not-there"
    existing = tmp_path / "exists"
    existing.write_bytes(b"x")
    # TLS certificate and key must come together: give the partner an existing file.
    partner = {"MC_TLS_CERT_FILE": "MC_TLS_KEY_FILE", "MC_TLS_KEY_FILE": "MC_TLS_CERT_FILE"}
    environ = {name: str(missing)}
    if name in partner:
        environ[partner[name]] = str(existing)

    assert problems(environ) == [
        f"{name}={str(missing)!r}: expected a readable file (No such file or directory)"
    ]


def test_a_directory_is_not_a_readable_file(tmp_path: Path) -> None:
    (line,) = problems({"MC_ADMIN_TOKEN_FILE": str(tmp_path)})
    assert line.startswith(f"MC_ADMIN_TOKEN_FILE={str(tmp_path)!r}: expected a readable file (")


def test_a_short_secret_is_refused_without_showing_it(tmp_path: Path) -> None:
    path = tmp_path / "master"
    path.write_bytes(b"tooshort\n")

    (line,) = problems({"MC_SESSION_MASTER_SECRET_FILE": str(path)})

    assert line.startswith(f"MC_SESSION_MASTER_SECRET_FILE={str(path)!r}: expected a file")
    assert "at least 32 bytes" in line
    assert "tooshort" not in line


def test_a_public_key_file_must_hold_a_pem_public_key(tmp_path: Path) -> None:
    path = tmp_path / "key.pem"
    path.write_bytes(b"-----BEGIN PRIVATE KEY-----\nabc\n-----END PRIVATE KEY-----\n")
    (line,) = problems({"MC_JOIN_TOKEN_PUBLIC_KEY_FILE": str(path)})
    assert "expected a PEM public key" in line


@pytest.mark.parametrize(
    ("given", "missing"),
    [("MC_TLS_CERT_FILE", "MC_TLS_KEY_FILE"), ("MC_TLS_KEY_FILE", "MC_TLS_CERT_FILE")],
)
def test_tls_certificate_and_key_must_be_set_together(
    given: str, missing: str, tmp_path: Path
) -> None:
    path = tmp_path / "file.pem"
    path.write_bytes(b"pem")
    assert problems({given: str(path)}) == [
        f"{missing}: must be set together with {given} (a certificate needs its key)"
    ]


# -- resolve_advertised ---------------------------------------------------------------------------


def test_bound_ports_fill_in_defaulted_advertised_addresses() -> None:
    settings = load(
        {"MC_ID": "mc-1", "MC_GRPC_LISTEN": "127.0.0.1:0", "MC_WEBTRANSPORT_LISTEN": "127.0.0.1:0"}
    )
    assert settings.grpc_advertise == Address("mc-1", 0)

    resolved = config.resolve_advertised(settings, grpc_port=41000, webtransport_port=42000)

    assert resolved.grpc_advertise == Address("mc-1", 41000)
    assert resolved.webtransport_advertise == "https://mc-1:42000/signaling"


def test_explicit_advertised_addresses_are_never_rewritten() -> None:
    settings = load(
        {
            "MC_GRPC_LISTEN": "127.0.0.1:0",
            "MC_WEBTRANSPORT_LISTEN": "127.0.0.1:0",
            "MC_GRPC_ADVERTISE": "mc.example.com:443",
            "MC_WEBTRANSPORT_ADVERTISE": "https://mc.example.com/",
        }
    )
    resolved = config.resolve_advertised(settings, grpc_port=41000, webtransport_port=42000)
    assert resolved.grpc_advertise == Address("mc.example.com", 443)
    assert resolved.webtransport_advertise == "https://mc.example.com/"


# -- the list of variables ------------------------------------------------------------------------


class _RecordingEnviron(Mapping[str, str]):
    """An empty environment that remembers which names were looked up."""

    def __init__(self) -> None:
        self.asked: set[str] = set()

    def __getitem__(self, key: str) -> str:
        self.asked.add(key)
        raise KeyError(key)

    def __iter__(self) -> Iterator[str]:
        return iter(())

    def __len__(self) -> int:
        return 0


def test_known_variables_are_exactly_the_ones_load_settings_reads() -> None:
    environ = _RecordingEnviron()
    load(environ)
    assert environ.asked == set(config.KNOWN_VARIABLES)
    assert len(config.KNOWN_VARIABLES) == len(set(config.KNOWN_VARIABLES))


def test_docs_configuration_documents_every_known_variable() -> None:
    text = DOCS.read_text()
    documented = set(re.findall(r"^\| `(MC_[A-Z_]+)` \|", text, flags=re.MULTILINE))
    assert documented == set(config.KNOWN_VARIABLES)
