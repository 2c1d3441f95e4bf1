"""The Prometheus adapter: series move as messages are published, acked, nacked, dead-lettered."""

from __future__ import annotations

import pytest
from prometheus_client import CollectorRegistry

from pubsubgo.adapters.memory import memory_storage
from pubsubgo.adapters.prometheus.gauges import StorageGauges
from pubsubgo.adapters.prometheus.metrics import PrometheusMetrics
from pubsubgo.containers import build_broker
from pubsubgo.core.messages import PublishRequest
from pubsubgo.core.subscriptions import RetryPolicy, StartPosition, Subscription
from pubsubgo.core.topics import Topic
from pubsubgo.runtime.clock import ManualClock
from pubsubgo.services.broker import Broker


@pytest.fixture
def registry() -> CollectorRegistry:
    return CollectorRegistry()


@pytest.fixture
async def broker(registry: CollectorRegistry, clock: ManualClock) -> Broker:
    broker = build_broker(memory_storage(), clock, metrics=PrometheusMetrics(registry))
    await broker.topics.create(Topic("orders"))
    await broker.topics.create(Topic("orders-dead"))
    await broker.subscriptions.create(
        Subscription(
            "billing",
            "orders",
            start=StartPosition.EARLIEST,
            max_delivery_attempts=2,
            dead_letter_topic="orders-dead",
            retry_policy=RetryPolicy(0, 0),
        )
    )
    return broker


def sample(registry: CollectorRegistry, name: str, **labels: str) -> float:
    return registry.get_sample_value(name, labels) or 0.0


class TestCounters:
    async def test_publish_consume_and_ack_are_counted_per_topic_and_subscription(
        self, broker: Broker, registry: CollectorRegistry, clock: ManualClock
    ) -> None:
        await broker.publisher.publish("orders", [PublishRequest(data=b"x")] * 3)
        deliveries = await broker.subscriber.pull("billing", 10)
        clock.advance(0.2)

        await broker.acks.ack("billing", [d.ack_id for d in deliveries])

        labels = {"topic": "orders", "subscription": "billing"}
        assert sample(registry, "pubsubgo_messages_published_total", topic="orders") == 3
        assert sample(registry, "pubsubgo_messages_consumed_total", **labels) == 3
        assert sample(registry, "pubsubgo_messages_acked_total", **labels) == 3
        assert sample(registry, "pubsubgo_message_latency_seconds_count", **labels) == 3
        assert sample(registry, "pubsubgo_message_latency_seconds_sum", **labels) == (
            pytest.approx(0.6)
        )
        assert sample(registry, "pubsubgo_message_latency_seconds_bucket", le="0.25", **labels) == 3
        assert sample(registry, "pubsubgo_publish_latency_seconds_count", topic="orders") == 1

    async def test_nacks_redeliveries_and_dead_letters_are_counted(
        self, broker: Broker, registry: CollectorRegistry
    ) -> None:
        await broker.publisher.publish("orders", [PublishRequest(data=b"poison")])

        for _ in range(2):
            [delivery] = await broker.subscriber.pull("billing", 1)
            await broker.acks.nack("billing", [delivery.ack_id])

        labels = {"topic": "orders", "subscription": "billing"}
        assert sample(registry, "pubsubgo_messages_nacked_total", **labels) == 2
        assert sample(registry, "pubsubgo_messages_redelivered_total", **labels) == 1
        assert sample(registry, "pubsubgo_messages_dead_lettered_total", **labels) == 1
        assert sample(registry, "pubsubgo_messages_published_total", topic="orders-dead") == 1

    async def test_expired_messages_are_counted(
        self, broker: Broker, registry: CollectorRegistry, clock: ManualClock
    ) -> None:
        await broker.publisher.publish("orders", [PublishRequest(data=b"x", ttl_seconds=1)])
        clock.advance(2)

        assert await broker.subscriber.pull("billing", 1) == []

        labels = {"topic": "orders", "subscription": "billing"}
        assert sample(registry, "pubsubgo_messages_expired_total", **labels) == 1

    async def test_joins_count_as_rebalances(
        self, broker: Broker, registry: CollectorRegistry
    ) -> None:
        await broker.groups.join("billing")
        await broker.groups.join("billing")

        assert (
            sample(registry, "pubsubgo_consumer_group_rebalances_total", subscription="billing")
            == 2
        )


class TestStorageGauges:
    async def test_a_refresh_reports_backlog_age_members_and_depth(
        self, broker: Broker, registry: CollectorRegistry, clock: ManualClock
    ) -> None:
        gauges = StorageGauges(registry)
        await broker.publisher.publish("orders", [PublishRequest(data=b"abc")] * 4)
        await broker.groups.join("billing")
        clock.advance(30)

        before = sample(
            registry, "pubsubgo_subscription_backlog", topic="orders", subscription="billing"
        )
        await gauges.refresh(broker)

        labels = {"topic": "orders", "subscription": "billing"}
        assert before == 0  # nothing is read from storage until a refresh
        assert sample(registry, "pubsubgo_subscription_backlog", **labels) == 4
        assert sample(registry, "pubsubgo_subscription_oldest_unacked_age_seconds", **labels) == 30
        assert sample(registry, "pubsubgo_consumer_group_members", subscription="billing") == 1
        assert sample(registry, "pubsubgo_topic_messages", topic="orders") == 4
        assert sample(registry, "pubsubgo_topic_bytes", topic="orders") == 12

    async def test_series_are_labelled_only_by_bounded_names(
        self, broker: Broker, registry: CollectorRegistry
    ) -> None:
        gauges = StorageGauges(registry)
        await broker.publisher.publish("orders", [PublishRequest(data=b"x")])
        await broker.groups.join("billing")
        await gauges.refresh(broker)

        label_names = {
            name for family in registry.collect() for s in family.samples for name in s.labels
        }

        assert label_names <= {
            "topic",
            "subscription",
            "kind",
            "code",
            "method",
            "route",
            "status",
            "le",
        }
        assert {"topic", "subscription"} <= label_names
