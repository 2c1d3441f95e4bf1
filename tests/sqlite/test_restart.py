"""SQLite: what the broker knew is there again after a restart on the same file."""

from __future__ import annotations

import pytest

from pubsubgo.core.subscriptions import StartPosition
from pubsubgo.runtime.clock import ManualClock
from tests.contract.helpers import new_subscription, new_topic, payloads, publish, pull
from tests.sqlite.conftest import Restartable

pytestmark = pytest.mark.sqlite


class TestDefinitionsAndMessages:
    async def test_topics_subscriptions_and_messages_survive_a_restart(
        self, restartable: Restartable
    ) -> None:
        # Given a topic with messages and a subscription
        broker = restartable.running
        topic = await new_topic(broker, partitions=3)
        subscription = await new_subscription(broker, topic, ack_deadline_seconds=42)
        ids = await publish(broker, topic, "a", "b", "c", attributes={"k": "v"})
        # When the broker restarts on the same file
        broker = await restartable.restart()
        # Then everything is there, as it was
        described = await broker.topics.describe(topic)
        assert described.topic.partitions == 3
        assert described.stats.messages == 3
        assert described.stats.publish_count == 3
        assert (await broker.subscriptions.get(subscription)).ack_deadline_seconds == 42
        delivered = await pull(broker, subscription)
        assert sorted(d.message.id for d in delivered) == sorted(ids)
        assert {d.message.attributes["k"] for d in delivered} == {"v"}

    async def test_acknowledged_messages_stay_acknowledged(self, restartable: Restartable) -> None:
        broker = restartable.running
        topic = await new_topic(broker)
        subscription = await new_subscription(broker, topic)
        await publish(broker, topic, "done", "pending")
        [done, pending] = await pull(broker, subscription)
        await broker.acks.ack(subscription, [done.ack_id])

        broker = await restartable.restart()

        # The unacked one comes back once its deadline passes; the acked one never does.
        restartable.clock.advance(31)
        await broker.run_duties()
        restartable.clock.advance(1)
        again = await pull(broker, subscription)
        assert payloads(again) == ["pending"]
        assert again[0].delivery_attempt == 2

    async def test_an_ack_id_handed_out_before_a_restart_still_settles_its_delivery(
        self, restartable: Restartable
    ) -> None:
        broker = restartable.running
        topic = await new_topic(broker)
        subscription = await new_subscription(broker, topic)
        await publish(broker, topic, "x")
        [delivery] = await pull(broker, subscription)

        broker = await restartable.restart()

        assert (await broker.acks.ack(subscription, [delivery.ack_id])).count == 1
        assert (await broker.subscriptions.describe(subscription)).stats.backlog == 0

    async def test_deliveries_held_before_a_restart_count_against_max_in_flight(
        self, restartable: Restartable
    ) -> None:
        broker = restartable.running
        topic = await new_topic(broker)
        subscription = await new_subscription(broker, topic, max_in_flight=3)
        await publish(broker, topic, *[str(i) for i in range(5)])
        held = await pull(broker, subscription, 10)

        broker = await restartable.restart()

        assert await pull(broker, subscription, 10) == []
        await broker.acks.ack(subscription, [held[0].ack_id])
        assert len(await pull(broker, subscription, 10)) == 1


class TestNumbersAreNeverReused:
    async def test_message_ids_keep_increasing_after_the_newest_message_was_removed(
        self, restartable: Restartable, clock: ManualClock
    ) -> None:
        # Given a topic whose only (and newest) message retention removed
        broker = restartable.running
        topic = await new_topic(broker, retention_seconds=10)
        [old] = await publish(broker, topic, "old")
        clock.advance(11)
        await broker.run_duties()
        assert (await broker.topics.describe(topic)).stats.messages == 0
        # When the broker restarts and a message is published
        broker = await restartable.restart()
        [new] = await publish(broker, topic, "new")
        # Then it gets an id after the removed one's, not the same one again
        assert new != old
        assert int(new.split("-")[1]) > int(old.split("-")[1])

    async def test_ack_ids_differ_from_those_of_before_the_restart(
        self, restartable: Restartable
    ) -> None:
        broker = restartable.running
        topic = await new_topic(broker)
        subscription = await new_subscription(broker, topic)
        await publish(broker, topic, "a")
        [before] = await pull(broker, subscription)
        await broker.acks.ack(subscription, [before.ack_id])

        broker = await restartable.restart()
        await publish(broker, topic, "b")
        [after] = await pull(broker, subscription)

        assert after.ack_id != before.ack_id
        # The settled handle stays settled: it does not name the new delivery.
        assert (await broker.acks.ack(subscription, [before.ack_id])).count == 0
        assert (await broker.acks.ack(subscription, [after.ack_id])).count == 1


class TestStateOfDelivery:
    async def test_a_dedup_id_seen_before_a_restart_is_still_a_duplicate(
        self, restartable: Restartable
    ) -> None:
        broker = restartable.running
        topic = await new_topic(broker)
        [first] = await publish(broker, topic, "once", dedup_id="order-1")

        broker = await restartable.restart()

        assert await publish(broker, topic, "twice", dedup_id="order-1") == [first]
        assert (await broker.topics.describe(topic)).stats.messages == 1

    async def test_a_group_and_its_members_survive_a_restart(
        self, restartable: Restartable
    ) -> None:
        broker = restartable.running
        topic = await new_topic(broker, partitions=2)
        subscription = await new_subscription(broker, topic, ordered=True)
        member = await broker.groups.join(subscription)
        await publish(broker, topic, "a", "b")

        broker = await restartable.restart()

        group = await broker.groups.describe(subscription)
        assert group.generation == member.generation
        assert set(group.members) == {member.member_id}
        assert len(await pull(broker, subscription, member_id=member.member_id)) == 2

    async def test_an_ordered_keys_held_messages_follow_after_a_restart(
        self, restartable: Restartable
    ) -> None:
        broker = restartable.running
        topic = await new_topic(broker)
        subscription = await new_subscription(broker, topic, ordered=True)
        await publish(broker, topic, "k1", "k2", key="k")
        [first] = await pull(broker, subscription)

        broker = await restartable.restart()

        assert await pull(broker, subscription) == []  # k2 still waits for k1
        await broker.acks.ack(subscription, [first.ack_id])
        assert payloads(await pull(broker, subscription)) == ["k2"]

    async def test_a_latest_subscription_created_before_a_restart_skips_older_messages(
        self, restartable: Restartable
    ) -> None:
        broker = restartable.running
        topic = await new_topic(broker)
        await publish(broker, topic, "before")
        subscription = await new_subscription(broker, topic, start=StartPosition.LATEST)

        broker = await restartable.restart()
        await publish(broker, topic, "after")

        assert payloads(await pull(broker, subscription)) == ["after"]
