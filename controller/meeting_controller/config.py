"""The Meeting Controller's settings: one frozen object, loaded from the environment once.

Every tunable of the MC process is an ``MC_*`` environment variable (flags of
``meeting-controller run`` may override a few). They are read here, at start-up, and nowhere
else, so that:

* a typo or a bad value stops the process *before* it opens a port or registers with the GC,
  with a message that names the variable, shows the value and says what was expected;
* every problem is reported at once (one line each) instead of one per restart;
* the rest of the code receives typed values (``Address``, ``int``, ``Secret``) and never
  parses a string again.

Purely data-manipulative: no I/O except reading the files named by the ``*_FILE`` variables
and, when ``MC_ID`` is unset, asking for the hostname (injectable for tests).

``docs/configuration.md`` documents each variable in ``KNOWN_VARIABLES``; a test keeps the two
in step.
"""

from __future__ import annotations

import dataclasses
import difflib
import hmac
import ipaddress
import re
import socket
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, TypeVar
from urllib.parse import urlsplit

from meeting_controller.errors import ConfigError

#: Every variable the MC reads. Any other ``MC_*`` variable is rejected as a probable typo.
KNOWN_VARIABLES: tuple[str, ...] = (
    "MC_ID",
    "MC_REGION",
    "MC_GC_ENDPOINT",
    "MC_REDIS_URL",
    "MC_MAX_MEETINGS",
    "MC_MAX_PARTICIPANTS",
    "MC_GRPC_LISTEN",
    "MC_GRPC_ADVERTISE",
    "MC_WEBTRANSPORT_LISTEN",
    "MC_WEBTRANSPORT_ADVERTISE",
    "MC_HTTP_LISTEN",
    "MC_FAST_HEARTBEAT_MS",
    "MC_COMPREHENSIVE_HEARTBEAT_MS",
    "MC_SESSION_TTL_SECONDS",
    "MC_DISCONNECT_GRACE_SECONDS",
    "MC_EVENT_BUFFER_SIZE",
    "MC_MAX_FRAME_BYTES",
    "MC_RATE_LIMIT_PER_SECOND",
    "MC_RATE_LIMIT_BURST",
    "MC_SESSION_MASTER_SECRET_FILE",
    "MC_JOIN_TOKEN_PUBLIC_KEY_FILE",
    "MC_ADMIN_TOKEN_FILE",
    "MC_TLS_CERT_FILE",
    "MC_TLS_KEY_FILE",
    "MC_DRAIN_TIMEOUT_SECONDS",
    "MC_MAILBOX_CAPACITY",
    "MC_LOG_FORMAT",
    "MC_LOG_LEVEL",
)

#: Variables Kubernetes injects for every ClusterIP Service in the namespace (the docker-links
#: convention, ``<SERVICE>_SERVICE_HOST``, ``<SERVICE>_PORT_8081_TCP_ADDR``...). A Service whose
#: name starts with ``mc`` produces ``MC_*`` names that are not typos of ours, so they are
#: ignored rather than rejected. (The operator also sets ``enableServiceLinks: false``.)
_SERVICE_LINK_VARIABLE = re.compile(
    r"^MC(_[A-Z0-9_]+)?_(SERVICE_HOST|SERVICE_PORT(_[A-Z0-9_]+)?|PORT(_\d+_(TCP|UDP|SCTP)"
    r"(_(PROTO|PORT|ADDR))?)?)$"
)

#: Built-in heartbeat intervals used when neither the operator nor the GC sets one (seed:
#: "fast=10s, comprehensive=30s"; the GC answering 0 also means these).
DEFAULT_FAST_HEARTBEAT_MS = 10_000
DEFAULT_COMPREHENSIVE_HEARTBEAT_MS = 30_000

#: Shortest secret material accepted: an HMAC-SHA256 key should carry 256 bits.
MIN_SESSION_SECRET_BYTES = 32
MIN_ADMIN_TOKEN_BYTES = 16

LogFormat = Literal["text", "json"]
LogLevel = Literal["debug", "info", "warning", "error"]
_LOG_FORMATS: tuple[LogFormat, ...] = ("text", "json")
_LOG_LEVELS: tuple[LogLevel, ...] = ("debug", "info", "warning", "error")

