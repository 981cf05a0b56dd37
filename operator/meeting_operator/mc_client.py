"""The operator's calls to an MC's gRPC ``MeetingControllerService``: ``GetStatus`` and ``Drain``.

I/O only, and deliberately forgiving: an MC that does not answer in time is an *observation*
("unreachable", :data:`None`), not an error. The planner decides what an unreachable MC means
(a pod that may still host meetings is never deleted because of it). Timeouts are short: one
slow MC must not stall the reconciliation of the whole fleet, and statuses are polled again a
second or two later anyway.
"""

from __future__ import annotations

import logging
from typing import Final

import grpc
import grpc.aio

from meeting_controller.protocol import internal_pb2, internal_pb2_grpc
from meeting_operator import planner

log = logging.getLogger(__name__)

STATUS_TIMEOUT_S: Final = 1.0
DRAIN_TIMEOUT_S: Final = 2.0

_STATES: Final[dict[int, str]] = {
    internal_pb2.MC_STATE_STARTING: "starting",
    internal_pb2.MC_STATE_ACTIVE: "active",
    internal_pb2.MC_STATE_DRAINING: "draining",
    internal_pb2.MC_STATE_DRAINED: "drained",
    internal_pb2.MC_STATE_SHUTTING_DOWN: "shutting_down",
}


class DrainRefused(Exception):
    """The MC refused the ``Drain`` call for a reason retrying will not fix (wrong or missing
    admin token, admin API disabled). Reported as a Warning Event on the resource."""


def to_status(reply: internal_pb2.GetStatusResponse) -> planner.McStatus:
    """Translate a ``GetStatus`` answer into the planner's observation (pure)."""
    return planner.McStatus(
        registered=reply.registered,
        state=_STATES.get(reply.state, "unknown"),
        meetings=reply.current_meetings,
        participants=reply.current_participants,
    )


async def get_status(target: str, *, timeout: float = STATUS_TIMEOUT_S) -> planner.McStatus | None:
    """The MC's status at ``target`` (``host:port``), or ``None`` if it cannot be reached."""
    try:
        async with grpc.aio.insecure_channel(target) as channel:
            stub = internal_pb2_grpc.MeetingControllerServiceStub(channel)
            reply = await stub.GetStatus(internal_pb2.GetStatusRequest(), timeout=timeout)
    except grpc.aio.AioRpcError as error:
        log.debug("GetStatus %s failed: %s", target, error.code())
        return None
    return to_status(reply)


async def drain(
    target: str,
    *,
    admin_token: str,
    deadline_unix_ms: int,
    reason: str,
    timeout: float = DRAIN_TIMEOUT_S,
) -> bool:
    """Ask the MC at ``target`` to drain until ``deadline_unix_ms``.

    Returns whether the MC accepted; ``False`` when it could not be reached (the planner
    resends the call on a later pass, since the pod's drain mark is already written).
    Raises :class:`DrainRefused` when the MC rejects the admin token or has none.
    """
    try:
        async with grpc.aio.insecure_channel(target) as channel:
            stub = internal_pb2_grpc.MeetingControllerServiceStub(channel)
            reply = await stub.Drain(
                internal_pb2.DrainRequest(deadline_unix_ms=deadline_unix_ms, reason=reason),
                metadata=(("authorization", f"Bearer {admin_token}"),),
                timeout=timeout,
            )
    except grpc.aio.AioRpcError as error:
        if error.code() in (
            grpc.StatusCode.UNAUTHENTICATED,
            grpc.StatusCode.FAILED_PRECONDITION,
            grpc.StatusCode.PERMISSION_DENIED,
        ):
            raise DrainRefused(f"{target}: {error.code().name}: {error.details()}") from None
        log.info("Drain %s failed: %s", target, error.code())
        return False
    return bool(reply.accepted)
