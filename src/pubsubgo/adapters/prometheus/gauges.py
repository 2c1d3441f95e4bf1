"""StorageGauges: backlog, age and membership read from storage on a timer, not per scrape.

Reading every subscription's state costs storage round trips; a scrape every few seconds by
several Prometheus servers must not multiply that. A background duty calls ``refresh``; a
scrape only reads the last snapshot.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector, CollectorRegistry

from pubsubgo.core.errors import PubSubError
from pubsubgo.services.broker import Broker

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class _Snapshot:
    backlog: dict[tuple[str, str], float] = field(default_factory=dict)
    oldest_age: dict[tuple[str, str], float] = field(default_factory=dict)
    members: dict[str, float] = field(default_factory=dict)
    topic_messages: dict[str, float] = field(default_factory=dict)
    topic_bytes: dict[str, float] = field(default_factory=dict)


class StorageGauges(Collector):
    """Gauges computed from storage by ``refresh``."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self._snapshot = _Snapshot()
        registry.register(self)

    async def refresh(self, broker: Broker) -> None:
        """Read every topic and subscription once and replace the snapshot."""
        snapshot = _Snapshot()
        for topic in await broker.topics.list():
            try:
                stats = (await broker.topics.describe(topic.name)).stats
            except PubSubError:
                continue  # deleted meanwhile
            snapshot.topic_messages[topic.name] = stats.messages
            snapshot.topic_bytes[topic.name] = stats.bytes
        for subscription in await broker.subscriptions.list():
            try:
                described = await broker.subscriptions.describe(subscription.name)
            except PubSubError:
                continue
            key = (subscription.topic, subscription.name)
            snapshot.backlog[key] = described.stats.backlog
            snapshot.oldest_age[key] = described.stats.oldest_unacked_age_seconds
            snapshot.members[subscription.name] = len(described.group.members)
        self._snapshot = snapshot

    def collect(self) -> Iterator[GaugeMetricFamily]:
        snapshot = self._snapshot
        yield _family(
            "pubsubgo_subscription_backlog",
            "Messages not yet acknowledged by the subscription (unread, waiting or in flight).",
            ("topic", "subscription"),
            snapshot.backlog.items(),
        )
        yield _family(
            "pubsubgo_subscription_oldest_unacked_age_seconds",
            "Age of the subscription's oldest unacknowledged message.",
            ("topic", "subscription"),
            snapshot.oldest_age.items(),
        )
        yield _family(
            "pubsubgo_consumer_group_members",
            "Members in the subscription's consumer group.",
            ("subscription",),
            (((k,), v) for k, v in snapshot.members.items()),
        )
        yield _family(
            "pubsubgo_topic_messages",
            "Messages stored in the topic.",
            ("topic",),
            (((k,), v) for k, v in snapshot.topic_messages.items()),
        )
        yield _family(
            "pubsubgo_topic_bytes",
            "Bytes stored in the topic (after compression).",
            ("topic",),
            (((k,), v) for k, v in snapshot.topic_bytes.items()),
        )

    def describe(self) -> Iterator[GaugeMetricFamily]:
        return iter(())


def _family(
    name: str,
    documentation: str,
    labels: tuple[str, ...],
    values: Iterable[tuple[tuple[str, ...], float]],
) -> GaugeMetricFamily:
    family = GaugeMetricFamily(name, documentation, labels=list(labels))
    for label_values, value in values:
        family.add_metric(list(label_values), value)
    return family
