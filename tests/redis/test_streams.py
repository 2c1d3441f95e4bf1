"""Redis only: how messages sit in the streams, on one node and spread over a cluster."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from pubsubgo.containers import build_broker
from pubsubgo.core.messages import PublishRequest
from pubsubgo.core.subscriptions import StartPosition, Subscription
from pubsubgo.core.topics import Overflow, Topic
from pubsubgo.runtime.clock import ManualClock
from pubsubgo.services.broker import Broker
from tests.redis.servers import RedisClusterServers, RedisServer, storage_on

pytestmark = pytest.mark.redis


@pytest.fixture(params=["redis_server", "redis_cluster"], ids=["redis", "redis_cluster"])
async def broker(request: pytest.FixtureRequest, clock: ManualClock) -> AsyncIterator[Broker]:
    servers: RedisServer | RedisClusterServers = request.getfixturevalue(request.param)
    servers.flush()
    async with storage_on(servers.url) as storage:
        yield build_broker(storage, clock)


async def _subscribe(broker: Broker, topic: str) -> str:
    await broker.subscriptions.create(
        Subscription(f"{topic}-sub", topic, start=StartPosition.EARLIEST)
    )
    return f"{topic}-sub"


class TestIds:
    async def test_ids_carry_the_partition_and_the_publishers_millisecond(
        self, broker: Broker, clock: ManualClock
    ) -> None:
        # Given a publisher clock far from real time
        await broker.topics.create(Topic("orders", partitions=2))

        # When messages are published
        ids = await broker.publisher.publish("orders", [PublishRequest(b"a"), PublishRequest(b"b")])

        # Then each id is "<partition>-<ms of the publish time>-<sequence>"
        millisecond = str(int(clock.now() * 1000))
        assert [i.split("-")[:2] for i in ids] == [["0", millisecond], ["1", millisecond]]


class TestBoundedTopics:
    async def test_drop_oldest_removes_the_oldest_across_partitions(
        self, broker: Broker, clock: ManualClock
    ) -> None:
        # Given a bounded topic of 3 partitions holding at most 4 messages
        await broker.topics.create(
            Topic("events", partitions=3, max_messages=4, overflow=Overflow.DROP_OLDEST)
        )

        # When six messages are published a second apart, round the partitions
        for number in range(6):
            await broker.publisher.publish("events", [PublishRequest(str(number).encode())])
            clock.advance(1)

        # Then the four newest remain, wherever they are
        subscription = await _subscribe(broker, "events")
        delivered = await broker.subscriber.pull(subscription, 10)
        assert sorted(d.message.data for d in delivered) == [b"2", b"3", b"4", b"5"]
        assert (await broker.topics.describe("events")).stats.messages == 4


class TestTimeRules:
    async def test_seek_to_a_timestamp_inside_a_millisecond_is_exact(
        self, broker: Broker, clock: ManualClock
    ) -> None:
        # Given two messages published 0.4 ms apart, within one millisecond
        await broker.topics.create(Topic("ticks"))
        subscription = await _subscribe(broker, "ticks")
        clock.advance(0.0001)
        await broker.publisher.publish("ticks", [PublishRequest(b"early")])
        clock.advance(0.0004)
        cut = clock.now()
        await broker.publisher.publish("ticks", [PublishRequest(b"late")])

        # When the subscription seeks to the second one's publish time
        await broker.subscriptions.seek(subscription, timestamp=cut)

        # Then only the second is delivered
        assert [d.message.data for d in await broker.subscriber.pull(subscription)] == [b"late"]

    async def test_retention_counts_what_it_removes_from_every_partition(
        self, broker: Broker, clock: ManualClock
    ) -> None:
        # Given old messages in every partition and one new message
        await broker.topics.create(Topic("logs", partitions=4, retention_seconds=60))
        await broker.publisher.publish("logs", [PublishRequest(b"old")] * 8)
        clock.advance(61)
        await broker.publisher.publish("logs", [PublishRequest(b"new!")])

        # When retention runs
        trimmed = await broker.topics.trim_retention()

        # Then the old messages are gone, counted and no longer in the topic's size
        stats = (await broker.topics.describe("logs")).stats
        assert trimmed == 8
        assert (stats.messages, stats.bytes) == (1, 4)


class TestBrowse:
    async def test_browsing_in_pages_visits_every_partition_once(self, broker: Broker) -> None:
        # Given 30 keyed messages over 5 partitions
        await broker.topics.create(Topic("catalog", partitions=5))
        requests = [PublishRequest(str(i).encode(), key=f"k{i}") for i in range(30)]
        await broker.publisher.publish("catalog", requests)

        # When the topic is browsed 4 messages at a time
        seen: list[bytes] = []
        after = None
        while page := (await broker.topics.browse("catalog", after, 4)).messages:
            seen += [m.data for m in page]
            after = page[-1].id

        # Then every message comes exactly once
        assert sorted(seen, key=int) == [str(i).encode() for i in range(30)]
