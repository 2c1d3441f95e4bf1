"""The BrokerMetrics port: counters the services report to."""

from __future__ import annotations

from typing import Protocol


class BrokerMetrics(Protocol):
    """Receives what happens to messages. Labels are topic and subscription names only."""

    def published(self, topic: str, count: int, latency_seconds: float) -> None:
        """``count`` messages were stored, the batch taking ``latency_seconds``."""
        ...

    def delivered(self, topic: str, subscription: str, count: int, redelivered: int) -> None:
        """``count`` deliveries were handed out, ``redelivered`` of them not for the first time."""
        ...

    def acked(self, topic: str, subscription: str, ages_seconds: list[float]) -> None:
        """Messages were acknowledged, each ``age`` seconds after it was published."""
        ...

    def nacked(self, topic: str, subscription: str, count: int) -> None:
        """Deliveries were negatively acknowledged."""
        ...

    def dead_lettered(self, topic: str, subscription: str, count: int) -> None:
        """Messages ran out of attempts and went to the dead-letter topic."""
        ...

    def expired(self, topic: str, subscription: str, count: int) -> None:
        """Messages reached their TTL before delivery and were dropped."""
        ...

    def rebalanced(self, subscription: str, members: int) -> None:
        """The group of ``subscription`` has a new generation with ``members`` members."""
        ...
