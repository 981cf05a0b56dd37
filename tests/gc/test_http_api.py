"""The client HTTP API over real sockets, in front of a real GC and real scripted MCs."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import time
from collections.abc import AsyncIterator
from http import HTTPStatus

import grpc.aio
import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519

from meeting_controller import errors, tokens
from meeting_controller.gc import http_api, server
from meeting_controller.protocol import internal_pb2 as pb
from meeting_controller.protocol import internal_pb2_grpc
from tests.gc.support import ScriptedMc, http, raw_http, scripted_mcs

TTL = 120.0


@dataclasses.dataclass
class Setup:
    gc: server.GlobalController
    key: ed25519.Ed25519PrivateKey
    mcs: dict[str, ScriptedMc]

    @property
    def url(self) -> str:
        return self.gc.http_url

    @property
    def port(self) -> int:
        return int(self.url.rpartition(":")[2])


@pytest.fixture
async def setup() -> AsyncIterator[Setup]:
    key = tokens.generate_signing_key()
    async with scripted_mcs("mc-a", "mc-b") as mcs:
        gc = server.GlobalController(
            grpc_listen="127.0.0.1:0",
            http_listen="127.0.0.1:0",
            signing_key=key,
            token_ttl_s=TTL,
            rpc_timeout_s=1.0,
        )
        await gc.start()
        try:
            async with grpc.aio.insecure_channel(gc.grpc_address) as channel:
                stub = internal_pb2_grpc.GlobalControllerServiceStub(channel)
                for mc_id, mc in mcs.items():
                    answer = await stub.RegisterMc(
                        pb.RegisterMcRequest(
                            mc_id=mc_id,
                            region="eu",
                            grpc_endpoint=mc.endpoint,
                            webtransport_endpoint=f"https://{mc_id}.test:4433/",
                            max_meetings=10,
                            max_participants=100,
                        ),
                        timeout=5,
                    )
                    assert answer.accepted
            yield Setup(gc=gc, key=key, mcs=mcs)
        finally:
            await gc.stop()


def verify(setup: Setup, token: str, meeting_id: str) -> tokens.JoinClaims:
    """What an MC does with the token, holding only the GC's public key."""
    public_key = tokens.public_key_from_pem(tokens.public_key_pem(setup.key), source="test")
    return tokens.verify_join_token(
        token, public_key=public_key, meeting_id=meeting_id, now=time.time()
    )


# --- create-or-join ---------------------------------------------------------------------------


async def test_create_returns_an_mc_and_a_host_token_the_mc_accepts(setup: Setup) -> None:
    before = time.time()
    answer = await http(
        setup.url,
        "POST",
        "/v1/meetings",
        {"meeting_id": "standup", "user_id": "alice", "display_name": "Alice"},
    )
    assert answer.status == HTTPStatus.CREATED
    assert answer.headers["location"] == "/v1/meetings/standup"
    assert answer.headers["cache-control"] == "no-store"
    body = answer.json()
    assert body["meeting_id"] == "standup"
    assert body["created"] is True
    assert body["role"] == "host"
    mc_id = body["mc_id"]
    assert body["mc_endpoint"] == f"https://{mc_id}.test:4433/"
    assert int(before + TTL) - 1 <= body["expires_at"] <= int(time.time() + TTL)
    claims = verify(setup, body["join_token"], "standup")
    assert claims == tokens.JoinClaims(
        user_id="alice",
        meeting_id="standup",
        role="host",
        display_name="Alice",
        expires_at=body["expires_at"],
    )
    assert [c.meeting_id for c in setup.mcs[mc_id].assign_calls] == ["standup"]


async def test_joining_an_existing_meeting_gives_a_participant_token_for_the_same_mc(
    setup: Setup,
) -> None:
    created = (
        await http(setup.url, "POST", "/v1/meetings", {"meeting_id": "m", "user_id": "a"})
    ).json()
    answer = await http(setup.url, "POST", "/v1/meetings", {"meeting_id": "m", "user_id": "bob"})
    assert answer.status == HTTPStatus.OK
    body = answer.json()
    assert (body["mc_id"], body["created"], body["role"]) == (
        created["mc_id"],
        False,
        "participant",
    )
    claims = verify(setup, body["join_token"], "m")
    assert (claims.user_id, claims.role, claims.display_name) == ("bob", "participant", None)
    assert sum(len(mc.assign_calls) for mc in setup.mcs.values()) == 1


