"""Redis only: several broker processes on one Redis share every state change."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from pubsubgo.containers import build_broker
from pubsubgo.core.errors import GenerationConflict, SubscriptionNotFound, TopicNotFound
from pubsubgo.core.groups import Member
from pubsubgo.core.messages import PublishRequest
from pubsubgo.core.subscriptions import StartPosition, Subscription
from pubsubgo.core.topics import Topic
from pubsubgo.ports.groups import GroupStore
from pubsubgo.runtime.clock import ManualClock
from pubsubgo.services.broker import Broker
from tests.broker_process import eventually
from tests.conftest import unique
from tests.redis.servers import RedisClusterServers, RedisServer, storage_on

pytestmark = pytest.mark.redis


@pytest.fixture(params=["redis_server", "redis_cluster"], ids=["redis", "redis_cluster"])
async def two_brokers(
    request: pytest.FixtureRequest, clock: ManualClock
) -> AsyncIterator[tuple[Broker, Broker]]:
    """Two brokers with clients of their own (as two processes have) on one Redis."""
    servers: RedisServer | RedisClusterServers = request.getfixturevalue(request.param)
    servers.flush()
    async with storage_on(servers.url) as one, storage_on(servers.url) as other:
        yield build_broker(one, clock), build_broker(other, clock)


@pytest.fixture(params=["redis_server", "redis_cluster"], ids=["redis", "redis_cluster"])
async def two_group_stores(
    request: pytest.FixtureRequest, clock: ManualClock
) -> AsyncIterator[tuple[Broker, GroupStore, GroupStore]]:
    """A broker, and the group stores of two processes, on one Redis."""
    servers: RedisServer | RedisClusterServers = request.getfixturevalue(request.param)
    servers.flush()
    async with storage_on(servers.url) as one, storage_on(servers.url) as other:
        yield build_broker(one, clock), one.groups, other.groups


async def _topic(broker: Broker, partitions: int = 4) -> tuple[str, str]:
    topic, subscription = unique("topic"), unique("sub")
    await broker.topics.create(Topic(topic, partitions=partitions))
    await broker.subscriptions.create(
        Subscription(subscription, topic, start=StartPosition.EARLIEST)
    )
    return topic, subscription


class TestSharedState:
    async def test_concurrent_pulls_from_two_brokers_never_share_a_message(
        self, two_brokers: tuple[Broker, Broker]
    ) -> None:
        # Given 200 messages over 4 partitions
        one, other = two_brokers
        topic, subscription = await _topic(one)
        await one.publisher.publish(topic, [PublishRequest(str(i).encode()) for i in range(200)])

        # When both brokers pull small batches at the same time until nothing is left
        seen: list[str] = []
        while True:
            batches = await asyncio.gather(
                *(b.subscriber.pull(subscription, 7) for b in (one, other, one, other))
            )
            if not any(batches):
                break
            seen += [d.message.id for batch in batches for d in batch]

        # Then each message went out exactly once
        assert len(seen) == len(set(seen)) == 200

    async def test_a_delivery_pulled_through_one_broker_is_acked_through_the_other(
        self, two_brokers: tuple[Broker, Broker]
    ) -> None:
        # Given a delivery pulled through one broker
        one, other = two_brokers
        topic, subscription = await _topic(one)
        await one.publisher.publish(topic, [PublishRequest(b"x")])
        [delivery] = await one.subscriber.pull(subscription)

        # When the other broker acks it
        result = await other.acks.ack(subscription, [delivery.ack_id])

        # Then it is settled for both
        assert result.count == 1
        assert (await one.acks.ack(subscription, [delivery.ack_id])).count == 0

    async def test_two_brokers_cannot_both_save_one_generation(
        self, two_group_stores: tuple[Broker, GroupStore, GroupStore], clock: ManualClock
    ) -> None:
        # Given both brokers read the group at the same generation
        broker, one, other = two_group_stores
        _, subscription = await _topic(broker)
        first = await one.load(subscription)
        second = await other.load(subscription)
        member = Member("m", clock.now(), clock.now())

        # When both try to apply a change to it
        await one.save(first.joined(member, 4), first.generation)

        # Then the second one is told to reload
        with pytest.raises(GenerationConflict):
            await other.save(second.joined(member, 4), second.generation)

    async def test_a_topic_deleted_by_one_broker_refuses_publishes_through_the_other(
        self, two_brokers: tuple[Broker, Broker]
    ) -> None:
        # Given the other broker has the topic's definition cached
        one, other = two_brokers
        topic, subscription = await _topic(one)
        await other.publisher.publish(topic, [PublishRequest(b"cached")])

        # When one broker deletes the topic
        await one.topics.delete(topic, force=True)

        # Then the other's publishes and pulls fail at once, cache or not
        with pytest.raises(TopicNotFound):
            await other.publisher.publish(topic, [PublishRequest(b"late")])
        with pytest.raises(SubscriptionNotFound):
            await other.subscriber.pull(subscription)


class TestWakeUpsAcrossBrokers:
    async def test_a_publish_through_one_broker_wakes_a_long_poll_of_the_other(
        self, two_brokers: tuple[Broker, Broker]
    ) -> None:
        # (whether or not the waiter's subscriber is up yet when the publish comes: if not,
        # it hears that anything may have news once it is)
        waiter, publisher = two_brokers
        topic, subscription = await _topic(waiter)
        waiting = asyncio.create_task(waiter.subscriber.pull(subscription, 10, 20.0))

        await publisher.publisher.publish(topic, [PublishRequest(data=b"across")])

        delivered = await asyncio.wait_for(waiting, WAKE_SECONDS)
        assert [d.message.data for d in delivered] == [b"across"]

    async def test_a_publish_while_the_waiter_lost_its_subscription_still_reaches_it(
        self, redis_server: RedisServer, clock: ManualClock
    ) -> None:
        redis_server.flush()
        async with storage_on(redis_server.url) as one, storage_on(redis_server.url) as other:
            waiter, publisher = build_broker(one, clock), build_broker(other, clock)
            topic, subscription = await _topic(waiter)
            waiting = asyncio.create_task(waiter.subscriber.pull(subscription, 10, 20.0))
            await eventually(lambda: _subscribed(redis_server), "the waiter's subscriber", 5)

            # When the waiter's subscription is cut, and a publish comes meanwhile
            with redis_server.client() as admin:
                admin.client_kill_filter(_type="pubsub")
            await publisher.publisher.publish(topic, [PublishRequest(data=b"missed")])

            # Then the waiter gets it all the same, once it has subscribed again
            delivered = await asyncio.wait_for(waiting, WAKE_SECONDS)
        assert [d.message.data for d in delivered] == [b"missed"]


#: Well under the polls' own 20 s, and over a resubscription (0.5 s) or a recheck (~3 s).
WAKE_SECONDS = 5.0


async def _subscribed(server: RedisServer) -> bool | None:
    """True once a process listens for wake-ups (its subscriber starts with a first wait)."""
    with server.client() as client:
        return True if client.pubsub_numsub("psg:wake")[0][1] > 0 else None
