"""Contract: a subscription's ``max_backlog`` bounds what it holds unsettled: over it, a
publish is refused (overflow ``reject``) or the subscription skips its oldest undelivered
messages (``drop_oldest``); acks free room, and other subscriptions are not affected."""

from __future__ import annotations

import pytest

from pubsubgo.core.errors import InvalidSetting, SubscriptionBacklogFull
from pubsubgo.core.subscriptions import Subscription
from pubsubgo.core.topics import Overflow
from pubsubgo.services.broker import Broker
from tests.contract.helpers import new_subscription, new_topic, payloads, publish, pull

DROP_OLDEST = Overflow.DROP_OLDEST


class TestReject:
    async def test_a_publish_over_the_bound_stores_nothing_and_names_the_subscription(
        self, broker: Broker
    ) -> None:
        topic = await new_topic(broker)
        bounded = await new_subscription(broker, topic, max_backlog=3)
        other = await new_subscription(broker, topic)
        await publish(broker, topic, "a", "b")

        with pytest.raises(SubscriptionBacklogFull) as refused:
            await publish(broker, topic, "c", "d")

        assert (refused.value.subscription, refused.value.max_backlog) == (bounded, 3)
        assert (await broker.topics.describe(topic)).stats.messages == 2
        assert payloads(await pull(broker, other)) == ["a", "b"]

    async def test_acks_free_room_but_deliveries_in_flight_do_not(self, broker: Broker) -> None:
        topic = await new_topic(broker)
        sub = await new_subscription(broker, topic, max_backlog=2)
        await publish(broker, topic, "a", "b")
        deliveries = await pull(broker, sub)

        with pytest.raises(SubscriptionBacklogFull):
            await publish(broker, topic, "c")
        await broker.acks.ack(sub, [deliveries[0].ack_id])
        await publish(broker, topic, "c")

        assert (await broker.subscriptions.describe(sub)).stats.backlog == 2

    async def test_a_duplicate_takes_no_room(self, broker: Broker) -> None:
        topic = await new_topic(broker)
        await new_subscription(broker, topic, max_backlog=1)
        [first] = await publish(broker, topic, "a", dedup_id="once")

        assert await publish(broker, topic, "a", dedup_id="once") == [first]

    async def test_a_deleted_subscription_bounds_nothing(self, broker: Broker) -> None:
        topic = await new_topic(broker)
        sub = await new_subscription(broker, topic, max_backlog=1)
        await publish(broker, topic, "a")

        await broker.subscriptions.delete(sub)

        assert len(await publish(broker, topic, "b", "c")) == 2


class TestDropOldest:
    async def test_the_oldest_undelivered_messages_are_skipped(self, broker: Broker) -> None:
        topic = await new_topic(broker)
        sub = await new_subscription(broker, topic, max_backlog=3, overflow=DROP_OLDEST)
        other = await new_subscription(broker, topic)
        await publish(broker, topic, "a", "b", "c")
        await publish(broker, topic, "d", "e")

        assert payloads(await pull(broker, sub)) == ["c", "d", "e"]
        assert len(await pull(broker, other)) == 5
        assert (await broker.topics.describe(topic)).stats.messages == 5

    async def test_messages_in_flight_are_never_taken_from_their_consumer(
        self, broker: Broker
    ) -> None:
        # Given a full subscription whose messages are all in flight
        topic = await new_topic(broker)
        sub = await new_subscription(broker, topic, max_backlog=2, overflow=DROP_OLDEST)
        await publish(broker, topic, "a", "b")
        held = await pull(broker, sub)
        # When more are published, Then they are skipped, not the held ones
        await publish(broker, topic, "c", "d")
        assert (await broker.subscriptions.describe(sub)).stats.backlog == 2
        assert (await broker.acks.ack(sub, [d.ack_id for d in held])).count == 2
        # And once acked, there is room again
        await publish(broker, topic, "e")
        assert payloads(await pull(broker, sub)) == ["e"]


class TestSettings:
    async def test_the_bound_and_overflow_are_described(self, broker: Broker) -> None:
        topic = await new_topic(broker)
        sub = await new_subscription(broker, topic, max_backlog=7, overflow=DROP_OLDEST)

        described = (await broker.subscriptions.describe(sub)).subscription

        assert (described.max_backlog, described.overflow) == (7, DROP_OLDEST)

    def test_a_negative_bound_is_refused(self) -> None:
        with pytest.raises(InvalidSetting):
            Subscription("s", "t", max_backlog=-1)
