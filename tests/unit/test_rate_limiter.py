"""RateLimiter: a token bucket per caller, driven by a hand-set clock."""

from __future__ import annotations

import pytest

from pubsubgo.adapters.wire.ratelimit import RateLimiter


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class TestRateLimiter:
    def test_a_full_bucket_lets_the_burst_through_then_says_how_long_to_wait(self) -> None:
        clock = Clock()
        limiter = RateLimiter(rate=2.0, burst=3, clock=clock)
        assert [limiter.take("a") for _ in range(3)] == [0.0, 0.0, 0.0]
        assert limiter.take("a") == pytest.approx(0.5)

    def test_tokens_come_back_at_the_rate_and_never_beyond_the_burst(self) -> None:
        clock = Clock()
        limiter = RateLimiter(rate=2.0, burst=2, clock=clock)
        limiter.take("a"), limiter.take("a")
        clock.now += 0.5
        assert limiter.take("a") == 0.0
        assert limiter.take("a") > 0
        clock.now += 3600
        assert [limiter.take("a") for _ in range(3)][:2] == [0.0, 0.0]

    def test_a_refused_request_spends_nothing(self) -> None:
        clock = Clock()
        limiter = RateLimiter(rate=1.0, burst=1, clock=clock)
        limiter.take("a")
        for _ in range(10):
            assert limiter.take("a") > 0
        clock.now += 1.0
        assert limiter.take("a") == 0.0

    def test_callers_have_buckets_of_their_own(self) -> None:
        limiter = RateLimiter(rate=1.0, burst=1, clock=Clock())
        assert (limiter.take("a"), limiter.take("b")) == (0.0, 0.0)
        assert limiter.take("a") > 0

    def test_the_default_burst_is_one_seconds_worth(self) -> None:
        assert RateLimiter(rate=0.2).burst == 1
        assert RateLimiter(rate=7.5).burst == 8

    def test_memory_stays_bounded_however_many_callers_come(self) -> None:
        limiter = RateLimiter(rate=1.0, clock=Clock(), max_buckets=100)
        for caller in range(10_000):
            limiter.take(f"address:{caller}")
        assert len(limiter) == 100