async def test_an_explicit_role_wins(setup: Setup) -> None:
    first = await http(
        setup.url,
        "POST",
        "/v1/meetings",
        {"meeting_id": "m", "user_id": "a", "role": "participant"},
    )
    assert first.json()["role"] == "participant"
    second = await http(
        setup.url, "POST", "/v1/meetings", {"meeting_id": "m", "user_id": "b", "role": "host"}
    )
    assert verify(setup, second.json()["join_token"], "m").role == "host"


async def test_without_a_meeting_id_the_gc_makes_one(setup: Setup) -> None:
    answer = await http(setup.url, "POST", "/v1/meetings", {"user_id": "alice"})
    assert answer.status == HTTPStatus.CREATED
    meeting_id = answer.json()["meeting_id"]
    assert http_api.MEETING_ID_PATTERN.fullmatch(meeting_id)
    assert verify(setup, answer.json()["join_token"], meeting_id).role == "host"


async def test_the_token_is_refused_for_another_meeting(setup: Setup) -> None:
    body = (
        await http(setup.url, "POST", "/v1/meetings", {"meeting_id": "m", "user_id": "a"})
    ).json()
    with pytest.raises(errors.TokenError) as info:
        verify(setup, body["join_token"], "other")
    assert info.value.code == "ERROR_CODE_MEETING_MISMATCH"


async def test_no_capacity_is_a_503_with_each_mcs_answer(setup: Setup) -> None:
    for mc in setup.mcs.values():
        mc.rejection = pb.REJECTION_REASON_AT_CAPACITY
    answer = await http(setup.url, "POST", "/v1/meetings", {"meeting_id": "m", "user_id": "a"})
    assert answer.status == HTTPStatus.SERVICE_UNAVAILABLE
    body = answer.json()
    assert body["error"] == "no_capacity"
    assert "mc-a: at_capacity" in body["message"]
    assert "mc-b: at_capacity" in body["message"]


async def test_a_region_without_mcs_is_a_503(setup: Setup) -> None:
    answer = await http(
        setup.url, "POST", "/v1/meetings", {"meeting_id": "m", "user_id": "a", "region": "ap"}
    )
    assert answer.status == HTTPStatus.SERVICE_UNAVAILABLE
    assert "region 'ap'" in answer.json()["message"]


# --- where is meeting X, the fleet, health ----------------------------------------------------


async def test_where_is_a_meeting(setup: Setup) -> None:
    created = (
        await http(setup.url, "POST", "/v1/meetings", {"meeting_id": "m.1", "user_id": "a"})
    ).json()
    answer = await http(setup.url, "GET", "/v1/meetings/m.1")
    assert answer.status == HTTPStatus.OK
    assert answer.json() == {
        "meeting_id": "m.1",
        "mc_id": created["mc_id"],
        "mc_endpoint": created["mc_endpoint"],
        "generation": 1,
        "region": "eu",
        "mc_state": "active",
        "mc_alive": True,
    }


async def test_an_unknown_meeting_is_a_404_with_a_json_error(setup: Setup) -> None:
    answer = await http(setup.url, "GET", "/v1/meetings/nope")
    assert answer.status == HTTPStatus.NOT_FOUND
    assert answer.json() == {
        "error": "not_found",
        "message": "no meeting 'nope' is known to this GC",
    }


