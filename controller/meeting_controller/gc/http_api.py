"""The reference GC's client API: HTTP/1.1 + JSON on asyncio streams (no web framework).

Routes::

    POST /v1/meetings          create-or-join: place the meeting if needed, issue a join token
    GET  /v1/meetings/<id>     where the meeting lives now (404 if the GC does not know it)
    GET  /v1/mcs               the fleet as the GC sees it (demo and debugging)
    GET  /healthz              liveness of the GC itself

``POST /v1/meetings`` takes ``{"user_id": str, "meeting_id"?: str, "display_name"?: str,
"role"?: "host"|"participant", "region"?: str}`` and answers ``201`` when it created (placed)
the meeting and ``200`` when it joined an existing one, with ``{"meeting_id", "mc_id",
"mc_endpoint", "join_token", "expires_at", "role", "created"}``. The caller that creates a
meeting is its host unless it asks otherwise; joiners are participants unless they ask
otherwise. **There is no authentication**: this is the reference GC, and anyone who can reach
it may ask for any role. A production GC authenticates the user before it signs anything.

Errors are JSON too: ``{"error": <short code>, "message": <what to fix>}`` with 400 (bad JSON,
missing or invalid fields, unknown fields so typos do not pass silently), 404 (unknown path or
meeting), 405, 411, 413 (body over :data:`MAX_BODY_BYTES`), 431, 501 (chunked bodies) and 503
(no MC can take the meeting; the message says what each MC answered).

The HTTP subset is deliberately small: one request per connection (every answer says
``Connection: close``), ``Content-Length`` bodies only, a bounded request head and body, and a
timeout on reading both, so a slow or hostile client holds a connection for seconds, not
forever. Parsing and validation are pure functions; the connection handler is the only I/O.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import logging
import re
import secrets
import time
import urllib.parse
from collections.abc import Callable
from http import HTTPStatus
from typing import Any, Final

from cryptography.hazmat.primitives.asymmetric import ed25519

from meeting_controller import tokens
from meeting_controller.gc import directory as directory_
from meeting_controller.gc import placement, placer
from meeting_controller.gc import registry as registry_

log = logging.getLogger(__name__)

MAX_HEAD_BYTES: Final = 16 * 1024
MAX_BODY_BYTES: Final = 16 * 1024
READ_TIMEOUT_SECONDS: Final = 10.0

#: Meeting ids end up in URLs and in Redis keys (``meeting:{<id>}:state``): no braces, no
#: slashes, no spaces.
MEETING_ID_PATTERN: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9._~-]{0,127}")
MAX_USER_ID_LENGTH: Final = 128
MAX_DISPLAY_NAME_LENGTH: Final = 128
MAX_REGION_LENGTH: Final = 64

_CREATE_FIELDS: Final = ("meeting_id", "user_id", "display_name", "role", "region")


class HttpError(Exception):
    """An error answer: status, short code and a message that says what to fix."""

    def __init__(
        self,
        status: HTTPStatus,
        message: str,
        *,
        code: str | None = None,
        headers: tuple[tuple[str, str], ...] = (),
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code or status.phrase.lower().replace(" ", "_")
        self.headers = headers


@dataclasses.dataclass(frozen=True, slots=True)
class RequestHead:
    method: str
    path: str
    """Percent-encoded path, query string removed."""
    headers: dict[str, str]
    """Lower-cased names."""


@dataclasses.dataclass(frozen=True, slots=True)
class CreateOrJoin:
    """A validated ``POST /v1/meetings`` body."""

    user_id: str
    meeting_id: str | None
    display_name: str | None
    role: tokens.Role | None
    region: str | None


# ---------------------------------------------------------------------------------------------
# Pure parsing and validation
# ---------------------------------------------------------------------------------------------


def parse_head(data: bytes) -> RequestHead:
    """Parse the request line and headers (``data`` ends with the empty line)."""
    try:
        text = data.decode("latin-1")
    except UnicodeDecodeError:  # pragma: no cover - latin-1 decodes every byte
        raise HttpError(HTTPStatus.BAD_REQUEST, "the request head is not text") from None
    lines = text.split("\r\n")
    parts = lines[0].split(" ")
    if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
        raise HttpError(HTTPStatus.BAD_REQUEST, f"malformed request line {lines[0][:100]!r}")
    method, target, _version = parts
    if not target.startswith("/"):
        raise HttpError(HTTPStatus.BAD_REQUEST, f"request target must be a path, not {target!r}")
    headers: dict[str, str] = {}
    for line in lines[1:]:
        if not line:
            continue
        name, sep, value = line.partition(":")
        if not sep or not name or name != name.strip():
            raise HttpError(HTTPStatus.BAD_REQUEST, f"malformed header line {line[:100]!r}")
        headers[name.lower()] = value.strip()
    return RequestHead(method=method, path=target.split("?", 1)[0], headers=headers)


def body_length(head: RequestHead, *, max_body_bytes: int = MAX_BODY_BYTES) -> int:
    """How many body bytes to read, or the error that stops us reading them."""
    if "transfer-encoding" in head.headers:
        raise HttpError(
            HTTPStatus.NOT_IMPLEMENTED,
            "Transfer-Encoding is not supported: send the body with a Content-Length",
        )
    raw = head.headers.get("content-length")
    if raw is None:
        if head.method == "POST":
            raise HttpError(HTTPStatus.LENGTH_REQUIRED, "a POST needs a Content-Length header")
        return 0
    if not raw.isdigit():
        raise HttpError(HTTPStatus.BAD_REQUEST, f"Content-Length must be a number, not {raw!r}")
    length = int(raw)
    if length > max_body_bytes:
        raise HttpError(
            HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
            f"the body is {length} bytes; at most {max_body_bytes} are accepted",
        )
    return length


def parse_create_or_join(body: bytes) -> CreateOrJoin:
    """Validate a ``POST /v1/meetings`` body; every error names the field and the rule."""
    try:
        document = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise HttpError(HTTPStatus.BAD_REQUEST, f"the body is not valid JSON: {exc}") from None
    if not isinstance(document, dict):
        raise HttpError(
            HTTPStatus.BAD_REQUEST, f"the body must be a JSON object, not {_json_type(document)}"
        )
    unknown = sorted(set(document) - set(_CREATE_FIELDS))
    if unknown:
        raise HttpError(
            HTTPStatus.BAD_REQUEST,
            f"unknown field(s) {', '.join(unknown)}; allowed: {', '.join(_CREATE_FIELDS)}",
        )
    user_id = _string(document, "user_id", required=True, max_length=MAX_USER_ID_LENGTH)
    assert user_id is not None
    meeting_id = _string(document, "meeting_id", required=False, max_length=128)
    if meeting_id is not None and not MEETING_ID_PATTERN.fullmatch(meeting_id):
        raise HttpError(
            HTTPStatus.BAD_REQUEST,
            f"meeting_id {meeting_id!r} must be 1-128 characters of letters, digits and "
            "'.', '_', '~', '-', starting with a letter or digit",
        )
    display_name = _string(
        document, "display_name", required=False, max_length=MAX_DISPLAY_NAME_LENGTH
    )
    role = _string(document, "role", required=False, max_length=16)
    if role is not None and role not in tokens.ROLES:
        raise HttpError(
            HTTPStatus.BAD_REQUEST,
            f"role must be one of {', '.join(tokens.ROLES)}, not {role!r}",
        )
    region = _string(document, "region", required=False, max_length=MAX_REGION_LENGTH)
    return CreateOrJoin(
        user_id=user_id,
        meeting_id=meeting_id,
        display_name=display_name,
        role=role,  # narrowed to tokens.Role by the membership test above
        region=region,
    )


def _string(document: dict[str, Any], name: str, *, required: bool, max_length: int) -> str | None:
    value = document.get(name)
    if value is None:
        if required:
            raise HttpError(HTTPStatus.BAD_REQUEST, f"missing required field {name!r}")
        return None
    if not isinstance(value, str):
        raise HttpError(HTTPStatus.BAD_REQUEST, f"{name} must be a string, not {_json_type(value)}")
    if not value.strip():
        raise HttpError(HTTPStatus.BAD_REQUEST, f"{name} must not be empty")
    if len(value) > max_length:
        raise HttpError(
            HTTPStatus.BAD_REQUEST, f"{name} is {len(value)} characters; at most {max_length}"
        )
    if any(ord(char) < 0x20 or ord(char) == 0x7F for char in value):
        raise HttpError(HTTPStatus.BAD_REQUEST, f"{name} must not contain control characters")
    return value


def _json_type(value: object) -> str:
    if value is None:
        return "null"
    return {
        bool: "a boolean",
        int: "a number",
        float: "a number",
        str: "a string",
        list: "an array",
        dict: "an object",
    }.get(type(value), type(value).__name__)


def encode_response(
    status: HTTPStatus, document: object, *, headers: tuple[tuple[str, str], ...] = ()
) -> bytes:
    body = json.dumps(document, separators=(",", ":")).encode("utf-8") + b"\n"
    head = [
        f"HTTP/1.1 {status.value} {status.phrase}",
        "Content-Type: application/json",
        f"Content-Length: {len(body)}",
        # Join tokens are credentials: no cache may keep them.
        "Cache-Control: no-store",
        "Connection: close",
        *(f"{name}: {value}" for name, value in headers),
    ]
    return ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body


def mc_view(
    record: registry_.McRecord, *, now: float, window: float, meetings_recorded: int
) -> dict[str, Any]:
    """One MC as ``GET /v1/mcs`` shows it."""
    return {
        "mc_id": record.mc_id,
        "region": record.region,
        "state": record.state.value,
        "health": record.health.value,
        "alive": registry_.is_alive(record, now=now, window=window),
        "grpc_endpoint": record.grpc_endpoint,
        "webtransport_endpoint": record.webtransport_endpoint,
        "max_meetings": record.max_meetings,
        "max_participants": record.max_participants,
        "current_meetings": record.current_meetings,
        "current_participants": record.current_participants,
        "free_capacity": float(placement.free_capacity(record)),
        "meetings_recorded": meetings_recorded,
        "seconds_since_heartbeat": round(now - record.last_fast_heartbeat_at, 3),
        "cpu_usage_percent": record.cpu_usage_percent,
        "memory_usage_percent": record.memory_usage_percent,
        "drain_deadline_unix_ms": record.drain_deadline_unix_ms,
        "last_drain": None
        if record.drain_report is None
        else dict(zip(("migrated", "closed", "ended"), record.drain_report, strict=True)),
    }


# ---------------------------------------------------------------------------------------------
# The API (I/O)
# ---------------------------------------------------------------------------------------------


class HttpApi:
    """Connection handler for ``asyncio.start_server``; see the module docstring."""

    def __init__(
        self,
        *,
        placer: placer.Placer,
        registry: registry_.Registry,
        directory: directory_.MeetingDirectory,
        signing_key: ed25519.Ed25519PrivateKey,
        token_ttl_s: float,
        default_region: str | None,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
        read_timeout_s: float = READ_TIMEOUT_SECONDS,
        max_body_bytes: int = MAX_BODY_BYTES,
    ) -> None:
        """``clock`` is the registry's monotonic clock; ``wall_clock`` dates join tokens."""
        self._placer = placer
        self._registry = registry
        self._directory = directory
        self._signing_key = signing_key
        self._token_ttl_s = token_ttl_s
        self._default_region = default_region
        self._clock = clock
        self._wall_clock = wall_clock
        self._read_timeout_s = read_timeout_s
        self._max_body_bytes = max_body_bytes

    async def start(self, *, host: str, port: int) -> asyncio.Server:
        """Listen on ``host:port`` (port 0 picks a free one: read it from the server)."""
        return await asyncio.start_server(self.handle_connection, host, port, limit=MAX_HEAD_BYTES)

    async def handle_connection(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        try:
            try:
                status, document, headers = await self._handle(reader)
            except HttpError as exc:
                status = exc.status
                document = {"error": exc.code, "message": exc.message}
                headers = exc.headers
            except (asyncio.IncompleteReadError, ConnectionError):
                return  # the client went away before it finished its request
            writer.write(encode_response(status, document, headers=headers))
            await writer.drain()
        except ConnectionError:
            pass
        except Exception:
            log.exception("HTTP connection handler failed")
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError, OSError):
                await writer.wait_closed()

    async def _handle(
        self, reader: asyncio.StreamReader
    ) -> tuple[HTTPStatus, object, tuple[tuple[str, str], ...]]:
        try:
            raw_head = await asyncio.wait_for(
                reader.readuntil(b"\r\n\r\n"), timeout=self._read_timeout_s
            )
        except asyncio.LimitOverrunError:
            raise HttpError(
                HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE,
                f"the request head exceeds {MAX_HEAD_BYTES} bytes",
            ) from None
        except TimeoutError:
            raise HttpError(HTTPStatus.REQUEST_TIMEOUT, "the request head took too long") from None
        head = parse_head(raw_head)
        length = body_length(head, max_body_bytes=self._max_body_bytes)
        try:
            body = await asyncio.wait_for(reader.readexactly(length), timeout=self._read_timeout_s)
        except TimeoutError:
            raise HttpError(HTTPStatus.REQUEST_TIMEOUT, "the request body took too long") from None
        try:
            return await self._route(head, body)
        except placer.PlacementFailed as exc:
            raise HttpError(HTTPStatus.SERVICE_UNAVAILABLE, str(exc), code="no_capacity") from None
        except HttpError:
            raise
        except Exception:
            log.exception("%s %s failed", head.method, head.path)
            raise HttpError(
                HTTPStatus.INTERNAL_SERVER_ERROR, "internal error (see the GC's log)"
            ) from None

    async def _route(
        self, head: RequestHead, body: bytes
    ) -> tuple[HTTPStatus, object, tuple[tuple[str, str], ...]]:
        path = head.path
        if path == "/healthz":
            _allow(head, "GET")
            return HTTPStatus.OK, {"status": "ok"}, ()
        if path == "/v1/mcs":
            _allow(head, "GET")
            return HTTPStatus.OK, self._fleet(), ()
        if path == "/v1/meetings":
            _allow(head, "POST")
            return await self._create_or_join(parse_create_or_join(body))
        if path.startswith("/v1/meetings/"):
            _allow(head, "GET")
            meeting_id = urllib.parse.unquote(path.removeprefix("/v1/meetings/"))
            return HTTPStatus.OK, self._where(meeting_id), ()
        raise HttpError(HTTPStatus.NOT_FOUND, f"no such path {path!r}")

    async def _create_or_join(
        self, request: CreateOrJoin
    ) -> tuple[HTTPStatus, object, tuple[tuple[str, str], ...]]:
        meeting_id = request.meeting_id or f"m-{secrets.token_hex(8)}"
        entry, created = await self._placer.ensure_placed(
            meeting_id=meeting_id, region=request.region or self._default_region
        )
        record = self._registry.get(entry.mc_id)
        if record is None:  # pragma: no cover - placement only records registered MCs
            raise HttpError(
                HTTPStatus.SERVICE_UNAVAILABLE, f"MC {entry.mc_id!r} vanished", code="no_capacity"
            )
        role: tokens.Role = request.role or ("host" if created else "participant")
        token, expires_at = tokens.issue_join_token(
            signing_key=self._signing_key,
            user_id=request.user_id,
            meeting_id=meeting_id,
            role=role,
            display_name=request.display_name,
            now=self._wall_clock(),
            ttl_seconds=self._token_ttl_s,
        )
        document = {
            "meeting_id": meeting_id,
            "mc_id": record.mc_id,
            "mc_endpoint": record.webtransport_endpoint,
            "join_token": token,
            "expires_at": expires_at,
            "role": role,
            "created": created,
        }
        if created:
            location = "/v1/meetings/" + urllib.parse.quote(meeting_id, safe="")
            return HTTPStatus.CREATED, document, (("Location", location),)
        return HTTPStatus.OK, document, ()

    def _where(self, meeting_id: str) -> dict[str, Any]:
        entry = self._directory.get(meeting_id)
        if entry is None:
            raise HttpError(HTTPStatus.NOT_FOUND, f"no meeting {meeting_id!r} is known to this GC")
        record = self._registry.get(entry.mc_id)
        now = self._clock()
        return {
            "meeting_id": entry.meeting_id,
            "mc_id": entry.mc_id,
            "mc_endpoint": record.webtransport_endpoint if record is not None else None,
            "generation": entry.generation,
            "region": record.region if record is not None else entry.region,
            "mc_state": record.state.value if record is not None else None,
            "mc_alive": self._registry.is_alive(entry.mc_id, now=now),
        }

    def _fleet(self) -> dict[str, Any]:
        now = self._clock()
        counts = self._directory.count_by_mc()
        return {
            "liveness_window_seconds": self._registry.window,
            "mcs": [
                mc_view(
                    record,
                    now=now,
                    window=self._registry.window,
                    meetings_recorded=counts.get(record.mc_id, 0),
                )
                for record in sorted(self._registry, key=lambda record: record.mc_id)
            ],
        }


def _allow(head: RequestHead, method: str) -> None:
    if head.method != method:
        raise HttpError(
            HTTPStatus.METHOD_NOT_ALLOWED,
            f"{head.path} only answers {method}, not {head.method}",
            headers=(("Allow", method),),
        )
