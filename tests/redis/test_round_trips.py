"""Redis only: the hot paths cost a constant number of round trips, whatever the batch size."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, ClassVar

import pytest
from redis.asyncio.connection import Connection

from pubsubgo.adapters.redis import build_client, redis_storage
from pubsubgo.containers import build_broker
from pubsubgo.core.messages import Delivery, PublishRequest
from pubsubgo.core.subscriptions import StartPosition, Subscription
from pubsubgo.core.topics import Topic
from pubsubgo.runtime.clock import ManualClock
from pubsubgo.services.broker import Broker
from tests.conftest import unique
from tests.redis.servers import RedisClusterServers, RedisServer

pytestmark = pytest.mark.redis

#: Sent besides the operations measured: wake-ups (PUBLISH, from a background task) and
#: what a new connection says first.
NOT_COUNTED = {b"PUBLISH", b"HELLO", b"CLIENT", b"PING"}


class CountingConnection(Connection):
    """A real connection that counts what it sends: one send is one round trip (a pipeline
    goes out in one send)."""

    sends: ClassVar[int] = 0

    async def send_packed_command(self, command: Any, check_health: bool = True) -> None:
        if _command_name(command) not in NOT_COUNTED:
            CountingConnection.sends += 1
        await super().send_packed_command(command, check_health)


def _command_name(packed: Any) -> bytes:
    """The name of the first command in a packed request (``*n\r\n$len\r\nNAME\r\n...``)."""
    head = packed if isinstance(packed, bytes) else b"".join(packed[:2])
    return head.split(b"\r\n")[2].upper()


@pytest.fixture
async def counted_broker(redis_server: RedisServer) -> AsyncIterator[Broker]:
    """A broker whose client counts its round trips; definitions stay cached for the test."""
    redis_server.flush()
    client = build_client(redis_server.url, connection_class=CountingConnection)
    storage = redis_storage(client, definition_ttl=600)
    try:
        yield build_broker(storage, ManualClock())
    finally:
        await storage.aclose()
        await client.aclose()


async def _warm_up(broker: Broker, topic: str, subscription: str) -> None:
    """Load every script the hot paths use (a fresh server answers NOSCRIPT once)."""
    await broker.publisher.publish(topic, [PublishRequest(b"warm-up")])
    [warm] = await broker.subscriber.pull(subscription, 1)
    await broker.acks.extend(subscription, [warm.ack_id], 10)
    await broker.acks.nack(subscription, [warm.ack_id], 0)
    [warm] = await broker.subscriber.pull(subscription, 1)
    await broker.acks.ack(subscription, [warm.ack_id])


async def _round_trips(action: Callable[[], Awaitable[object]]) -> int:
    before = CountingConnection.sends
    await action()
    return CountingConnection.sends - before


async def _topic_with_subscription(broker: Broker, partitions: int) -> tuple[str, str]:
    topic, subscription = unique("topic"), unique("sub")
    await broker.topics.create(Topic(topic, partitions=partitions))
    await broker.subscriptions.create(
        Subscription(subscription, topic, start=StartPosition.EARLIEST, max_in_flight=5000)
    )
    return topic, subscription


class TestSingleNodeRoundTrips:
    @pytest.mark.parametrize("batch", [10, 1000])
    async def test_publish_pull_ack_nack_and_extend_cost_the_same_for_any_batch(
        self, counted_broker: Broker, batch: int
    ) -> None:
        # Given a topic of 4 partitions, its subscription, and scripts and definitions loaded
        broker = counted_broker
        topic, subscription = await _topic_with_subscription(broker, partitions=4)
        await _warm_up(broker, topic, subscription)
        requests = [PublishRequest(data=b"x" * 100) for _ in range(batch)]

        # When a batch is published, pulled, extended, nacked, pulled again and acked
        published = await _round_trips(lambda: broker.publisher.publish(topic, requests))
        deliveries: list[Delivery] = []
        pulled = await _round_trips(lambda: _pull(broker, subscription, batch, deliveries))
        acks = [d.ack_id for d in deliveries]
        extended = await _round_trips(lambda: broker.acks.extend(subscription, acks, 60))
        nacked = await _round_trips(lambda: broker.acks.nack(subscription, acks, 0))
        again: list[Delivery] = []
        await _pull(broker, subscription, batch, again)
        acked = await _round_trips(lambda: broker.acks.ack(subscription, [d.ack_id for d in again]))

        # Then each is one script call, and a nack one more to read what it gives back
        assert len(deliveries) == len(again) == batch
        assert (published, pulled, extended, nacked, acked) == (1, 1, 1, 2, 1)

    async def test_a_members_pull_is_one_call_that_also_checks_the_member(
        self, counted_broker: Broker
    ) -> None:
        # Given a member of an unordered subscription, scripts and definitions loaded
        broker = counted_broker
        topic, subscription = await _topic_with_subscription(broker, partitions=4)
        await _warm_up(broker, topic, subscription)
        member = await broker.groups.join(subscription)
        await broker.publisher.publish(topic, [PublishRequest(b"x")] * 10)

        # When it pulls
        got: list[Delivery] = []
        pulled = await _round_trips(
            lambda: _pull(broker, subscription, 10, got, member_id=member.member_id)
        )

        # Then the claim is the only round trip
        assert (len(got), pulled) == (10, 1)


async def _pull(
    broker: Broker, subscription: str, batch: int, into: list[Delivery], **options: Any
) -> None:
    into.extend(await broker.subscriber.pull(subscription, batch, **options))


class TestClusterScriptCalls:
    @pytest.mark.parametrize("batch", [12, 996])
    async def test_one_script_call_per_partition_touched_whatever_the_batch(
        self, redis_cluster: RedisClusterServers, batch: int
    ) -> None:
        # Given a spread topic of 6 partitions on a 3-master cluster
        redis_cluster.flush()
        client = build_client(redis_cluster.url)
        storage = redis_storage(client, definition_ttl=600)
        broker = build_broker(storage, ManualClock())
        try:
            topic, subscription = await _topic_with_subscription(broker, partitions=6)
            await _warm_up(broker, topic, subscription)
            requests = [PublishRequest(data=b"x") for _ in range(batch)]

            # When a batch is published, pulled and acked
            published = await _evalsha_calls(
                redis_cluster, lambda: broker.publisher.publish(topic, requests)
            )
            deliveries: list[Delivery] = []
            pulled = await _evalsha_calls(
                redis_cluster, lambda: _pull(broker, subscription, batch, deliveries)
            )
            acks = [d.ack_id for d in deliveries]
            acked = await _evalsha_calls(redis_cluster, lambda: broker.acks.ack(subscription, acks))
        finally:
            await storage.aclose()
            await client.aclose()

        # Then every partition got one script call for each (keyless messages spread evenly)
        assert len(deliveries) == batch
        assert (published, pulled, acked) == (6, 6, 6)


async def _evalsha_calls(
    cluster: RedisClusterServers, action: Callable[[], Awaitable[object]]
) -> int:
    """EVALSHA calls the cluster's nodes received during ``action`` (INFO commandstats)."""
    before = _evalsha_total(cluster)
    await action()
    return _evalsha_total(cluster) - before


def _evalsha_total(cluster: RedisClusterServers) -> int:
    total = 0
    for node in cluster.nodes:
        with node.client() as client:
            stats = client.info("commandstats").get("cmdstat_evalsha", {"calls": 0})
            total += int(stats["calls"])
    return total
