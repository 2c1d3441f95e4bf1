"""FanOutMetrics: one BrokerMetrics that reports to several (Prometheus, the stats rates)."""

from __future__ import annotations

from pubsubgo.ports.metrics import BrokerMetrics


class FanOutMetrics:
    """BrokerMetrics that forwards every report to each of ``sinks``, in order."""

    def __init__(self, *sinks: BrokerMetrics) -> None:
        self._sinks = sinks

    def published(self, topic: str, count: int, latency_seconds: float) -> None:
        for sink in self._sinks:
            sink.published(topic, count, latency_seconds)

    def delivered(self, topic: str, subscription: str, count: int, redelivered: int) -> None:
        for sink in self._sinks:
            sink.delivered(topic, subscription, count, redelivered)

    def acked(self, topic: str, subscription: str, ages_seconds: list[float]) -> None:
        for sink in self._sinks:
            sink.acked(topic, subscription, ages_seconds)

    def nacked(self, topic: str, subscription: str, count: int) -> None:
        for sink in self._sinks:
            sink.nacked(topic, subscription, count)

    def dead_lettered(self, topic: str, subscription: str, count: int) -> None:
        for sink in self._sinks:
            sink.dead_lettered(topic, subscription, count)

    def expired(self, topic: str, subscription: str, count: int) -> None:
        for sink in self._sinks:
            sink.expired(topic, subscription, count)

    def rebalanced(self, subscription: str, members: int) -> None:
        for sink in self._sinks:
            sink.rebalanced(subscription, members)
