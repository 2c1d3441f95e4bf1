"""Contract: ordered subscriptions keep each key in order, one message in flight per key."""

from __future__ import annotations

from pubsubgo.core.messages import Priority
from pubsubgo.core.subscriptions import RetryPolicy
from pubsubgo.runtime.clock import ManualClock
from pubsubgo.services.broker import Broker
from tests.contract.helpers import new_subscription, new_topic, payloads, publish, pull


class TestOrderingKeys:
    async def test_a_keys_next_message_waits_for_the_previous_ack(self, broker: Broker) -> None:
        topic = await new_topic(broker)
        subscription = await new_subscription(broker, topic, ordered=True)
        await publish(broker, topic, "k1", "k2", "k3", key="account-7")

        first = await pull(broker, subscription)
        blocked = await pull(broker, subscription)
        await broker.acks.ack(subscription, [first[0].ack_id])
        second = await pull(broker, subscription)

        assert payloads(first) == ["k1"]
        assert blocked == []
        assert payloads(second) == ["k2"]

    async def test_different_keys_proceed_in_parallel(self, broker: Broker) -> None:
        topic = await new_topic(broker)
        subscription = await new_subscription(broker, topic, ordered=True)
        await publish(broker, topic, "a1", key="a")
        await publish(broker, topic, "b1", key="b")
        await publish(broker, topic, "a2", key="a")
        await publish(broker, topic, "b2", key="b")

        assert payloads(await pull(broker, subscription)) == ["a1", "b1"]

    async def test_a_redelivered_message_keeps_its_place_ahead_of_its_key(
        self, broker: Broker, clock: ManualClock
    ) -> None:
        topic = await new_topic(broker)
        retry = RetryPolicy(minimum_backoff_seconds=5, maximum_backoff_seconds=5)
        subscription = await new_subscription(broker, topic, ordered=True, retry_policy=retry)
        await publish(broker, topic, "first", "second", key="k")
        [first] = await pull(broker, subscription)

        await broker.acks.nack(subscription, [first.ack_id])
        during_backoff = await pull(broker, subscription)
        clock.advance(5)
        [retried] = await pull(broker, subscription)
        await broker.acks.ack(subscription, [retried.ack_id])

        assert during_backoff == []
        assert retried.message.data == b"first"
        assert payloads(await pull(broker, subscription)) == ["second"]

    async def test_ordered_delivery_follows_publish_order_not_priority(
        self, broker: Broker
    ) -> None:
        topic = await new_topic(broker)
        subscription = await new_subscription(broker, topic, ordered=True)
        await publish(broker, topic, "low-first", key="k", priority=Priority.LOW)
        await publish(broker, topic, "critical-second", key="k", priority=Priority.CRITICAL)

        [first] = await pull(broker, subscription)
        await broker.acks.ack(subscription, [first.ack_id])

        assert first.message.data == b"low-first"
        assert payloads(await pull(broker, subscription)) == ["critical-second"]

    async def test_an_expired_message_lets_its_key_continue(
        self, broker: Broker, clock: ManualClock
    ) -> None:
        topic = await new_topic(broker)
        subscription = await new_subscription(broker, topic, ordered=True)
        await publish(broker, topic, "doomed", key="k", ttl_seconds=5)
        await publish(broker, topic, "next", key="k")

        clock.advance(6)

        assert payloads(await pull(broker, subscription)) == ["next"]

    async def test_a_dead_lettered_message_lets_its_key_continue(self, broker: Broker) -> None:
        topic = await new_topic(broker)
        dead = await new_topic(broker)
        subscription = await new_subscription(
            broker,
            topic,
            ordered=True,
            max_delivery_attempts=1,
            dead_letter_topic=dead,
            retry_policy=RetryPolicy(0, 0),
        )
        await publish(broker, topic, "poison", "after", key="k")
        [poison] = await pull(broker, subscription)

        await broker.acks.nack(subscription, [poison.ack_id])

        assert payloads(await pull(broker, subscription)) == ["after"]
