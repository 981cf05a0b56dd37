"""Bounded actor mailboxes.

A mailbox is bounded so a slow actor pushes back on its senders instead of growing without
limit: :meth:`Mailbox.send_nowait` raises :class:`~meeting_controller.errors.MailboxFull` and
:meth:`Mailbox.send` waits for room. Supervision notices (a child stopped or crashed) use
:meth:`Mailbox.send_system`, which is never refused: losing one would silently lose an actor.

The depth of every mailbox is summed per actor kind into ``mc_actor_mailbox_depth{actor}``.
"""

from __future__ import annotations

import asyncio
import collections
from typing import Generic, TypeVar

from meeting_controller import metrics
from meeting_controller.actors.cancellation import CancellationToken
from meeting_controller.errors import ActorStopped, MailboxFull

T = TypeVar("T")


class Mailbox(Generic[T]):
    """A FIFO with a capacity, woken by the owner's cancellation token."""

    def __init__(self, *, capacity: int, kind: str, token: CancellationToken) -> None:
        if capacity < 1:
            raise ValueError(f"mailbox capacity must be >= 1, got {capacity}")
        self._items: collections.deque[T] = collections.deque()
        self._capacity = capacity
        self._gauge = metrics.actor_mailbox_depth.labels(actor=kind)
        self._getter: asyncio.Future[None] | None = None
        self._putters: collections.deque[asyncio.Future[None]] = collections.deque()
        self._closed = False
        self._token = token
        token.add_callback(self._wake_getter)

    def __len__(self) -> int:
        return len(self._items)

    @property
    def capacity(self) -> int:
        return self._capacity

    @property
    def closed(self) -> bool:
        return self._closed

    def _push(self, item: T) -> None:
        if self._closed:
            raise ActorStopped("the actor has stopped")
        self._items.append(item)
        self._gauge.inc()
        self._wake_getter()

    def _wake_getter(self) -> None:
        if self._getter is not None and not self._getter.done():
            self._getter.set_result(None)

    def send_nowait(self, item: T) -> None:
        """Enqueue or raise :class:`MailboxFull` / :class:`ActorStopped` at once."""
        if not self._closed and len(self._items) >= self._capacity:
            raise MailboxFull(f"mailbox full ({self._capacity} messages)")
        self._push(item)

    def send_system(self, item: T) -> None:
        """Enqueue past the capacity: for supervision notices that must never be dropped."""
        self._push(item)

    async def send(self, item: T) -> None:
        """Enqueue, waiting for room while the mailbox is full."""
        while not self._closed and len(self._items) >= self._capacity:
            waiter = asyncio.get_running_loop().create_future()
            self._putters.append(waiter)
            try:
                await waiter
            finally:
                if waiter in self._putters:
                    self._putters.remove(waiter)
        self._push(item)

    async def recv(self) -> T | None:
        """The next message, or ``None`` once the owner's token is cancelled.

        Cancellation wins over queued messages: a stopping actor runs its own close logic
        (which may drain what is left) instead of processing requests it can no longer honour.
        """
        while True:
            if self._token.cancelled or self._closed:
                return None
            if self._items:
                item = self._items.popleft()
                self._gauge.dec()
                while self._putters:
                    putter = self._putters.popleft()
                    if not putter.done():
                        putter.set_result(None)
                        break
                return item
            self._getter = asyncio.get_running_loop().create_future()
            try:
                await self._getter
            finally:
                self._getter = None

    def drain(self) -> list[T]:
        """Take every queued message (used by a stopping actor to flush or fail them)."""
        items = list(self._items)
        self._items.clear()
        self._gauge.dec(len(items))
        return items

    def close(self) -> None:
        """Refuse further messages and forget queued ones; wakes every waiter."""
        if self._closed:
            return
        self._closed = True
        self.drain()
        self._wake_getter()
        while self._putters:
            putter = self._putters.popleft()
            if not putter.done():
                putter.set_result(None)
