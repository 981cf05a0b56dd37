"""The fenced Redis state store of the Meeting Controller.

Public surface, re-exported here:

* :class:`FencedRedisClient` - every read and fenced write of meeting and session state;
* :class:`MeetingRecord` - what :meth:`FencedRedisClient.load_meeting` returns for a takeover;
* :class:`InvalidId` - an id that cannot be used in a Redis key (raised before any I/O);
* :mod:`~meeting_controller.store.keys` - the key schema (pure).

Layers: ``fenced`` (the adapter: validation, error translation, metrics) uses ``scripting``
(the Lua scripts and their typed wrappers) and ``keys`` (the key schema, no I/O).
"""

from __future__ import annotations

from meeting_controller.store import keys
from meeting_controller.store.fenced import (
    DEFAULT_MEETING_TTL_MS,
    FencedRedisClient,
    MeetingRecord,
    redact_url,
)
from meeting_controller.store.keys import InvalidId

__all__ = [
    "DEFAULT_MEETING_TTL_MS",
    "FencedRedisClient",
    "InvalidId",
    "MeetingRecord",
    "keys",
    "redact_url",
]
