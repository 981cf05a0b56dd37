"""Keeps the Redis state of hosted meetings alive, and lets go of meetings fenced away.

Every meeting key has a TTL so that nothing outlives its owners; the owner therefore refreshes
its meetings' keys periodically (well within the TTL). The refresh is a fenced write, which
makes it the MC's regular proof of ownership: when it fails with
:class:`~meeting_controller.errors.FencedOut`, another MC has taken the meeting over (after a
failover, or because this MC was partitioned), and this MC stops its meeting actor instead of
fighting for it. A Redis outage only skips a round; the next one retries.
"""

from __future__ import annotations

import asyncio
import logging

from meeting_controller.actors.controller import MeetingControllerHandle
from meeting_controller.errors import FencedOut, StoreError
from meeting_controller.store.fenced import FencedRedisClient

log = logging.getLogger(__name__)


async def refresh_once(*, controller: MeetingControllerHandle, store: FencedRedisClient) -> int:
    """Refresh every hosted meeting once; return how many were let go (fenced out)."""
    released = 0
    for meeting_id, handle in controller.hosted().items():
        try:
            await store.refresh(meeting_id, generation=handle.generation)
        except FencedOut as error:
            released += 1
            log.warning(
                "%s; releasing the meeting",
                error,
                extra={"event": "fenced_out", "meeting_id": meeting_id},
            )
            handle.stop()
        except StoreError as error:
            log.warning(
                "could not refresh meeting %s (%s); retrying next round",
                meeting_id,
                error,
                extra={"event": "refresh_failed", "meeting_id": meeting_id},
            )
    return released


async def keep_meetings(
    *, controller: MeetingControllerHandle, store: FencedRedisClient, interval: float
) -> None:
    """Run :func:`refresh_once` every ``interval`` seconds until cancelled."""
    while True:
        await asyncio.sleep(interval)
        await refresh_once(controller=controller, store=store)


def refresh_interval(meeting_ttl_ms: int) -> float:
    """A third of the TTL: two refreshes may fail before the keys expire."""
    return max(1.0, meeting_ttl_ms / 1000 / 3)
