"""The signaling gateway: from a fresh WebTransport session to a participant of a meeting.

Every session starts here. The gateway reads the first frame, which must be a JoinRequest,
verifies the join token (always required: signature, expiry, meeting, role) and, for a
resume, the session token (signature, expiry, meeting binding), finds the meeting on this MC
and hands the session to the meeting actor, which owns it from then on (see
:mod:`meeting_controller.actors.meeting` for what a join and a resume do).

Every refusal is a clear :class:`Error` frame with a code the client can act on
(``rejoin_required`` tells it to start over without a session token), followed by closing the
session. Nothing a refused session sends ever reaches a meeting, so bad input cannot disturb
the other participants or the stored state.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from collections.abc import Callable

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from google.protobuf.message import DecodeError

from meeting_controller import metrics
from meeting_controller.actors.connection import FrameError, Transport
from meeting_controller.actors.controller import MeetingControllerHandle
from meeting_controller.actors.meeting import JoinRefused, JoinResult, MeetingHandle
from meeting_controller.errors import ActorError, TokenError
from meeting_controller.protocol import signaling_pb2
from meeting_controller.tokens import join as join_tokens
from meeting_controller.tokens import session as session_tokens

log = logging.getLogger(__name__)

#: A session must send its JoinRequest within this time, or it is closed.
DEFAULT_JOIN_TIMEOUT = 10.0
#: Messages other than a JoinRequest tolerated before the session is closed.
MAX_FRAMES_BEFORE_JOIN = 3


@dataclasses.dataclass(frozen=True)
class GatewayConfig:
    join_token_key: Ed25519PublicKey
    session_secret: bytes | None
    join_timeout: float = DEFAULT_JOIN_TIMEOUT
    wall_clock: Callable[[], float] = time.time


def _error(
    code: signaling_pb2.ErrorCode.ValueType,
    message: str,
    *,
    rejoin_required: bool = False,
    fatal: bool = True,
) -> bytes:
    return signaling_pb2.ServerMessage(
        sequence_number=0,
        error=signaling_pb2.Error(
            code=code, message=message, rejoin_required=rejoin_required, fatal=fatal
        ),
    ).SerializeToString()


class _Refused(Exception):
    def __init__(self, code: signaling_pb2.ErrorCode.ValueType, message: str, *, rejoin: bool):
        super().__init__(message)
        self.code = code
        self.rejoin = rejoin


_ROLES = {"host": signaling_pb2.ROLE_HOST, "participant": signaling_pb2.ROLE_PARTICIPANT}


class SignalingGateway:
    """Admits WebTransport sessions into meetings; see the module docstring."""

    def __init__(self, *, controller: MeetingControllerHandle, config: GatewayConfig) -> None:
        self._controller = controller
        self._config = config

    async def handle_session(self, transport: Transport) -> None:
        """Run one session: admission, then wait while its connection actor serves it.

        Returns when the session was refused or its connection actor ended (the transport
        adapter closes the session when this returns).
        """
        metrics.sessions_active.inc()
        handed_over = False
        try:
            handed_over = await self._admit(transport)
        finally:
            if not handed_over:
                metrics.sessions_active.dec()
                await _close_quietly(transport, reason="refused")

    async def _admit(self, transport: Transport) -> bool:
        request = await self._read_join(transport)
        if request is None:
            return False
        started = time.perf_counter()
        kind = "resume" if request.session_token else "join"
        try:
            result = await self._join(request, transport)
        except _Refused as refusal:
            counter = metrics.resumes_total if kind == "resume" else metrics.joins_total
            counter.labels(result=signaling_pb2.ErrorCode.Name(refusal.code).lower()).inc()
            log.info(
                "%s refused: %s",
                kind,
                refusal,
                extra={"event": f"{kind}_refused", "meeting_id": request.meeting_id},
            )
            await _send_quietly(
                transport, _error(refusal.code, str(refusal), rejoin_required=refusal.rejoin)
            )
            return False
        counter = metrics.resumes_total if kind == "resume" else metrics.joins_total
        counter.labels(result="ok").inc()
        metrics.join_duration_seconds.labels(kind=kind).observe(time.perf_counter() - started)
        result.connection.task.add_done_callback(lambda _: metrics.sessions_active.dec())
        # The transport belongs to the connection actor now; the session lives as long as it.
        await asyncio.wait({result.connection.task})
        return True

    async def _read_join(self, transport: Transport) -> signaling_pb2.JoinRequest | None:
        """The session's JoinRequest, or ``None`` after answering why there is none."""
        for _ in range(MAX_FRAMES_BEFORE_JOIN):
            try:
                async with asyncio.timeout(self._config.join_timeout):
                    payload = await transport.recv()
            except TimeoutError:
                await _send_quietly(
                    transport,
                    _error(
                        signaling_pb2.ERROR_CODE_NOT_JOINED,
                        f"no JoinRequest within {self._config.join_timeout:.0f} s",
                    ),
                )
                return None
            except FrameError as error:
                await _send_quietly(transport, _error(error.code, str(error)))
                return None
            except (ConnectionError, OSError):
                return None
            if payload is None:
                return None
            message = signaling_pb2.ClientMessage()
            try:
                message.ParseFromString(payload)
            except DecodeError as error:
                await _send_quietly(
                    transport,
                    _error(
                        signaling_pb2.ERROR_CODE_MALFORMED_MESSAGE,
                        f"the message could not be decoded: {error}",
                        fatal=False,
                    ),
                )
                continue
            if message.WhichOneof("payload") == "join":
                return message.join
            await _send_quietly(
                transport,
                _error(
                    signaling_pb2.ERROR_CODE_NOT_JOINED,
                    "send a JoinRequest first: no other message is accepted before joining",
                    fatal=False,
                ),
            )
        await _send_quietly(
            transport,
            _error(
                signaling_pb2.ERROR_CODE_NOT_JOINED,
                f"no JoinRequest among the first {MAX_FRAMES_BEFORE_JOIN} messages",
            ),
        )
        return None

    async def _join(self, request: signaling_pb2.JoinRequest, transport: Transport) -> JoinResult:
        now = self._config.wall_clock()
        try:
            claims = join_tokens.verify_join_token(
                request.join_token,
                public_key=self._config.join_token_key,
                meeting_id=request.meeting_id,
                now=now,
                # A resume is authorised by its (fresh) session token; the join token then
                # only says who resumes, so it may have run out during a long meeting.
                check_expiry=not request.session_token,
            )
        except TokenError as error:
            raise _Refused(
                signaling_pb2.ErrorCode.Value(error.code), str(error), rejoin=False
            ) from None
        meeting = await self._controller.meeting(request.meeting_id)
        if meeting is None:
            raise _Refused(
                signaling_pb2.ERROR_CODE_MEETING_NOT_FOUND,
                f"meeting {request.meeting_id!r} is not hosted on this MC: ask the Global "
                "Controller where it is",
                rejoin=False,
            )
        try:
            if request.session_token:
                return await self._resume(
                    request, transport, meeting=meeting, now=now, user_id=claims.user_id
                )
            return await meeting.attach(
                participant_id=session_tokens.new_participant_id(),
                display_name=request.display_name or claims.display_name or claims.user_id,
                role=_ROLES[claims.role],
                transport=transport,
                user_id=claims.user_id,
            )
        except JoinRefused as refusal:
            raise _Refused(refusal.code, str(refusal), rejoin=refusal.rejoin_required) from None
        except ActorError as error:  # the meeting stopped meanwhile
            raise _Refused(
                signaling_pb2.ERROR_CODE_MEETING_NOT_FOUND, str(error), rejoin=False
            ) from None

    async def _resume(
        self,
        request: signaling_pb2.JoinRequest,
        transport: Transport,
        *,
        meeting: MeetingHandle,
        now: float,
        user_id: str,
    ) -> JoinResult:
        secret = self._config.session_secret
        if secret is None:
            raise _Refused(
                signaling_pb2.ERROR_CODE_INVALID_SESSION_TOKEN,
                "this MC issues no session tokens: join again without one",
                rejoin=True,
            )
        try:
            session = session_tokens.verify_session_token(
                request.session_token,
                master_secret=secret,
                meeting_id=request.meeting_id,
                now_ms=int(now * 1000),
            )
        except TokenError as error:
            raise _Refused(
                signaling_pb2.ErrorCode.Value(error.code), str(error), rejoin=True
            ) from None
        return await meeting.resume(
            participant_id=session.participant_id,
            session_id=session.session_id,
            nonce=session.nonce,
            last_sequence=request.last_sequence_number,
            transport=transport,
            user_id=user_id,
        )


async def _send_quietly(transport: Transport, payload: bytes) -> None:
    try:
        async with asyncio.timeout(1.0):
            await transport.send(payload)
    except (ConnectionError, OSError, TimeoutError):
        pass


async def _close_quietly(transport: Transport, *, reason: str) -> None:
    try:
        async with asyncio.timeout(1.0):
            await transport.close(code=0, reason=reason)
    except (ConnectionError, OSError, TimeoutError):
        pass
