"""The per-connection token bucket and its at-most-one-warning-per-second policy."""

from __future__ import annotations

import itertools
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from meeting_controller.core.ratelimit import (
    DEFAULT_WARN_INTERVAL,
    TOKEN_EPSILON,
    TokenBucket,
    Verdict,
)


def test_a_fresh_bucket_allows_a_full_burst_then_refuses() -> None:
    bucket = TokenBucket(rate_per_second=10, burst=5, now=100.0)
    assert [bucket.allow(100.0) for _ in range(6)] == [True] * 5 + [False]
    assert bucket.dropped == 1


def test_the_bucket_refills_at_the_rate() -> None:
    bucket = TokenBucket(rate_per_second=10, burst=5, now=0.0)
    for _ in range(5):
        assert bucket.allow(0.0)
    assert not bucket.allow(0.05)  # half a token
    assert bucket.allow(0.1)  # one token after 100 ms
    assert not bucket.allow(0.1)
    assert [bucket.allow(0.35) for _ in range(3)] == [True, True, False]  # 2.5 tokens


def test_refill_stops_at_the_burst() -> None:
    bucket = TokenBucket(rate_per_second=10, burst=3, now=0.0)
    assert bucket.tokens(3600.0) == 3.0
    assert [bucket.allow(3600.0) for _ in range(4)] == [True, True, True, False]


@pytest.mark.parametrize("start", [0.0, 1e6, 3.7e8])  # monotonic clocks can be large
@pytest.mark.parametrize("rate", [1, 3, 20, 1000])
def test_a_sustained_stream_at_the_rate_is_always_allowed(start: float, rate: int) -> None:
    # Float rounding (20 * (0.15 - 0.1) < 1) must not refuse a client that keeps to the rate.
    bucket = TokenBucket(rate_per_second=rate, burst=1, now=start)
    assert all(bucket.allow(start + i / rate) for i in range(1, 2000))
    assert bucket.dropped == 0


def test_refused_messages_cost_nothing() -> None:
    bucket = TokenBucket(rate_per_second=1, burst=1, now=0.0)
    assert bucket.allow(0.0)
    for _ in range(1000):
        assert not bucket.allow(0.5)
    assert bucket.allow(1.0)  # the flood did not push the next token further away
    assert bucket.dropped == 1000


def test_a_clock_that_goes_back_adds_no_tokens_and_does_not_break_refill() -> None:
    bucket = TokenBucket(rate_per_second=1, burst=1, now=10.0)
    assert bucket.allow(10.0)
    assert not bucket.allow(5.0)
    assert not bucket.allow(10.5)
    assert bucket.allow(11.0)


def test_properties_report_the_configuration() -> None:
    bucket = TokenBucket(rate_per_second=2.5, burst=4, now=0.0)
    assert (bucket.rate_per_second, bucket.burst, bucket.dropped) == (2.5, 4, 0)


@pytest.mark.parametrize(
    ("rate", "burst", "warn", "now"),
    [
        (0, 1, 1.0, 0.0),
        (-1, 1, 1.0, 0.0),
        (math.inf, 1, 1.0, 0.0),
        (math.nan, 1, 1.0, 0.0),
        (1, 0, 1.0, 0.0),
        (1, 1.5, 1.0, 0.0),
        (1, True, 1.0, 0.0),
        (1, 1, -1.0, 0.0),
        (1, 1, math.nan, 0.0),
        (1, 1, 1.0, math.nan),
    ],
)
def test_invalid_parameters_are_refused(rate: float, burst: int, warn: float, now: float) -> None:
    with pytest.raises(ValueError, match=r"rate_per_second|burst|warn_interval|now"):
        TokenBucket(rate_per_second=rate, burst=burst, now=now, warn_interval=warn)


# --- the warning policy --------------------------------------------------------------------


def test_the_first_refusal_warns_and_the_rest_of_that_second_is_silent() -> None:
    bucket = TokenBucket(rate_per_second=1, burst=1, now=0.0)
    assert bucket.check(0.0) is Verdict.ALLOW
    assert bucket.check(0.1) is Verdict.DROP_AND_WARN
    assert [bucket.check(0.1 + i / 100) for i in range(1, 80)] == [Verdict.DROP] * 79


