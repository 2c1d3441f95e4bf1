"""NullMetrics: the BrokerMetrics that records nothing, for when metrics are off."""

from __future__ import annotations


class NullMetrics:
    """BrokerMetrics that ignores every report."""

    def published(self, topic: str, count: int, latency_seconds: float) -> None:
        return None

    def delivered(self, topic: str, subscription: str, count: int, redelivered: int) -> None:
        return None

    def acked(self, topic: str, subscription: str, ages_seconds: list[float]) -> None:
        return None

    def nacked(self, topic: str, subscription: str, count: int) -> None:
        return None

    def dead_lettered(self, topic: str, subscription: str, count: int) -> None:
        return None

    def expired(self, topic: str, subscription: str, count: int) -> None:
        return None

    def rebalanced(self, subscription: str, members: int) -> None:
        return None
