"""Translations between the actor core's types and the internal protocol's enums."""

from __future__ import annotations

from meeting_controller.actors.controller import McPhase
from meeting_controller.protocol import internal_pb2

_STATES: dict[McPhase, internal_pb2.McState.ValueType] = {
    McPhase.STARTING: internal_pb2.MC_STATE_STARTING,
    McPhase.ACTIVE: internal_pb2.MC_STATE_ACTIVE,
    McPhase.DRAINING: internal_pb2.MC_STATE_DRAINING,
    McPhase.DRAINED: internal_pb2.MC_STATE_DRAINED,
    McPhase.SHUTTING_DOWN: internal_pb2.MC_STATE_SHUTTING_DOWN,
}


def mc_state(phase: McPhase) -> internal_pb2.McState.ValueType:
    """The wire form of an MC's lifecycle phase."""
    return _STATES[phase]
