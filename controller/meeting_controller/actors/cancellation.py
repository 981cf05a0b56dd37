"""A hierarchical cancellation token (the shape of tokio-util's ``CancellationToken``).

Cancelling a token cancels all tokens derived from it with :meth:`CancellationToken.child`,
but a child can be cancelled alone without touching its parent. This is how the root
shutdown reaches every meeting and every connection, while a single meeting can still be
closed on its own.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable


class CancellationToken:
    """A one-shot, hierarchical cancellation flag that tasks can wait on."""

    def __init__(self) -> None:
        self._cancelled = False
        self._event: asyncio.Event | None = None
        self._callbacks: list[Callable[[], None]] = []
        self._children: list[CancellationToken] = []

    @property
    def cancelled(self) -> bool:
        return self._cancelled

    def child(self) -> CancellationToken:
        """A token that is cancelled with this one (or on its own)."""
        token = CancellationToken()
        if self._cancelled:
            token.cancel()
        else:
            self._children.append(token)
            token.add_callback(lambda: self._forget(token))
        return token

    def _forget(self, child: CancellationToken) -> None:
        # A cancelled child no longer needs to be reached; keeps long-lived parents small.
        if not self._cancelled and child in self._children:
            self._children.remove(child)

    def add_callback(self, callback: Callable[[], None]) -> None:
        """Run ``callback`` once on cancellation (immediately if already cancelled)."""
        if self._cancelled:
            callback()
        else:
            self._callbacks.append(callback)

    def cancel(self) -> None:
        """Cancel this token and every descendant; idempotent."""
        if self._cancelled:
            return
        self._cancelled = True
        if self._event is not None:
            self._event.set()
        callbacks, self._callbacks = self._callbacks, []
        for callback in callbacks:
            callback()
        children, self._children = self._children, []
        for child in children:
            child.cancel()

    async def wait(self) -> None:
        """Return once the token is cancelled."""
        if self._cancelled:
            return
        if self._event is None:
            self._event = asyncio.Event()
        await self._event.wait()