# A DNS-label-ish identifier: lower-case alphanumerics, '-' and '.', starting and ending with
# an alphanumeric. It ends up in pod names, Redis values, metrics and log lines.
_ID_PATTERN = re.compile(r"^[a-z0-9]([a-z0-9.-]{0,61}[a-z0-9])?$")
_HOSTNAME_PATTERN = re.compile(r"^[A-Za-z0-9_]([A-Za-z0-9_.-]{0,252})$")
_MAX_SHOWN_VALUE = 80
_Choice = TypeVar("_Choice", bound=str)


class Secret:
    """Secret bytes whose ``repr``/``str`` never show the value.

    Settings objects get logged, printed in tracebacks and shown by debuggers; wrapping the
    material means none of those paths can leak it. Call :meth:`reveal` where the bytes are
    actually needed (HMAC keys, token comparison).
    """

    __slots__ = ("_value",)

    def __init__(self, value: bytes) -> None:
        self._value = value

    def reveal(self) -> bytes:
        """Return the secret bytes; the one place they leave the wrapper."""
        return self._value

    def __len__(self) -> int:
        return len(self._value)

    def __repr__(self) -> str:
        return "Secret('**********')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Secret):
            return NotImplemented
        # Constant time, because secrets are compared with untrusted input.
        return hmac.compare_digest(self._value, other._value)

    def __hash__(self) -> int:
        return hash(("Secret", len(self._value)))


@dataclass(frozen=True)
class Address:
    """A ``host:port`` pair; ``str()`` gives it back in the form clients dial.

    IPv6 literals are kept without brackets in ``host`` (what ``socket.bind`` wants) and get
    them back in ``str()`` (what URLs and gRPC targets want).
    """

    host: str
    port: int

    def __str__(self) -> str:
        if ":" in self.host:
            return f"[{self.host}]:{self.port}"
        return f"{self.host}:{self.port}"


@dataclass(frozen=True, repr=False)
class Settings:
    """Everything the MC process is configured with. See ``docs/configuration.md``.

    Frozen: it is built once at start-up and shared read-only by every component. Fields that
    are only known after binding (advertised ports when a listen port is 0) are filled in with
    :func:`resolve_advertised`, which returns a new object.
    """

    mc_id: str
    region: str
    gc_endpoint: Address
    redis_url: str
    max_meetings: int
    max_participants: int
    grpc_listen: Address
    grpc_advertise: Address
    webtransport_listen: Address
    webtransport_advertise: str
    http_listen: Address
    #: ``None`` means "use the built-in default" (or whatever the GC answers at registration).
    fast_heartbeat_ms: int | None
    comprehensive_heartbeat_ms: int | None
    session_ttl_seconds: int
    disconnect_grace_seconds: int
    event_buffer_size: int
    max_frame_bytes: int
    rate_limit_per_second: int
    rate_limit_burst: int
    session_master_secret_file: Path | None
    session_master_secret: Secret | None
    join_token_public_key_file: Path | None
    #: PEM text of the public key join tokens are verified with (public: not a ``Secret``).
    join_token_public_key: str | None
    admin_token_file: Path | None
    admin_token: Secret | None
    #: TLS material is handed to the QUIC stack as paths, which loads it itself.
    tls_cert_file: Path | None
    tls_key_file: Path | None
    drain_timeout_seconds: int
    mailbox_capacity: int
    log_format: LogFormat
    log_level: LogLevel
    #: Whether the advertised addresses were set explicitly (and must not be rewritten).
    grpc_advertise_explicit: bool = False
    webtransport_advertise_explicit: bool = False

    def describe(self) -> dict[str, object]:
        """The settings as a flat, log-safe mapping: secrets and URL passwords redacted.

        Used for the start-up log line and for ``repr``, so no code path prints a secret.
        """
        described: dict[str, object] = {}
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            if field.name.endswith("_explicit"):
                continue
            if field.name == "redis_url":
                value = redact_url(value)
            elif field.name == "join_token_public_key":
                value = None if value is None else "<pem>"
            elif isinstance(value, Secret):
                value = repr(value)
            elif isinstance(value, Address | Path):
                value = str(value)
            described[field.name] = value
        return described

    def __repr__(self) -> str:
        inner = ", ".join(f"{name}={value!r}" for name, value in self.describe().items())
        return f"Settings({inner})"


