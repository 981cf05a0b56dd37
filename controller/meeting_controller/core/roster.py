"""The meeting's roster as a pure state machine.

:class:`Roster` owns who is in a meeting, their role, mute flags and connection state, and each
participant's :class:`~meeting_controller.core.streams.EventStream`. Each operation validates,
changes the state and returns the deliveries it causes (already numbered for each recipient);
the meeting actor only carries them out. No I/O, no clock, no asyncio: exhaustively testable.
"""

from __future__ import annotations

import dataclasses
import hmac

from meeting_controller.core.streams import EventStream
from meeting_controller.protocol import internal_pb2, signaling_pb2

Role = signaling_pb2.Role
LeaveReason = signaling_pb2.LeaveReason


@dataclasses.dataclass
class ParticipantRecord:
    """One participant as the meeting knows it."""

    participant_id: str
    display_name: str
    role: signaling_pb2.Role.ValueType
    is_self_muted: bool = False
    is_host_muted: bool = False
    connected: bool = True
    #: Who the join token said this is (several participants may share a user, e.g. devices).
    user_id: str = ""
    #: The session this participant resumes with, and the nonce of its only valid token.
    session_id: str = ""
    nonce: str = ""
    #: Bumped on every disconnect, so a grace timer of an earlier disconnect is recognised.
    disconnect_epoch: int = 0
    #: Taken over from another MC and not resumed here yet. Others still see it connected
    #: (a migration must not look like a leave and a rejoin), but the grace timer runs.
    awaiting_resume: bool = False

    def to_proto(self) -> signaling_pb2.Participant:
        return signaling_pb2.Participant(
            participant_id=self.participant_id,
            display_name=self.display_name,
            role=self.role,
            mute=signaling_pb2.MuteState(
                is_self_muted=self.is_self_muted, is_host_muted=self.is_host_muted
            ),
            connected=self.connected,
        )


@dataclasses.dataclass(frozen=True)
class Delivery:
    """Send ``message`` (numbered for this recipient) to ``participant_id``."""

    participant_id: str
    message: signaling_pb2.ServerMessage


class RosterError(Exception):
    """An operation the roster refuses; ``code`` is the signaling ``ErrorCode`` to answer."""

    def __init__(self, code: signaling_pb2.ErrorCode.ValueType, message: str) -> None:
        super().__init__(message)
        self.code = code


