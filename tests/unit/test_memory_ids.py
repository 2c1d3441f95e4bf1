"""The in-memory backend's message ids and ack ids, across the bounds of their formats."""

from __future__ import annotations

from pubsubgo.adapters.memory import memory_storage
from pubsubgo.containers import build_broker
from pubsubgo.core.messages import MessageId, PublishRequest
from pubsubgo.core.subscriptions import Release, StartPosition, Subscription
from pubsubgo.core.topics import Topic
from pubsubgo.ports.storage import Storage
from pubsubgo.runtime.clock import ManualClock
from pubsubgo.services.broker import Broker


async def broker_with(storage: Storage, clock: ManualClock, partitions: int) -> Broker:
    broker = build_broker(storage, clock)
    await broker.topics.create(Topic("orders", partitions=partitions))
    await broker.subscriptions.create(
        Subscription("billing", "orders", start=StartPosition.EARLIEST, max_in_flight=5000)
    )
    return broker


class TestMessageIds:
    async def test_ids_count_up_per_partition_past_each_thousand(self, clock: ManualClock) -> None:
        # Given a topic with two partitions
        broker = await broker_with(memory_storage(), clock, partitions=2)

        # When 2,300 keyless messages are published, taking the partitions in turn
        ids = []
        for _ in range(23):
            ids += await broker.publisher.publish("orders", [PublishRequest(data=b"x")] * 100)

        # Then each partition counts 0, 1, 2... in decimal, with no gap or padding
        assert ids[:4] == ["0-0", "1-0", "0-1", "1-1"]
        assert ids[1998:2002] == ["0-999", "1-999", "0-1000", "1-1000"]
        assert ids == [f"{n % 2}-{n // 2}" for n in range(2300)]

    async def test_a_stored_message_is_found_by_its_id(self, clock: ManualClock) -> None:
        # Given 1,005 messages in one partition
        storage = memory_storage()
        broker = await broker_with(storage, clock, partitions=1)
        for _ in range(3):
            await broker.publisher.publish("orders", [PublishRequest(data=b"x")] * 335)

        # When the ones around the thousand are fetched
        wanted = [MessageId(id_) for id_ in ("0-999", "0-1000", "0-1004")]
        found = await storage.messages.fetch("orders", wanted)

        # Then each is there under its id
        assert {id_: m.id for id_, m in found.items()} == {
            "0-999": "0-999",
            "0-1000": "0-1000",
            "0-1004": "0-1004",
        }


class TestAckIds:
    async def test_a_claim_of_more_than_a_thousand_gets_distinct_ack_ids(
        self, clock: ManualClock
    ) -> None:
        # Given 1,500 stored messages
        storage = memory_storage()
        broker = await broker_with(storage, clock, partitions=3)
        for _ in range(15):
            await broker.publisher.publish("orders", [PublishRequest(data=b"x")] * 100)
        subscription = await storage.subscriptions.get("billing")
        topic = await storage.topics.get("orders")

        # When one claim takes them all
        claimed = await storage.deliveries.claim(
            subscription, topic, range(3), 1500, clock.now(), None
        )

        # Then every delivery has its own ack id, and every one of them settles
        ack_ids = [d.ack_id for d in claimed]
        assert len(claimed) == 1500
        assert len(set(ack_ids)) == 1500
        result = await broker.acks.ack("billing", ack_ids)
        assert (result.count, result.unknown) == (1500, ())

    async def test_redeliveries_and_later_claims_never_reuse_an_ack_id(
        self, clock: ManualClock
    ) -> None:
        # Given deliveries that were handed out once and then released
        storage = memory_storage()
        broker = await broker_with(storage, clock, partitions=2)
        await broker.publisher.publish("orders", [PublishRequest(data=b"x")] * 10)
        first = await broker.subscriber.pull("billing", 10)
        await storage.in_flight.release("billing", [Release(d.ack_id, 0.0) for d in first])
        await broker.publisher.publish("orders", [PublishRequest(data=b"y")] * 10)

        # When the redeliveries and the new messages are pulled
        second = await broker.subscriber.pull("billing", 20)

        # Then no ack id repeats, and only the new ones are accepted
        assert len(second) == 20
        old, new = {d.ack_id for d in first}, {d.ack_id for d in second}
        assert len(new) == 20
        assert not old & new
        assert (await broker.acks.ack("billing", sorted(old))).count == 0
        assert (await broker.acks.ack("billing", sorted(new))).count == 20