def redact_url(url: str) -> str:
    """Return ``url`` with any password replaced by ``***`` (for logs and error messages)."""
    try:
        parts = urlsplit(url)
        password = parts.password
    except ValueError:
        return url
    if not password:
        return url
    userinfo, _, hostinfo = parts.netloc.rpartition("@")
    user = userinfo.split(":", 1)[0]
    return parts._replace(netloc=f"{user}:***@{hostinfo}").geturl()


def require_for_run(settings: Settings) -> None:
    """What ``meeting-controller run`` cannot start without (other commands may).

    The join-token public key: every join must be verified, so an MC without it could only
    refuse every participant. Raises ConfigError naming the variable.
    """
    if settings.join_token_public_key is None:
        raise ConfigError(
            "MC_JOIN_TOKEN_PUBLIC_KEY_FILE is not set: the MC needs the Global Controller's "
            "public key (PEM) to verify join tokens"
        )


def resolve_advertised(settings: Settings, *, grpc_port: int, webtransport_port: int) -> Settings:
    """Fill in the bound ports in *defaulted* advertised addresses.

    With ``MC_GRPC_LISTEN=...:0`` the port is only known after binding; the default advertised
    address then carries port 0 until the server calls this. Explicit ``MC_*_ADVERTISE``
    values are the operator's word (NAT, Services) and are never rewritten.
    """
    grpc_advertise = settings.grpc_advertise
    if not settings.grpc_advertise_explicit and grpc_advertise.port == 0:
        grpc_advertise = Address(grpc_advertise.host, grpc_port)
    webtransport_advertise = settings.webtransport_advertise
    if not settings.webtransport_advertise_explicit and settings.webtransport_listen.port == 0:
        webtransport_advertise = _default_webtransport_url(settings.mc_id, webtransport_port)
    return dataclasses.replace(
        settings, grpc_advertise=grpc_advertise, webtransport_advertise=webtransport_advertise
    )


# --------------------------------------------------------------------------------------------
# Loading