async def test_the_fleet_as_json(setup: Setup) -> None:
    await http(setup.url, "POST", "/v1/meetings", {"meeting_id": "m", "user_id": "a"})
    answer = await http(setup.url, "GET", "/v1/mcs")
    assert answer.status == HTTPStatus.OK
    fleet = answer.json()
    assert fleet["liveness_window_seconds"] == 30.0  # 3 x the MC default of 10 s
    assert [mc["mc_id"] for mc in fleet["mcs"]] == ["mc-a", "mc-b"]
    assert sum(mc["meetings_recorded"] for mc in fleet["mcs"]) == 1
    first = fleet["mcs"][0]
    assert first["alive"] is True
    assert first["state"] == "active"
    assert first["region"] == "eu"
    assert first["grpc_endpoint"] == setup.mcs["mc-a"].endpoint
    assert {"free_capacity", "seconds_since_heartbeat", "current_meetings"} <= set(first)


async def test_healthz(setup: Setup) -> None:
    answer = await http(setup.url, "GET", "/healthz")
    assert (answer.status, answer.json()) == (HTTPStatus.OK, {"status": "ok"})


# --- bad requests, over the wire --------------------------------------------------------------


def post(body: bytes, *, extra: str = "") -> bytes:
    return (
        f"POST /v1/meetings HTTP/1.1\r\nHost: x\r\nContent-Length: {len(body)}\r\n{extra}\r\n"
    ).encode() + body


@pytest.mark.parametrize(
    ("request_bytes", "status", "message_part"),
    [
        (post(b"{not json"), 400, "not valid JSON"),
        (post(b"[]"), 400, "must be a JSON object, not an array"),
        (post(b'{"meeting_id": "m"}'), 400, "missing required field 'user_id'"),
        (post(b'{"user_id": 5}'), 400, "user_id must be a string, not a number"),
        (post(b'{"user_id": "a", "role": "admin"}'), 400, "role must be one of host, participant"),
        (post(b'{"user_id": "a", "meeting_id": "a{b}"}'), 400, "meeting_id 'a{b}' must be"),
        (post(b'{"user_id": "a", "userid": "b"}'), 400, "unknown field(s) userid"),
        (post(b"\xff\xfe"), 400, "not valid JSON"),
        (b"POST /v1/meetings HTTP/1.1\r\nHost: x\r\n\r\n", 411, "Content-Length"),
        (
            b"POST /v1/meetings HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
            501,
            "Transfer-Encoding",
        ),
        (
            b"POST /v1/meetings HTTP/1.1\r\nContent-Length: 99999999\r\n\r\n",
            413,
            "at most 16384",
        ),
        (b"POST /v1/meetings HTTP/1.1\r\nContent-Length: -1\r\n\r\n", 400, "Content-Length"),
        (b"hello\r\n\r\n", 400, "malformed request line"),
        (b"GET /healthz HTTP/1.1\r\nno colon here\r\n\r\n", 400, "malformed header"),
        (b"GET /nowhere HTTP/1.1\r\n\r\n", 404, "no such path '/nowhere'"),
        (b"GET /v1/meetings HTTP/1.1\r\n\r\n", 405, "only answers POST"),
        (b"DELETE /v1/meetings/m HTTP/1.1\r\n\r\n", 405, "only answers GET"),
        (
            b"GET /healthz HTTP/1.1\r\nX-Big: "
            + b"x" * (http_api.MAX_HEAD_BYTES + 10)
            + b"\r\n\r\n",
            431,
            "exceeds",
        ),
    ],
    ids=[
        "bad-json",
        "array",
        "no-user",
        "user-not-string",
        "bad-role",
        "bad-meeting-id",
        "unknown-field",
        "not-utf8",
        "no-length",
        "chunked",
        "too-large",
        "negative-length",
        "garbage-line",
        "bad-header",
        "unknown-path",
        "get-on-post-route",
        "delete",
        "huge-head",
    ],
)
async def test_bad_requests_get_a_clear_json_error(
    setup: Setup, request_bytes: bytes, status: int, message_part: str
) -> None:
    answer = await raw_http("127.0.0.1", setup.port, request_bytes)
    assert answer.status == status
    body = answer.json()
    assert set(body) == {"error", "message"}
    assert message_part in body["message"]
    assert sum(len(mc.assign_calls) for mc in setup.mcs.values()) == 0


