"""Contract: a topic's settings change after it is created, its partitions never."""

from __future__ import annotations

import pytest

from pubsubgo.core.errors import InvalidSetting, TopicFull, TopicNotFound
from pubsubgo.core.messages import Compression
from pubsubgo.core.topics import Overflow, TopicChanges
from pubsubgo.runtime.clock import ManualClock
from pubsubgo.services.broker import Broker
from tests.contract.helpers import new_topic, publish


class TestTopicUpdate:
    async def test_changed_settings_are_described_and_the_rest_kept(self, broker: Broker) -> None:
        name = await new_topic(broker, partitions=2, dedup_window_seconds=30)
        created = (await broker.topics.describe(name)).topic

        updated = await broker.topics.update(
            name, TopicChanges(retention_seconds=60, compression=Compression.LZ4)
        )

        described = (await broker.topics.describe(name)).topic
        assert described == updated
        assert (described.retention_seconds, described.compression) == (60, Compression.LZ4)
        assert (described.partitions, described.dedup_window_seconds) == (2, 30)
        assert described.created_at == created.created_at

    async def test_a_new_bound_refuses_the_next_publish(self, broker: Broker) -> None:
        name = await new_topic(broker)
        await publish(broker, name, "a", "b")

        await broker.topics.update(name, TopicChanges(max_messages=2))

        with pytest.raises(TopicFull):
            await publish(broker, name, "c")

    async def test_drop_oldest_trims_to_a_lowered_bound_at_the_next_publish(
        self, broker: Broker
    ) -> None:
        name = await new_topic(broker, max_messages=10, overflow=Overflow.REJECT)
        await publish(broker, name, "a", "b", "c")

        await broker.topics.update(
            name, TopicChanges(max_messages=2, overflow=Overflow.DROP_OLDEST)
        )
        await publish(broker, name, "d")

        kept = (await broker.topics.browse(name, None, 10)).messages
        assert sorted(m.data for m in kept) == [b"c", b"d"]

    async def test_a_shorter_retention_applies_at_the_next_round(
        self, broker: Broker, clock: ManualClock
    ) -> None:
        name = await new_topic(broker)
        await publish(broker, name, "old")
        clock.advance(120)

        await broker.topics.update(name, TopicChanges(retention_seconds=60))
        await broker.run_duties()

        assert (await broker.topics.describe(name)).stats.messages == 0

    async def test_compression_applies_to_later_messages_and_earlier_ones_still_read(
        self, broker: Broker
    ) -> None:
        name = await new_topic(broker)
        [before] = await publish(broker, name, "x" * 2000)
        await broker.topics.update(
            name, TopicChanges(compression=Compression.SNAPPY, compression_min_bytes=0)
        )
        [after] = await publish(broker, name, "y" * 2000)

        assert (await broker.topics.message(name, before)).data == b"x" * 2000
        assert (await broker.topics.message(name, after)).data == b"y" * 2000

    async def test_partitions_cannot_change(self, broker: Broker) -> None:
        name = await new_topic(broker, partitions=2)

        with pytest.raises(InvalidSetting) as caught:
            await broker.topics.update(name, TopicChanges(partitions=4))
        assert caught.value.field == "partitions"
        assert (await broker.topics.update(name, TopicChanges(partitions=2))).partitions == 2

    async def test_an_out_of_range_value_is_refused_and_nothing_changes(
        self, broker: Broker
    ) -> None:
        name = await new_topic(broker, retention_seconds=100)

        with pytest.raises(InvalidSetting):
            await broker.topics.update(name, TopicChanges(retention_seconds=0))
        assert (await broker.topics.describe(name)).topic.retention_seconds == 100

    async def test_updating_a_missing_topic_says_which(self, broker: Broker) -> None:
        with pytest.raises(TopicNotFound):
            await broker.topics.update("nowhere", TopicChanges(retention_seconds=5))