def load_settings(
    environ: Mapping[str, str],
    *,
    overrides: Mapping[str, str] | None = None,
    hostname: Callable[[], str] = socket.gethostname,
) -> Settings:
    """Build :class:`Settings` from ``environ`` (usually ``os.environ``).

    ``overrides`` maps variable names to values given on the command line; they win over the
    environment and error messages say so. An empty value counts as unset (Helm charts and
    Kubernetes manifests often render optional values as ``""``). Raises
    :class:`~meeting_controller.errors.ConfigError` listing every problem, one per line.
    """
    reader = _Reader(environ=environ, overrides=overrides or {})
    problems = reader.problems

    for name in sorted(environ):
        if name.startswith("MC_") and name not in KNOWN_VARIABLES:
            if _SERVICE_LINK_VARIABLE.match(name):
                continue
            close = difflib.get_close_matches(name, KNOWN_VARIABLES, n=1, cutoff=0.75)
            hint = f" (did you mean {close[0]}?)" if close else ""
            problems.append(
                f"{name}: unknown variable{hint}; see docs/configuration.md for the known ones"
            )

    if reader.raw("MC_ID") is not None:
        mc_id = reader.identifier("MC_ID", default="mc")
    else:
        mc_id = host = hostname().strip().lower()
        if not _ID_PATTERN.match(host):
            problems.append(
                f"MC_ID is unset and the hostname {_show(host)} is not a valid id: set MC_ID "
                f"to 1..63 characters of [a-z0-9.-], starting and ending with a letter or digit"
            )
    region = reader.identifier("MC_REGION", default="local")

    gc_endpoint = reader.address("MC_GC_ENDPOINT", default="127.0.0.1:50051", listen=False)
    redis_url = reader.redis_url("MC_REDIS_URL", default="redis://127.0.0.1:6379/0")
    max_meetings = reader.integer("MC_MAX_MEETINGS", default=100, low=1, high=100_000)
    max_participants = reader.integer("MC_MAX_PARTICIPANTS", default=1000, low=1, high=1_000_000)

    grpc_listen = reader.address("MC_GRPC_LISTEN", default="0.0.0.0:50052", listen=True)
    webtransport_listen = reader.address(
        "MC_WEBTRANSPORT_LISTEN", default="0.0.0.0:4433", listen=True
    )
    http_listen = reader.address("MC_HTTP_LISTEN", default="0.0.0.0:8081", listen=True)
    grpc_advertise_explicit = reader.raw("MC_GRPC_ADVERTISE") is not None
    grpc_advertise = reader.address(
        "MC_GRPC_ADVERTISE",
        default=str(Address(mc_id, grpc_listen.port)),
        listen=False,
    )
    webtransport_advertise_explicit = reader.raw("MC_WEBTRANSPORT_ADVERTISE") is not None
    webtransport_advertise = reader.https_url(
        "MC_WEBTRANSPORT_ADVERTISE",
        default=_default_webtransport_url(mc_id, webtransport_listen.port),
    )

    fast_heartbeat_ms = reader.optional_integer("MC_FAST_HEARTBEAT_MS", low=100, high=3_600_000)
    comprehensive_heartbeat_ms = reader.optional_integer(
        "MC_COMPREHENSIVE_HEARTBEAT_MS", low=100, high=3_600_000
    )
    session_ttl_seconds = reader.integer("MC_SESSION_TTL_SECONDS", default=300, low=1, high=86_400)
    disconnect_grace_seconds = reader.integer(
        "MC_DISCONNECT_GRACE_SECONDS", default=30, low=0, high=3600
    )
    event_buffer_size = reader.integer("MC_EVENT_BUFFER_SIZE", default=256, low=1, high=65_536)
    max_frame_bytes = reader.integer(
        "MC_MAX_FRAME_BYTES", default=65_536, low=256, high=16 * 1024 * 1024
    )
    rate_limit_per_second = reader.integer(
        "MC_RATE_LIMIT_PER_SECOND", default=50, low=1, high=100_000
    )
    rate_limit_burst = reader.integer("MC_RATE_LIMIT_BURST", default=100, low=1, high=1_000_000)

    session_secret_file, session_secret = reader.secret_file(
        "MC_SESSION_MASTER_SECRET_FILE", min_bytes=MIN_SESSION_SECRET_BYTES
    )
    public_key_file, public_key = reader.public_key_file("MC_JOIN_TOKEN_PUBLIC_KEY_FILE")
    admin_token_file, admin_token = reader.secret_file(
        "MC_ADMIN_TOKEN_FILE", min_bytes=MIN_ADMIN_TOKEN_BYTES
    )
    tls_cert_file = reader.readable_file("MC_TLS_CERT_FILE")
    tls_key_file = reader.readable_file("MC_TLS_KEY_FILE")
    cert_set = reader.raw("MC_TLS_CERT_FILE") is not None
    key_set = reader.raw("MC_TLS_KEY_FILE") is not None
    if cert_set != key_set:
        missing, given = (
            ("MC_TLS_KEY_FILE", "MC_TLS_CERT_FILE")
            if cert_set
            else ("MC_TLS_CERT_FILE", "MC_TLS_KEY_FILE")
        )
        problems.append(
            f"{missing}: must be set together with {given} (a certificate needs its key)"
        )

    drain_timeout_seconds = reader.integer(
        "MC_DRAIN_TIMEOUT_SECONDS", default=300, low=1, high=86_400
    )
    mailbox_capacity = reader.integer("MC_MAILBOX_CAPACITY", default=1024, low=1, high=1_000_000)
    log_format = reader.choice("MC_LOG_FORMAT", default="text", choices=_LOG_FORMATS)
    log_level = reader.choice("MC_LOG_LEVEL", default="info", choices=_LOG_LEVELS)

    if problems:
        raise ConfigError("\n".join(problems))

    return Settings(
        mc_id=mc_id,
        region=region,
        gc_endpoint=gc_endpoint,
        redis_url=redis_url,
        max_meetings=max_meetings,
        max_participants=max_participants,
        grpc_listen=grpc_listen,
        grpc_advertise=grpc_advertise,
        webtransport_listen=webtransport_listen,
        webtransport_advertise=webtransport_advertise,
        http_listen=http_listen,
        fast_heartbeat_ms=fast_heartbeat_ms,
        comprehensive_heartbeat_ms=comprehensive_heartbeat_ms,
        session_ttl_seconds=session_ttl_seconds,
        disconnect_grace_seconds=disconnect_grace_seconds,
        event_buffer_size=event_buffer_size,
        max_frame_bytes=max_frame_bytes,
        rate_limit_per_second=rate_limit_per_second,
        rate_limit_burst=rate_limit_burst,
        session_master_secret_file=session_secret_file,
        session_master_secret=session_secret,
        join_token_public_key_file=public_key_file,
        join_token_public_key=public_key,
        admin_token_file=admin_token_file,
        admin_token=admin_token,
        tls_cert_file=tls_cert_file,
        tls_key_file=tls_key_file,
        drain_timeout_seconds=drain_timeout_seconds,
        mailbox_capacity=mailbox_capacity,
        log_format=log_format,
        log_level=log_level,
        grpc_advertise_explicit=grpc_advertise_explicit,
        webtransport_advertise_explicit=webtransport_advertise_explicit,
    )