def test_a_flooding_client_gets_one_warning_per_second() -> None:
    bucket = TokenBucket(rate_per_second=1, burst=1, now=0.0)
    verdicts = [(t / 1000, bucket.check(t / 1000)) for t in range(0, 9_500)]  # 1000 msg/s
    warnings = [t for t, verdict in verdicts if verdict is Verdict.DROP_AND_WARN]
    assert len(warnings) == 10
    assert all(later - earlier >= 1.0 for earlier, later in itertools.pairwise(warnings))
    assert sum(verdict is Verdict.ALLOW for _, verdict in verdicts) == 10  # 1 burst + 9 refills


def test_no_warning_once_the_client_slows_down() -> None:
    bucket = TokenBucket(rate_per_second=1, burst=1, now=0.0)
    assert bucket.check(0.0) is Verdict.ALLOW
    assert bucket.check(0.0) is Verdict.DROP_AND_WARN
    assert [bucket.check(float(t)) for t in range(1, 10)] == [Verdict.ALLOW] * 9


def test_should_warn_is_due_again_exactly_at_the_interval() -> None:
    bucket = TokenBucket(rate_per_second=1, burst=1, now=0.0)
    assert bucket.should_warn(5.0)
    assert not bucket.should_warn(5.0 + DEFAULT_WARN_INTERVAL - 1e-9)
    assert bucket.should_warn(5.0 + DEFAULT_WARN_INTERVAL)


def test_the_warn_interval_is_configurable() -> None:
    bucket = TokenBucket(rate_per_second=1, burst=1, now=0.0, warn_interval=5.0)
    assert bucket.should_warn(0.0)
    assert not bucket.should_warn(4.9)
    assert bucket.should_warn(5.0)


# --- properties ----------------------------------------------------------------------------

rates = st.floats(min_value=0.01, max_value=1000, allow_nan=False)
bursts = st.integers(min_value=1, max_value=50)
gaps = st.lists(st.floats(min_value=0, max_value=2, allow_nan=False), min_size=1, max_size=300)


@given(rate=rates, burst=bursts, gaps=gaps, start=st.floats(min_value=0, max_value=1e6))
def test_never_more_than_burst_plus_rate_times_elapsed_are_allowed(
    rate: float, burst: int, gaps: list[float], start: float
) -> None:
    bucket = TokenBucket(rate_per_second=rate, burst=burst, now=start)
    now = start
    allowed_at: list[float] = []
    for gap in gaps:
        now += gap
        if bucket.allow(now):
            allowed_at.append(now)
    # Over every window between two allowed messages, not only from the start.
    for i, first in enumerate(allowed_at):
        for j in range(i, len(allowed_at)):
            count = j - i + 1
            elapsed = allowed_at[j] - first
            assert count <= burst + rate * elapsed + TOKEN_EPSILON + 1e-9 * rate * elapsed


@given(rate=rates, burst=bursts, gaps=gaps)
def test_warnings_are_at_least_one_interval_apart(
    rate: float, burst: int, gaps: list[float]
) -> None:
    bucket = TokenBucket(rate_per_second=rate, burst=burst, now=0.0)
    now = 0.0
    warned_at: list[float] = []
    for gap in gaps:
        now += gap
        if bucket.check(now) is Verdict.DROP_AND_WARN:
            warned_at.append(now)
    assert all(b - a >= DEFAULT_WARN_INTERVAL for a, b in itertools.pairwise(warned_at))


@given(rate=rates, burst=bursts, gaps=gaps)
def test_a_client_within_its_burst_after_a_full_refill_is_never_refused(
    rate: float, burst: int, gaps: list[float]
) -> None:
    bucket = TokenBucket(rate_per_second=rate, burst=burst, now=0.0)
    now = 0.0
    for gap in gaps:
        now += gap
        bucket.allow(now)
    now += burst / rate + 1e-3  # long enough to refill completely
    assert all(bucket.allow(now) for _ in range(burst))
    assert not bucket.allow(now)
