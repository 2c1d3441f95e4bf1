"""Contract: publishing assigns ids and partitions, deduplicates, bounds and compresses."""

from __future__ import annotations

import pytest

from pubsubgo.core.errors import InvalidMessage, MessageTooLarge, TooManyMessages, TopicFull
from pubsubgo.core.limits import MIB
from pubsubgo.core.messages import Compression, DeliveryMode, PublishRequest, partition_of
from pubsubgo.core.topics import Overflow
from pubsubgo.runtime.clock import ManualClock
from pubsubgo.services.broker import Broker
from pubsubgo.services.publisher import partition_for_key
from tests.contract.helpers import new_subscription, new_topic, payloads, publish, pull


class TestIdsAndPartitions:
    async def test_ids_increase_within_a_partition(self, broker: Broker) -> None:
        name = await new_topic(broker)

        ids = await publish(broker, name, "a", "b", "c")

        subscription = await new_subscription(broker, name)
        delivered = await pull(broker, subscription)
        assert [d.message.id for d in delivered] == ids
        assert len(set(ids)) == 3

    async def test_the_same_key_always_lands_in_the_same_partition(self, broker: Broker) -> None:
        name = await new_topic(broker, partitions=8)

        ids = await publish(broker, name, "1", "2", "3", key="customer-42")

        partitions = {partition_of(i) for i in ids}
        assert partitions == {partition_for_key("customer-42", 8)}

    def test_the_key_hash_is_stable_across_processes(self) -> None:
        # CRC-32 of the key: values fixed for ever, unlike Python's salted hash().
        assert [partition_for_key(k, 16) for k in ("a", "b", "c")] == [
            int.from_bytes(bytes.fromhex("e8b7be43"), "big") % 16,
            int.from_bytes(bytes.fromhex("71beeff9"), "big") % 16,
            int.from_bytes(bytes.fromhex("06b9df6f"), "big") % 16,
        ]

    async def test_keyless_messages_spread_over_every_partition(self, broker: Broker) -> None:
        name = await new_topic(broker, partitions=4)

        ids = await publish(broker, name, *[str(i) for i in range(8)])

        assert {partition_of(i) for i in ids} == {0, 1, 2, 3}


class TestDeduplication:
    async def test_a_repeated_dedup_id_inside_the_window_stores_nothing(
        self, broker: Broker, clock: ManualClock
    ) -> None:
        name = await new_topic(broker, dedup_window_seconds=120)
        [first] = await publish(broker, name, "once", dedup_id="order-1")
        clock.advance(100)

        [second] = await publish(broker, name, "twice", dedup_id="order-1")

        assert second == first
        assert (await broker.topics.describe(name)).stats.messages == 1

    async def test_a_repeated_dedup_id_in_one_batch_stores_it_once(self, broker: Broker) -> None:
        name = await new_topic(broker)

        ids = await publish(broker, name, "a", "b", dedup_id="same")

        assert ids[0] == ids[1]
        assert (await broker.topics.describe(name)).stats.messages == 1

    async def test_the_same_dedup_id_after_the_window_is_a_new_message(
        self, broker: Broker, clock: ManualClock
    ) -> None:
        name = await new_topic(broker, dedup_window_seconds=120)
        [first] = await publish(broker, name, "once", dedup_id="order-1")
        clock.advance(121)

        [second] = await publish(broker, name, "again", dedup_id="order-1")

        assert second != first
        assert (await broker.topics.describe(name)).stats.messages == 2


class TestOverflow:
    async def test_a_full_reject_topic_refuses_the_whole_batch(self, broker: Broker) -> None:
        name = await new_topic(broker, max_messages=3, overflow=Overflow.REJECT)
        await publish(broker, name, "1", "2")

        with pytest.raises(TopicFull):
            await publish(broker, name, "3", "4")

        assert (await broker.topics.describe(name)).stats.messages == 2

    async def test_a_full_drop_oldest_topic_keeps_the_newest(
        self, broker: Broker, clock: ManualClock
    ) -> None:
        name = await new_topic(broker, max_messages=3, overflow=Overflow.DROP_OLDEST)
        for payload in ("1", "2", "3", "4", "5"):
            await publish(broker, name, payload)
            clock.advance(1)

        subscription = await new_subscription(broker, name)
        assert payloads(await pull(broker, subscription)) == ["3", "4", "5"]


class TestCompression:
    @pytest.mark.parametrize("algorithm", [Compression.SNAPPY, Compression.LZ4])
    async def test_large_payloads_are_stored_smaller_and_delivered_intact(
        self, broker: Broker, algorithm: Compression
    ) -> None:
        name = await new_topic(broker, compression=algorithm, compression_min_bytes=1024)
        payload = ("pubsubgo " * 1000).encode()
        await broker.publisher.publish(name, [PublishRequest(data=payload)])

        stored = (await broker.topics.describe(name)).stats.bytes
        subscription = await new_subscription(broker, name)
        [delivery] = await pull(broker, subscription)

        assert stored < len(payload) / 4
        assert delivery.message.data == payload

    async def test_payloads_under_the_threshold_are_stored_as_sent(self, broker: Broker) -> None:
        name = await new_topic(broker, compression=Compression.LZ4, compression_min_bytes=1024)

        await publish(broker, name, "x" * 100)

        assert (await broker.topics.describe(name)).stats.bytes == 100


class TestValidation:
    async def test_exactly_once_without_a_dedup_id_is_refused(self, broker: Broker) -> None:
        name = await new_topic(broker)
        with pytest.raises(InvalidMessage, match="dedup_id"):
            await publish(broker, name, "x", delivery_mode=DeliveryMode.EXACTLY_ONCE)

    async def test_more_than_64_attributes_are_refused(self, broker: Broker) -> None:
        name = await new_topic(broker)
        attributes = {f"k{i}": "v" for i in range(65)}
        with pytest.raises(InvalidMessage, match="64 attributes"):
            await publish(broker, name, "x", attributes=attributes)

    async def test_a_message_over_one_mebibyte_is_too_large(self, broker: Broker) -> None:
        name = await new_topic(broker)
        with pytest.raises(MessageTooLarge):
            await broker.publisher.publish(name, [PublishRequest(data=b"x" * (MIB + 1))])

    @pytest.mark.parametrize("field", ["ttl_seconds", "delay_seconds"])
    async def test_negative_durations_are_refused(self, broker: Broker, field: str) -> None:
        name = await new_topic(broker)
        with pytest.raises(InvalidMessage, match=field):
            await publish(broker, name, "x", **{field: -1})

    async def test_a_batch_over_a_thousand_messages_is_too_large(self, broker: Broker) -> None:
        name = await new_topic(broker)
        with pytest.raises(TooManyMessages):
            await broker.publisher.publish(name, [PublishRequest(data=b"x")] * 1001)
        assert (await broker.topics.describe(name)).stats.messages == 0

    async def test_an_empty_batch_is_refused(self, broker: Broker) -> None:
        name = await new_topic(broker)
        with pytest.raises(InvalidMessage):
            await broker.publisher.publish(name, [])
