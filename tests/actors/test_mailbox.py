"""Bounded mailboxes: back-pressure, never-dropped system messages, depth metric."""

from __future__ import annotations

import asyncio

import pytest
from prometheus_client import REGISTRY

from meeting_controller.actors.cancellation import CancellationToken
from meeting_controller.actors.mailbox import Mailbox
from meeting_controller.errors import ActorStopped, MailboxFull


def depth(kind: str) -> float:
    return REGISTRY.get_sample_value("mc_actor_mailbox_depth", {"actor": kind}) or 0.0


async def test_a_full_mailbox_refuses_at_once_or_makes_the_sender_wait() -> None:
    box: Mailbox[int] = Mailbox(capacity=2, kind="meeting", token=CancellationToken())
    box.send_nowait(1)
    box.send_nowait(2)
    with pytest.raises(MailboxFull, match="2 messages"):
        box.send_nowait(3)

    waiting = asyncio.create_task(box.send(3))
    await asyncio.sleep(0)
    assert not waiting.done()
    assert await box.recv() == 1
    await waiting
    assert [await box.recv(), await box.recv()] == [2, 3]


async def test_system_messages_pass_a_full_mailbox() -> None:
    box: Mailbox[str] = Mailbox(capacity=1, kind="meeting", token=CancellationToken())
    box.send_nowait("request")
    box.send_system("child stopped")
    assert len(box) == 2


async def test_cancellation_wakes_the_receiver_and_wins_over_queued_messages() -> None:
    token = CancellationToken()
    box: Mailbox[int] = Mailbox(capacity=4, kind="meeting", token=token)
    receiving = asyncio.create_task(box.recv())
    await asyncio.sleep(0)
    box.send_nowait(1)
    token.cancel()
    assert await receiving in (1, None)
    assert await box.recv() is None


async def test_a_closed_mailbox_refuses_messages_and_releases_waiting_senders() -> None:
    box: Mailbox[int] = Mailbox(capacity=1, kind="meeting", token=CancellationToken())
    box.send_nowait(1)
    waiting = asyncio.create_task(box.send(2))
    await asyncio.sleep(0)
    box.close()
    with pytest.raises(ActorStopped):
        await waiting
    with pytest.raises(ActorStopped):
        box.send_system(3)


async def test_depth_is_summed_per_actor_kind() -> None:
    before = depth("connection")
    a: Mailbox[int] = Mailbox(capacity=4, kind="connection", token=CancellationToken())
    b: Mailbox[int] = Mailbox(capacity=4, kind="connection", token=CancellationToken())
    a.send_nowait(1)
    a.send_nowait(2)
    b.send_nowait(3)
    assert depth("connection") == before + 3
    await a.recv()
    b.close()
    assert depth("connection") == before + 1
    a.drain()
    assert depth("connection") == before


def test_a_mailbox_needs_room_for_at_least_one_message() -> None:
    with pytest.raises(ValueError, match="capacity"):
        Mailbox(capacity=0, kind="meeting", token=CancellationToken())


def test_cancelling_a_parent_token_cancels_its_children_but_not_the_reverse() -> None:
    root = CancellationToken()
    meeting, other = root.child(), root.child()
    conn = meeting.child()
    meeting.cancel()
    assert conn.cancelled
    assert not root.cancelled
    assert not other.cancelled
    root.cancel()
    assert other.cancelled
    late = root.child()
    assert late.cancelled
