"""RateMetrics: publish and consume rates per topic (and consume rates per subscription) over
the last minute, for topic and subscription stats."""

from __future__ import annotations

import time
from collections import defaultdict, deque
from collections.abc import Callable

from pubsubgo.services.metrics import NullMetrics

#: Rates are averaged over this window: long enough to smooth bursts, short enough to show
#: a stalled consumer within a minute.
RATE_WINDOW_SECONDS = 60


class _Counter:
    """Counts per whole second for the last RATE_WINDOW_SECONDS seconds."""

    __slots__ = ("_buckets",)

    def __init__(self) -> None:
        self._buckets: deque[list[int]] = deque()

    def add(self, second: int, count: int) -> None:
        if self._buckets and self._buckets[-1][0] == second:
            self._buckets[-1][1] += count
        else:
            self._buckets.append([second, count])
        self._forget(second)

    def per_second(self, second: int) -> float:
        self._forget(second)
        return sum(count for _, count in self._buckets) / RATE_WINDOW_SECONDS

    def _forget(self, second: int) -> None:
        while self._buckets and self._buckets[0][0] <= second - RATE_WINDOW_SECONDS:
            self._buckets.popleft()


class RateMetrics(NullMetrics):
    """BrokerMetrics that keeps per-topic publish and delivery rates of this process (and
    ignores the other reports).

    Args:
        monotonic: the time source, monotonic seconds (tests may pass their own).
    """

    def __init__(self, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._now = monotonic
        self._published: defaultdict[str, _Counter] = defaultdict(_Counter)
        self._consumed: defaultdict[str, _Counter] = defaultdict(_Counter)
        self._consumed_by_subscription: defaultdict[str, _Counter] = defaultdict(_Counter)

    def rates(self, topic: str) -> tuple[float, float]:
        """Messages per second published to and delivered from ``topic`` (all subscriptions)."""
        second = int(self._now())
        published = self._published.get(topic)
        consumed = self._consumed.get(topic)
        return (
            published.per_second(second) if published else 0.0,
            consumed.per_second(second) if consumed else 0.0,
        )

    def subscription_rate(self, subscription: str) -> float:
        """Messages per second delivered from ``subscription``."""
        consumed = self._consumed_by_subscription.get(subscription)
        return consumed.per_second(int(self._now())) if consumed else 0.0

    def published(self, topic: str, count: int, latency_seconds: float) -> None:
        self._published[topic].add(int(self._now()), count)

    def delivered(self, topic: str, subscription: str, count: int, redelivered: int) -> None:
        if count:
            second = int(self._now())
            self._consumed[topic].add(second, count)
            self._consumed_by_subscription[subscription].add(second, count)
