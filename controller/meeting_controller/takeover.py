"""Rebuilding a meeting taken over from another MC, from what Redis holds.

Two ways a meeting arrives with history:

* **Live migration**: the source froze the meeting and wrote a complete hand-off
  (:class:`~meeting_controller.protocol.internal_pb2.MeetingHandoff`: roster, mute states,
  session nonces, every participant's sequence numbers and recovery buffer) under the
  generation it held. The target claims the next generation and continues exactly there.
* **Crash failover**: the owner died without a hand-off. What it persisted as it went - the
  participant set, each participant's session (role, mute flags, token nonce) - is enough to
  let everyone resume; only the event numbering is gone, so each participant's own resume
  anchors it (events in flight at the crash died with the MC).
"""

from __future__ import annotations

import base64
import binascii
import logging

from google.protobuf.message import DecodeError

from meeting_controller.actors.meeting import HANDOFF_FIELD, SESSION_FIELD_PREFIX
from meeting_controller.protocol import internal_pb2, signaling_pb2
from meeting_controller.store.fenced import FencedRedisClient, MeetingRecord

log = logging.getLogger(__name__)


def handoff_from_record(
    record: MeetingRecord, *, claimed: int
) -> internal_pb2.MeetingHandoff | None:
    """The hand-off written by the owner just before ``claimed``, if there is one.

    A hand-off from any older generation is stale: participants may have come and gone since.
    """
    encoded = record.state.get(HANDOFF_FIELD)
    if not encoded:
        return None
    try:
        handoff = internal_pb2.MeetingHandoff.FromString(base64.b64decode(encoded, validate=True))
    except (binascii.Error, DecodeError) as error:
        log.error(
            "unreadable hand-off state for %s: %s",
            record.meeting_id,
            error,
            extra={"meeting_id": record.meeting_id},
        )
        return None
    if handoff.meeting_id != record.meeting_id or handoff.generation != claimed - 1:
        return None
    return handoff


async def rebuild_from_sessions(
    store: FencedRedisClient, record: MeetingRecord
) -> internal_pb2.MeetingHandoff | None:
    """A hand-off reconstructed from the sessions a crashed owner persisted (no streams)."""
    participants = []
    for participant_id in sorted(record.participants):
        session_id = record.state.get(SESSION_FIELD_PREFIX + participant_id)
        if not session_id:
            continue
        session = await store.get_session(session_id)
        if session is None:
            continue
        try:
            role = signaling_pb2.Role.Value(session.get("role", "ROLE_PARTICIPANT"))
        except ValueError:
            role = signaling_pb2.ROLE_PARTICIPANT
        participants.append(
            internal_pb2.HandoffParticipant(
                participant_id=participant_id,
                display_name=session.get("display_name", ""),
                role=role,
                user_id=session.get("user_id", ""),
                session_id=session_id,
                nonce=session.get("nonce", ""),
                is_self_muted=session.get("is_self_muted") == "1",
                is_host_muted=session.get("is_host_muted") == "1",
                next_sequence=0,  # unknown: anchored by each participant's resume
            )
        )
    if not participants:
        return None
    return internal_pb2.MeetingHandoff(
        meeting_id=record.meeting_id, generation=record.generation, participants=participants
    )


def session_fields(record: MeetingRecord) -> dict[str, str]:
    """The ``p:<participant>`` fields to carry over when the state hash is rewritten."""
    return {
        key: value
        for key, value in record.state.items()
        if key.startswith(SESSION_FIELD_PREFIX)
        and key.removeprefix(SESSION_FIELD_PREFIX) in record.participants
    }
