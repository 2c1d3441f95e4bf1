"""Contract: what the inspection routes read from storage: each partition's depth, first and
last message and owners, and a subscription's health."""

from __future__ import annotations

from pubsubgo.core.messages import Priority
from pubsubgo.core.subscriptions import RetryPolicy
from pubsubgo.runtime.clock import ManualClock
from pubsubgo.services.broker import Broker
from pubsubgo.services.publisher import partition_for_key
from tests.contract.helpers import new_subscription, new_topic, publish, pull

NO_BACKOFF = RetryPolicy(minimum_backoff_seconds=0, maximum_backoff_seconds=0)


def _key_of(partition: int, partitions: int) -> str:
    """A key whose messages go to ``partition``."""
    return next(k for i in range(100) if partition_for_key(k := f"k{i}", partitions) == partition)


class TestPartitions:
    async def test_each_partition_names_its_first_and_last_message(self, broker: Broker) -> None:
        # Given a topic of three partitions, one of them left empty
        topic = await new_topic(broker, partitions=3)
        busy_key, lone_key = (_key_of(partition, 3) for partition in (0, 1))
        first = await publish(broker, topic, "a", key=busy_key)
        middle = await publish(broker, topic, "b", key=busy_key, priority=Priority.CRITICAL)
        last = await publish(broker, topic, "c", key=busy_key, priority=Priority.LOW)
        other = await publish(broker, topic, "d", key=lone_key)
        # When its partitions are read
        summaries = {p.summary.partition: p.summary for p in await broker.health.partitions(topic)}
        # Then each tells its depth and its oldest and newest message, whatever their priority
        busy = next(s for s in summaries.values() if s.first_id == first[0])
        assert (busy.depth, busy.last_id) == (3, last[0])
        assert middle[0] not in (busy.first_id, busy.last_id)
        assert sorted(s.depth for s in summaries.values()) == [0, 1, 3]
        lone = next(s for s in summaries.values() if s.depth == 1)
        assert lone.first_id == lone.last_id == other[0]
        empty = next(s for s in summaries.values() if s.depth == 0)
        assert (empty.first_id, empty.last_id) == (None, None)

    async def test_the_first_id_moves_on_as_old_messages_leave(
        self, broker: Broker, clock: ManualClock
    ) -> None:
        topic = await new_topic(broker, retention_seconds=60)
        await publish(broker, topic, "old")
        clock.advance(61)
        [kept] = await publish(broker, topic, "new")

        await broker.run_duties()

        [partition] = await broker.health.partitions(topic)
        assert (partition.summary.depth, partition.summary.first_id) == (1, kept)

    async def test_owners_are_the_partition_owner_or_every_member(self, broker: Broker) -> None:
        topic = await new_topic(broker, partitions=2)
        ordered = await new_subscription(broker, topic, ordered=True)
        shared = await new_subscription(broker, topic)
        await broker.groups.join(ordered, "one")
        await broker.groups.join(ordered, "two")
        await broker.groups.join(shared, "x")
        await broker.groups.join(shared, "y")

        found = await broker.health.partitions(topic)

        owners = [p.owners[ordered] for p in found]
        assert sorted(owners) == [("one",), ("two",)]
        owned = (await broker.groups.heartbeat(ordered, "one")).assignment
        assert all(p.owners[ordered] == ("one",) for p in found if p.summary.partition in owned)
        assert all(p.owners[shared] == ("x", "y") for p in found)


class TestSubscriptionHealth:
    async def test_backlog_consumers_and_dead_letters(
        self, broker: Broker, clock: ManualClock
    ) -> None:
        # Given a subscription with one message dead-lettered and two waiting
        topic = await new_topic(broker)
        dead = await new_topic(broker)
        sub = await new_subscription(
            broker, topic, max_delivery_attempts=1, dead_letter_topic=dead, retry_policy=NO_BACKOFF
        )
        await publish(broker, topic, "poison")
        [delivery] = await pull(broker, sub)
        await broker.acks.nack(sub, [delivery.ack_id])
        await publish(broker, topic, "a", "b")
        await broker.groups.join(sub, "worker")
        clock.advance(5)
        # When its health is read
        health = await broker.health.of_subscription(sub)
        # Then
        assert (health.backlog, health.in_flight, health.consumers) == (2, 0, 1)
        assert health.dead_letters == 1
        assert health.oldest_unacked_age_seconds >= 5

    async def test_backlog_growth_is_measured_between_looks(
        self, broker: Broker, clock: ManualClock
    ) -> None:
        topic = await new_topic(broker)
        sub = await new_subscription(broker, topic)

        assert (await broker.health.of_subscription(sub)).backlog_growth_per_second is None
        await publish(broker, topic, *"abcdefghij")
        clock.advance(5)

        assert (await broker.health.of_subscription(sub)).backlog_growth_per_second == 2.0

    async def test_a_topics_health_lists_its_subscriptions(self, broker: Broker) -> None:
        topic = await new_topic(broker, partitions=2)
        first = await new_subscription(broker, topic)
        second = await new_subscription(broker, topic)
        await publish(broker, topic, "x")

        found = await broker.health.of_topic(topic)

        assert found.stats.messages == 1
        assert [(h.subscription.name, h.backlog) for h in found.subscriptions] == [
            (first, 1),
            (second, 1),
        ]
