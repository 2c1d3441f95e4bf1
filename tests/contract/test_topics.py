"""Contract: topics are created, described, browsed, trimmed and deleted."""

from __future__ import annotations

import pytest

from pubsubgo.core.errors import (
    InvalidName,
    InvalidSetting,
    MessageExpired,
    MessageNotFound,
    TopicAlreadyExists,
    TopicInUse,
    TopicNotFound,
)
from pubsubgo.core.messages import MessageId, Priority
from pubsubgo.core.topics import Topic
from pubsubgo.runtime.clock import ManualClock
from pubsubgo.services.broker import Broker
from tests.conftest import unique
from tests.contract.helpers import new_subscription, new_topic, publish


class TestTopicLifecycle:
    async def test_a_created_topic_is_listed_and_described(self, broker: Broker) -> None:
        name = await new_topic(broker, partitions=3)

        listed = [t.name for t in await broker.topics.list()]
        described = await broker.topics.describe(name)

        assert name in listed
        assert described.topic.partitions == 3
        assert described.stats.partition_depths == (0, 0, 0)

    async def test_creating_a_topic_twice_is_a_conflict(self, broker: Broker) -> None:
        name = await new_topic(broker)

        with pytest.raises(TopicAlreadyExists):
            await broker.topics.create(Topic(name))

    @pytest.mark.parametrize("bad", ["", "-starts-with-dash", "has space", "x" * 250, "é"])
    def test_a_topic_name_outside_the_naming_rule_is_refused(self, bad: str) -> None:
        with pytest.raises(InvalidName):
            Topic(bad)

    @pytest.mark.parametrize(
        "settings", [{"partitions": 0}, {"partitions": 257}, {"max_messages": -1}]
    )
    def test_out_of_range_settings_are_refused(self, settings: dict[str, int]) -> None:
        with pytest.raises(InvalidSetting):
            Topic("fine", **settings)  # type: ignore[arg-type]

    async def test_describing_a_missing_topic_says_which_one(self, broker: Broker) -> None:
        with pytest.raises(TopicNotFound) as caught:
            await broker.topics.describe("nowhere")
        assert caught.value.topic == "nowhere"

    async def test_a_topic_with_subscriptions_is_deleted_only_with_force(
        self, broker: Broker
    ) -> None:
        name = await new_topic(broker)
        subscription = await new_subscription(broker, name)

        with pytest.raises(TopicInUse):
            await broker.topics.delete(name)
        await broker.topics.delete(name, force=True)

        assert name not in [t.name for t in await broker.topics.list()]
        assert subscription not in [s.name for s in await broker.subscriptions.list()]


class TestStoredMessages:
    async def test_stats_count_messages_bytes_and_publishes(
        self, broker: Broker, clock: ManualClock
    ) -> None:
        name = await new_topic(broker, partitions=2)

        await publish(broker, name, "aaaa", "bb", key=None)

        stats = (await broker.topics.describe(name)).stats
        assert stats.messages == 2
        assert stats.bytes == 6
        assert sum(stats.partition_depths) == 2
        assert stats.publish_count == 2
        assert stats.last_publish_at == clock.now()

    async def test_a_stored_message_can_be_fetched_by_id(self, broker: Broker) -> None:
        name = await new_topic(broker)
        [id_] = await publish(broker, name, "hello", attributes={"k": "v"})

        message = await broker.topics.message(name, id_)

        assert message.data == b"hello"
        assert message.attributes == {"k": "v"}

    async def test_fetching_an_unknown_id_is_not_found(self, broker: Broker) -> None:
        name = await new_topic(broker)
        with pytest.raises(MessageNotFound):
            await broker.topics.message(name, MessageId("0-999"))

    async def test_fetching_a_message_after_its_ttl_is_gone(
        self, broker: Broker, clock: ManualClock
    ) -> None:
        name = await new_topic(broker)
        [id_] = await publish(broker, name, "short-lived", ttl_seconds=5)

        clock.advance(6)

        with pytest.raises(MessageExpired):
            await broker.topics.message(name, id_)

    async def test_browsing_pages_through_every_message_in_order(self, broker: Broker) -> None:
        name = await new_topic(broker, partitions=2)
        for i in range(5):
            await publish(broker, name, f"m{i}", key=f"k{i}")

        first = (await broker.topics.browse(name, None, 3)).messages
        rest = (await broker.topics.browse(name, first[-1].id, 10)).messages

        seen = [m.data.decode() for m in first + rest]
        assert sorted(seen) == ["m0", "m1", "m2", "m3", "m4"]
        assert len(set(seen)) == 5

    async def test_browsing_follows_publish_order_whatever_the_priority(
        self, broker: Broker
    ) -> None:
        name = await new_topic(broker)
        for payload, priority in (("1", Priority.LOW), ("2", Priority.CRITICAL), ("3", None)):
            await publish(broker, name, payload, priority=priority or Priority.NORMAL)

        first = (await broker.topics.browse(name, None, 1)).messages
        rest = (await broker.topics.browse(name, first[0].id, 10)).messages

        assert [m.data for m in first + rest] == [b"1", b"2", b"3"]

    async def test_retention_removes_messages_older_than_the_topic_keeps(
        self, broker: Broker, clock: ManualClock
    ) -> None:
        name = await new_topic(broker, retention_seconds=60)
        [old] = await publish(broker, name, "old")
        clock.advance(61)
        [new] = await publish(broker, name, "new")

        await broker.run_duties()

        stored = [m.id for m in (await broker.topics.browse(name, None, 10)).messages]
        assert stored == [new]
        assert old not in stored


def test_unique_names_differ() -> None:
    assert unique("t") != unique("t")