def _default_webtransport_url(mc_id: str, port: int) -> str:
    return f"https://{mc_id}:{port}/signaling"


def _show(value: str) -> str:
    """Quote a user-supplied value for an error message, cut to a readable length."""
    if len(value) > _MAX_SHOWN_VALUE:
        value = value[: _MAX_SHOWN_VALUE - 3] + "..."
    return repr(value)


@dataclass
class _Reader:
    """Reads and validates one variable at a time, collecting problems instead of raising.

    Each method returns the parsed value, or, after appending one problem line of the form
    ``NAME='value': expected <form>``, the default: the caller raises when any problem was
    recorded, so that placeholder is never used, and the types stay free of ``None`` noise.
    """

    environ: Mapping[str, str]
    overrides: Mapping[str, str]
    problems: list[str] = dataclasses.field(default_factory=list)

    def raw(self, name: str) -> str | None:
        """The value as given (override first), or ``None`` when unset or empty."""
        value = self.overrides.get(name)
        if value is None:
            value = self.environ.get(name)
        if value is None or value.strip() == "":
            return None
        return value.strip()

    def _label(self, name: str) -> str:
        return f"{name} (from the command line)" if self.overrides.get(name) else name

    def _fail(self, name: str, value: str, expected: str) -> None:
        self.problems.append(f"{self._label(name)}={_show(value)}: expected {expected}")

    def identifier(self, name: str, *, default: str) -> str:
        value = self.raw(name)
        if value is None:
            return default
        if not _ID_PATTERN.match(value):
            self._fail(
                name,
                value,
                "1..63 characters of [a-z0-9.-], starting and ending with a letter or digit",
            )
            return default
        return value

    def integer(self, name: str, *, default: int, low: int, high: int) -> int:
        value = self._bounded(name, low=low, high=high)
        return default if value is None else value

    def optional_integer(self, name: str, *, low: int, high: int) -> int | None:
        return self._bounded(name, low=low, high=high)

    def _bounded(self, name: str, *, low: int, high: int) -> int | None:
        value = self.raw(name)
        if value is None:
            return None
        kind = "a positive integer" if low >= 1 else "a non-negative integer"
        expected = f"{kind} ({low}..{high})"
        # int() alone would accept "1_000", "+5" and " 5"; operators should see plain digits.
        if not value.isascii() or not value.isdigit():
            self._fail(name, value, expected)
            return None
        number = int(value)
        if not low <= number <= high:
            self._fail(name, value, expected)
            return None
        return number

    def address(
        self,
        name: str,
        *,
        default: str,
        listen: bool,
    ) -> Address:
        fallback = _parse_address(default, allow_zero_port=True)
        if fallback is None:
            raise AssertionError(f"bad built-in default for {name}: {default!r}")
        value = self.raw(name)
        if value is None:
            return fallback
        parsed = _parse_address(value, allow_zero_port=listen)
        if parsed is None:
            if listen:
                expected = "host:port with port 0..65535 (0 picks a free port), IPv6 as [::]:port"
            else:
                expected = "host:port with port 1..65535, IPv6 as [addr]:port"
            self._fail(name, value, expected)
            return fallback
        return parsed

    def redis_url(self, name: str, *, default: str) -> str:
        value = self.raw(name) or default
        expected = "a redis://host[:port][/db], rediss://... or unix:///path URL"
        try:
            parts = urlsplit(value)
            port = parts.port
        except ValueError:
            self._fail(name, redact_url(value), expected)
            return default
        ok = (
            (parts.scheme in ("redis", "rediss") and bool(parts.hostname))
            or (parts.scheme == "unix" and bool(parts.path))
        ) and (port is None or 1 <= port <= 65535)
        if parts.scheme in ("redis", "rediss") and parts.path not in ("", "/"):
            ok = ok and parts.path[1:].isdigit()
        if not ok:
            self._fail(name, redact_url(value), expected)
            return default
        return value

    def https_url(self, name: str, *, default: str) -> str:
        value = self.raw(name)
        if value is None:
            return default
        expected = "an https://host[:port]/ URL clients can reach"
        try:
            parts = urlsplit(value)
            port = parts.port
        except ValueError:
            self._fail(name, value, expected)
            return default
        if parts.scheme != "https" or not parts.hostname or port == 0:
            self._fail(name, value, expected)
            return default
        return value

    def choice(self, name: str, *, default: _Choice, choices: tuple[_Choice, ...]) -> _Choice:
        value = self.raw(name)
        if value is None:
            return default
        for choice in choices:
            if value.lower() == choice:
                return choice
        self._fail(name, value, "one of " + ", ".join(choices))
        return default

    def readable_file(self, name: str) -> Path | None:
        value = self.raw(name)
        if value is None:
            return None
        path = Path(value)
        try:
            with path.open("rb") as handle:
                handle.read(1)
        except OSError as error:
            reason = error.strerror or type(error).__name__
            self.problems.append(
                f"{self._label(name)}={_show(value)}: expected a readable file ({reason})"
            )
            return None
        return path

    def _read(self, name: str) -> tuple[Path, bytes] | None:
        path = self.readable_file(name)
        if path is None:
            return None
        try:
            return path, path.read_bytes()
        except OSError as error:  # pragma: no cover - raced with the check above
            self.problems.append(f"{self._label(name)}={_show(str(path))}: {error.strerror}")
            return None

    def secret_file(self, name: str, *, min_bytes: int) -> tuple[Path | None, Secret | None]:
        read = self._read(name)
        if read is None:
            return None, None
        path, content = read
        # Secrets mounted from Kubernetes or written with `echo` often end with a newline
        # that is not part of the secret.
        content = content.strip()
        if len(content) < min_bytes:
            self.problems.append(
                f"{self._label(name)}={_show(str(path))}: expected a file holding at least "
                f"{min_bytes} bytes of secret material (it holds {len(content)})"
            )
            return None, None
        return path, Secret(content)

    def public_key_file(self, name: str) -> tuple[Path | None, str | None]:
        read = self._read(name)
        if read is None:
            return None, None
        path, content = read
        text = content.decode("utf-8", errors="replace")
        if "-----BEGIN PUBLIC KEY-----" not in text or "-----END PUBLIC KEY-----" not in text:
            self.problems.append(
                f"{self._label(name)}={_show(str(path))}: expected a PEM public key "
                f"(-----BEGIN PUBLIC KEY----- ... -----END PUBLIC KEY-----)"
            )
            return None, None
        return path, text


def _parse_address(value: str, *, allow_zero_port: bool) -> Address | None:
    """Parse ``host:port`` / ``[v6]:port``; ``None`` when malformed."""
    if value.startswith("["):
        host, sep, port_text = value[1:].partition("]:")
        if not sep:
            return None
        try:
            ipaddress.IPv6Address(host)
        except ValueError:
            return None
    else:
        host, sep, port_text = value.rpartition(":")
        if not sep or ":" in host or not _HOSTNAME_PATTERN.match(host):
            return None
    if not port_text.isascii() or not port_text.isdigit():
        return None
    port = int(port_text)
    if not (0 if allow_zero_port else 1) <= port <= 65535:
        return None
    return Address(host, port)