class Roster:
    """Participants of one meeting and their numbered event streams."""

    def __init__(self, *, buffer_size: int) -> None:
        self._buffer_size = buffer_size
        self._participants: dict[str, ParticipantRecord] = {}
        self._streams: dict[str, EventStream] = {}

    # -- reads -------------------------------------------------------------------------------

    def __contains__(self, participant_id: object) -> bool:
        return participant_id in self._participants

    def __len__(self) -> int:
        return len(self._participants)

    def participants(self) -> list[ParticipantRecord]:
        return list(self._participants.values())

    @property
    def connected_count(self) -> int:
        return sum(1 for p in self._participants.values() if p.connected)

    def get(self, participant_id: str) -> ParticipantRecord:
        try:
            return self._participants[participant_id]
        except KeyError:
            raise RosterError(
                signaling_pb2.ERROR_CODE_UNKNOWN_PARTICIPANT,
                f"no participant {participant_id!r} in this meeting",
            ) from None

    def stream(self, participant_id: str) -> EventStream:
        return self._streams[participant_id]

    def snapshot(self) -> list[signaling_pb2.Participant]:
        """Everyone, in join order, with their mute and connection state."""
        return [p.to_proto() for p in self._participants.values()]

    # -- changes -----------------------------------------------------------------------------

    def add(
        self,
        *,
        participant_id: str,
        display_name: str,
        role: signaling_pb2.Role.ValueType,
        user_id: str = "",
        session_id: str = "",
        nonce: str = "",
    ) -> list[Delivery]:
        """Admit a participant; everyone else is told it joined."""
        if participant_id in self._participants:
            raise RosterError(
                signaling_pb2.ERROR_CODE_ALREADY_JOINED,
                f"participant {participant_id!r} is already in this meeting",
            )
        record = ParticipantRecord(
            participant_id=participant_id,
            display_name=display_name,
            role=role,
            user_id=user_id,
            session_id=session_id,
            nonce=nonce,
        )
        self._participants[participant_id] = record
        self._streams[participant_id] = EventStream(capacity=self._buffer_size)
        joined = signaling_pb2.ServerMessage(
            participant_joined=signaling_pb2.ParticipantJoined(participant=record.to_proto())
        )
        return self._broadcast(joined, exclude=participant_id)

    def remove(
        self, participant_id: str, *, reason: signaling_pb2.LeaveReason.ValueType
    ) -> list[Delivery]:
        """Remove a participant; everyone left is told why it left."""
        self.get(participant_id)
        del self._participants[participant_id]
        del self._streams[participant_id]
        left = signaling_pb2.ServerMessage(
            participant_left=signaling_pb2.ParticipantLeft(
                participant_id=participant_id, reason=reason
            )
        )
        return self._broadcast(left)

    def set_connected(self, participant_id: str, *, connected: bool) -> list[Delivery]:
        """Mark a participant's connection up or down; a no-op when unchanged."""
        record = self.get(participant_id)
        if record.connected == connected:
            return []
        record.connected = connected
        changed = signaling_pb2.ServerMessage(
            connection_changed=signaling_pb2.ParticipantConnectionChanged(
                participant_id=participant_id, connected=connected
            )
        )
        return self._broadcast(changed, exclude=participant_id)

    def disconnect(self, participant_id: str) -> tuple[int, list[Delivery]]:
        """The participant's connection is gone: mark it and start a new grace epoch.

        Returns the epoch the grace timer must quote, so that a timer armed by an earlier
        disconnect (followed by a resume and another disconnect) cannot remove it early.
        """
        record = self.get(participant_id)
        record.disconnect_epoch += 1
        return record.disconnect_epoch, self.set_connected(participant_id, connected=False)

    def expire(self, participant_id: str, *, epoch: int) -> list[Delivery]:
        """The grace period of disconnect ``epoch`` ended: leave with TIMEOUT if still gone."""
        record = self._participants.get(participant_id)
        if record is None or record.disconnect_epoch != epoch:
            return []
        if record.connected and not record.awaiting_resume:
            return []
        return self.remove(participant_id, reason=signaling_pb2.LEAVE_REASON_TIMEOUT)

    def resume(
        self, participant_id: str, *, last_sequence: int, presented_nonce: str, new_nonce: str
    ) -> tuple[list[signaling_pb2.ServerMessage], list[Delivery]]:
        """Restore a participant's session: the missed events, and the others' updates.

        Checks, in order: the participant still exists (else the session ended: rejoin), the
        token is the current one (single use: an older token was already spent), the client
        is not ahead of the server, and every missed event is still buffered. Any failure
        leaves the state untouched, so a bad resume attempt cannot hurt the real session.
        """
        record = self._participants.get(participant_id)
        if record is None:
            raise RosterError(
                signaling_pb2.ERROR_CODE_REJOIN_REQUIRED,
                "this session has ended (it left or timed out): join again without a session token",
            )
        if not hmac.compare_digest(record.nonce, presented_nonce):
            raise RosterError(
                signaling_pb2.ERROR_CODE_SESSION_TOKEN_REUSED,
                "this session token was already used: resume with the newest token, or rejoin",
            )
        stream = self._streams[participant_id]
        if not stream.anchored:
            stream.anchor(last_sequence)
        if last_sequence > stream.last_sequence:
            raise RosterError(
                signaling_pb2.ERROR_CODE_SEQUENCE_AHEAD,
                f"last_sequence_number {last_sequence} is ahead of the server "
                f"({stream.last_sequence}): rejoin",
            )
        missed = stream.since(last_sequence)
        if missed is None:
            raise RosterError(
                signaling_pb2.ERROR_CODE_REJOIN_REQUIRED,
                f"events after {last_sequence} are no longer buffered "
                f"(the buffer holds {stream.capacity}): rejoin",
            )
        record.nonce = new_nonce
        record.awaiting_resume = False
        return missed, self.set_connected(participant_id, connected=True)

    def handoff(self) -> list[internal_pb2.HandoffParticipant]:
        """Everything another MC needs to continue the roster exactly here (live migration)."""
        return [
            internal_pb2.HandoffParticipant(
                participant_id=p.participant_id,
                display_name=p.display_name,
                role=p.role,
                user_id=p.user_id,
                session_id=p.session_id,
                nonce=p.nonce,
                is_self_muted=p.is_self_muted,
                is_host_muted=p.is_host_muted,
                next_sequence=self._streams[p.participant_id].next_sequence,
                buffered=[
                    m.SerializeToString() for m in self._streams[p.participant_id].buffered()
                ],
            )
            for p in self._participants.values()
        ]

    def restore(self, participants: list[internal_pb2.HandoffParticipant]) -> list[str]:
        """Take over participants from a hand-off (or, without streams, after a crash).

        Everyone restored awaits its resume; nobody is told anything (to the others, a moving
        participant never left). ``next_sequence`` 0 means the numbering is unknown (crash
        failover): the participant's own resume anchors it. Returns the restored ids.
        """
        restored = []
        for p in participants:
            if p.participant_id in self._participants:
                continue
            self._participants[p.participant_id] = ParticipantRecord(
                participant_id=p.participant_id,
                display_name=p.display_name,
                role=signaling_pb2.Role.ValueType(p.role),
                is_self_muted=p.is_self_muted,
                is_host_muted=p.is_host_muted,
                connected=True,
                user_id=p.user_id,
                session_id=p.session_id,
                nonce=p.nonce,
                awaiting_resume=True,
            )
            if p.next_sequence > 0:
                buffered = [signaling_pb2.ServerMessage.FromString(b) for b in p.buffered]
                stream = EventStream.restore(
                    capacity=self._buffer_size, next_sequence=p.next_sequence, buffered=buffered
                )
            else:
                stream = EventStream.unanchored(capacity=self._buffer_size)
            self._streams[p.participant_id] = stream
            restored.append(p.participant_id)
        return restored

    def set_self_muted(self, participant_id: str, *, muted: bool) -> list[Delivery]:
        """Self-mute: no permission check, broadcast to everyone (the sender included).

        Unmuting yourself while host-muted is refused: the host's mute is enforced.
        """
        record = self.get(participant_id)
        if not muted and record.is_host_muted:
            raise RosterError(
                signaling_pb2.ERROR_CODE_HOST_MUTED,
                "you are muted by the host: send an unmute request instead",
            )
        record.is_self_muted = muted
        return self._broadcast(self._mute_update(record, changed_by=participant_id))

    def set_host_muted(self, requester_id: str, *, target_id: str, muted: bool) -> list[Delivery]:
        """Host-mute (or lift it): only hosts may; everyone is told, the target must comply."""
        self._require_host(requester_id, action="host-mute")
        target = self.get(target_id)
        target.is_host_muted = muted
        return self._broadcast(self._mute_update(target, changed_by=requester_id))

    def request_unmute(self, participant_id: str, *, reason: str) -> list[Delivery]:
        """A host-muted participant asks to be unmuted: the request reaches every host."""
        record = self.get(participant_id)
        if not record.is_host_muted:
            raise RosterError(
                signaling_pb2.ERROR_CODE_PERMISSION_DENIED,
                "you are not muted by the host: unmute yourself with a MuteRequest",
            )
        hosts = [p.participant_id for p in self._participants.values() if p.role == Role.ROLE_HOST]
        requested = signaling_pb2.ServerMessage(
            unmute_requested=signaling_pb2.UnmuteRequested(
                participant_id=participant_id, reason=reason
            )
        )
        return [self._deliver(host, requested) for host in hosts]

    def decide_unmute(self, host_id: str, *, participant_id: str, approved: bool) -> list[Delivery]:
        """A host approves (lift the host-mute, broadcast) or denies (tell the requester)."""
        self._require_host(host_id, action="approve or deny unmute requests")
        target = self.get(participant_id)
        if not approved:
            denied = signaling_pb2.ServerMessage(
                unmute_denied=signaling_pb2.UnmuteDenied(
                    participant_id=participant_id, denied_by=host_id
                )
            )
            return [self._deliver(participant_id, denied)]
        target.is_host_muted = False
        return self._broadcast(self._mute_update(target, changed_by=host_id))

    def _require_host(self, participant_id: str, *, action: str) -> None:
        if self.get(participant_id).role != Role.ROLE_HOST:
            raise RosterError(
                signaling_pb2.ERROR_CODE_PERMISSION_DENIED, f"only a host may {action}"
            )

    def deliver(self, participant_id: str, message: signaling_pb2.ServerMessage) -> Delivery:
        """Number ``message`` in one participant's stream (e.g. its JoinResponse or a Pong)."""
        return self._deliver(participant_id, message)

    def error_to(
        self,
        participant_id: str,
        *,
        code: signaling_pb2.ErrorCode.ValueType,
        message: str,
        rejoin_required: bool = False,
        fatal: bool = False,
    ) -> list[Delivery]:
        """A numbered Error for one participant (errors are part of the stream too)."""
        error = signaling_pb2.ServerMessage(
            error=signaling_pb2.Error(
                code=code, message=message, rejoin_required=rejoin_required, fatal=fatal
            )
        )
        return [self._deliver(participant_id, error)]

    # -- helpers -----------------------------------------------------------------------------

    @staticmethod
    def _mute_update(record: ParticipantRecord, *, changed_by: str) -> signaling_pb2.ServerMessage:
        return signaling_pb2.ServerMessage(
            mute_update=signaling_pb2.ParticipantMuteUpdate(
                participant_id=record.participant_id,
                is_self_muted=record.is_self_muted,
                is_host_muted=record.is_host_muted,
                changed_by=changed_by,
            )
        )

    def _deliver(self, participant_id: str, message: signaling_pb2.ServerMessage) -> Delivery:
        return Delivery(participant_id, self._streams[participant_id].stamp(message))

    def _broadcast(
        self, message: signaling_pb2.ServerMessage, *, exclude: str | None = None
    ) -> list[Delivery]:
        return [self._deliver(pid, message) for pid in self._participants if pid != exclude]
