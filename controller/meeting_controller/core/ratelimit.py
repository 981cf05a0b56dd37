"""Per-connection rate limiting of signaling messages: a token bucket, pure, ``now`` passed in.

Why a token bucket: a client may legitimately send a short burst (a join followed by a few
mute toggles), but a sustained stream above the configured rate is a bug or abuse and must not
cost the meeting actor more than the rate allows. The bucket holds at most ``burst`` tokens,
starts full, gains ``rate_per_second`` tokens per second, and every message spends one. So over
any interval of ``t`` seconds at most ``burst + rate_per_second * t`` messages are allowed.

Warning policy (why it exists: answering every refused message with an error would let a
flooding client turn the MC into an amplifier of its own flood):

* the first refused message gets an ``ERROR_CODE_RATE_LIMITED`` error;
* further refused messages are dropped silently until ``warn_interval`` seconds (1 s by default)
  have passed since the last warning; the next refused message after that gets one again.

So a client receives at most one ``RATE_LIMITED`` error per ``warn_interval``, however fast it
sends, and a client that slows down below the rate receives none. Refused messages are dropped,
never queued; the connection stays open (closing it is the adapter's decision, e.g. from
:attr:`TokenBucket.dropped`).

``now`` is a monotonic clock in seconds (``time.monotonic()`` or the loop's ``time()``), never
wall time: a wall clock that steps back would stop the refill. A ``now`` earlier than the last
one seen is treated as "no time passed".
"""

from __future__ import annotations

import enum
import math

#: Slack in the "is there a whole token" test. Clocks and rates are floats: a client sending at
#: exactly the rate would otherwise be refused now and then, because 20 * (0.15 - 0.1) is
#: 0.9999999999999998 and because a large monotonic clock (1e7 s of uptime) has a resolution of
#: about 2e-9 s, i.e. 2e-6 tokens at 1000/s. The slack is no loss of protection: a token taken
#: with it leaves the bucket that far below zero, to be earned back, so over any interval it
#: allows at most this fraction of one extra message, not one per message.
TOKEN_EPSILON = 1e-3

#: The default minimum spacing of two ``RATE_LIMITED`` errors to one client, in seconds.
DEFAULT_WARN_INTERVAL = 1.0


class Verdict(enum.Enum):
    """What to do with one incoming message (see :meth:`TokenBucket.check`)."""

    ALLOW = "allow"
    """Within the rate: handle the message."""
    DROP_AND_WARN = "drop_and_warn"
    """Over the rate: drop the message and answer ``ERROR_CODE_RATE_LIMITED``."""
    DROP = "drop"
    """Over the rate and warned recently: drop the message without an answer."""


class TokenBucket:
    """A token bucket for one connection; not thread-safe (one connection, one task)."""

    def __init__(
        self,
        *,
        rate_per_second: float,
        burst: int,
        now: float,
        warn_interval: float = DEFAULT_WARN_INTERVAL,
    ) -> None:
        """Start full: a fresh connection may send ``burst`` messages at once.

        Invalid parameters are a configuration bug (the settings validate them first), hence
        ``ValueError``.
        """
        if not (math.isfinite(rate_per_second) and rate_per_second > 0):
            raise ValueError(f"rate_per_second must be positive and finite, not {rate_per_second}")
        if isinstance(burst, bool) or not isinstance(burst, int) or burst < 1:
            raise ValueError(f"burst must be an integer of at least 1, not {burst!r}")
        if not (math.isfinite(warn_interval) and warn_interval >= 0):
            raise ValueError(f"warn_interval must be non-negative and finite, not {warn_interval}")
        if not math.isfinite(now):
            raise ValueError(f"now must be finite, not {now}")
        self._rate = float(rate_per_second)
        self._burst = burst
        self._warn_interval = float(warn_interval)
        self._tokens = float(burst)
        self._last = now
        self._last_warning: float | None = None
        self._dropped = 0

    @property
    def rate_per_second(self) -> float:
        """Tokens gained per second (the sustained message rate allowed)."""
        return self._rate

    @property
    def burst(self) -> int:
        """The bucket's capacity (the largest burst allowed after a quiet period)."""
        return self._burst

    @property
    def dropped(self) -> int:
        """How many messages :meth:`allow` has refused so far (for metrics and logs)."""
        return self._dropped

    def tokens(self, now: float) -> float:
        """The tokens available at ``now`` (refills first; does not consume)."""
        self._refill(now)
        return self._tokens

    def allow(self, now: float) -> bool:
        """Spend one token for a message arriving at ``now``; False when the bucket is empty.

        A refused message costs nothing: a client that keeps flooding regains its rate as soon
        as it slows down, instead of being punished for the messages it was refused.
        """
        self._refill(now)
        if self._tokens >= 1.0 - TOKEN_EPSILON:
            self._tokens -= 1.0
            return True
        self._dropped += 1
        return False

    def should_warn(self, now: float) -> bool:
        """Whether a message refused at ``now`` gets a ``RATE_LIMITED`` error (see the policy).

        Records the warning when it answers True, so call it once per refused message, and
        only for refused messages.
        """
        if self._last_warning is not None and now - self._last_warning < self._warn_interval:
            return False
        self._last_warning = now
        return True

    def check(self, now: float) -> Verdict:
        """:meth:`allow` and :meth:`should_warn` in one call: the usual way to use the bucket."""
        if self.allow(now):
            return Verdict.ALLOW
        return Verdict.DROP_AND_WARN if self.should_warn(now) else Verdict.DROP

    def _refill(self, now: float) -> None:
        elapsed = now - self._last
        if elapsed > 0:  # also False for NaN; a clock that went back adds nothing
            self._tokens = min(float(self._burst), self._tokens + elapsed * self._rate)
            self._last = now