async def test_405_names_the_allowed_method(setup: Setup) -> None:
    answer = await raw_http("127.0.0.1", setup.port, b"PUT /healthz HTTP/1.1\r\n\r\n")
    assert answer.headers["allow"] == "GET"


async def test_a_client_that_hangs_up_mid_request_does_not_break_the_server(setup: Setup) -> None:
    _, writer = await asyncio.open_connection("127.0.0.1", setup.port)
    writer.write(b"POST /v1/meetings HTTP/1.1\r\nContent-Length: 100\r\n\r\n{")
    await writer.drain()
    writer.close()
    await writer.wait_closed()
    assert (await http(setup.url, "GET", "/healthz")).status == HTTPStatus.OK


async def test_a_slow_client_is_cut_off_after_the_read_timeout() -> None:
    """A client that never finishes its head gets 408 instead of holding the connection."""
    api = http_api.HttpApi(
        placer=None,  # type: ignore[arg-type]  # never reached
        registry=None,  # type: ignore[arg-type]
        directory=None,  # type: ignore[arg-type]
        signing_key=tokens.generate_signing_key(),
        token_ttl_s=TTL,
        default_region=None,
        read_timeout_s=0.1,
    )
    listener = await api.start(host="127.0.0.1", port=0)
    try:
        port = listener.sockets[0].getsockname()[1]
        answer = await raw_http("127.0.0.1", port, b"GET /healthz HTTP/1.1\r\n", timeout_s=2)
        assert answer.status == HTTPStatus.REQUEST_TIMEOUT
    finally:
        listener.close()
        await listener.wait_closed()


# --- the pure parsers -------------------------------------------------------------------------


def test_a_full_valid_body_is_parsed() -> None:
    body = json.dumps(
        {
            "meeting_id": "team~1",
            "user_id": "u",
            "display_name": "Ünïcode Name",
            "role": "participant",
            "region": "eu",
        }
    ).encode()
    assert http_api.parse_create_or_join(body) == http_api.CreateOrJoin(
        user_id="u",
        meeting_id="team~1",
        display_name="Ünïcode Name",
        role="participant",
        region="eu",
    )


def test_nulls_count_as_absent() -> None:
    parsed = http_api.parse_create_or_join(b'{"user_id": "u", "meeting_id": null, "role": null}')
    assert (parsed.meeting_id, parsed.role, parsed.display_name, parsed.region) == (
        None,
        None,
        None,
        None,
    )


@pytest.mark.parametrize(
    ("document", "message_part"),
    [
        ({"user_id": ""}, "user_id must not be empty"),
        ({"user_id": "x" * 129}, "user_id is 129 characters; at most 128"),
        ({"user_id": "a\nb"}, "control characters"),
        ({"user_id": "a", "display_name": "d" * 129}, "display_name is 129"),
        ({"user_id": "a", "meeting_id": "-leading-dash"}, "starting with a letter or digit"),
        ({"user_id": "a", "meeting_id": "a/b"}, "must be 1-128 characters"),
        ({"user_id": "a", "region": ["eu"]}, "region must be a string, not an array"),
        ({"user_id": "a", "role": True}, "role must be a string, not a boolean"),
    ],
)
def test_invalid_fields_name_the_field_and_the_rule(document: object, message_part: str) -> None:
    with pytest.raises(http_api.HttpError) as info:
        http_api.parse_create_or_join(json.dumps(document).encode())
    assert info.value.status == HTTPStatus.BAD_REQUEST
    assert message_part in info.value.message


def test_head_parsing() -> None:
    head = http_api.parse_head(
        b"GET /v1/meetings/a%20b?x=1 HTTP/1.1\r\nHOST: h\r\nX-A:  b \r\n\r\n"
    )
    assert head == http_api.RequestHead(
        method="GET", path="/v1/meetings/a%20b", headers={"host": "h", "x-a": "b"}
    )
    with pytest.raises(http_api.HttpError, match="must be a path"):
        http_api.parse_head(b"GET http://x/ HTTP/1.1\r\n\r\n")
