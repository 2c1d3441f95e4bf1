"""Redis only: publishes to one topic that arrive while another is being stored go out
together in the next script call, each batch keeping its ids, its order and its answer."""

from __future__ import annotations

import asyncio

import pytest

from pubsubgo.core.errors import TopicFull
from pubsubgo.core.messages import PublishRequest
from pubsubgo.core.subscriptions import StartPosition, Subscription
from pubsubgo.core.topics import Overflow, Topic
from pubsubgo.services.broker import Broker
from tests.conftest import unique
from tests.redis.servers import RedisServer

pytestmark = pytest.mark.redis


def _script_calls(redis_server: RedisServer) -> int:
    with redis_server.client() as client:
        stats = client.info("commandstats").get("cmdstat_evalsha", {"calls": 0})
        return int(stats["calls"])


async def test_concurrent_publishes_share_script_calls_and_keep_their_ids_in_order(
    redis_broker: Broker, redis_server: RedisServer
) -> None:
    # Given a topic of one partition (storage order is publish order) and its subscription
    topic, subscription = unique("topic"), unique("sub")
    await redis_broker.topics.create(Topic(topic, partitions=1))
    await redis_broker.subscriptions.create(
        Subscription(subscription, topic, start=StartPosition.EARLIEST, max_in_flight=1000)
    )
    await redis_broker.publisher.publish(topic, [PublishRequest(b"warm-up")])
    batches = [[f"{n}.{i}".encode() for i in range(n % 3 + 1)] for n in range(50)]
    before = _script_calls(redis_server)

    # When 50 batches are published at once
    answers = await asyncio.gather(
        *(redis_broker.publisher.publish(topic, [PublishRequest(d) for d in b]) for b in batches)
    )

    # Then the first went alone and the 49 that waited for it went out in one call
    assert _script_calls(redis_server) - before == 2
    # And each got one id per message, and the messages are stored batch after batch
    assert [len(ids) for ids in answers] == [len(b) for b in batches]
    delivered = await redis_broker.subscriber.pull(subscription, 1000)
    stored = [(d.message.id, d.message.data) for d in delivered[1:]]
    expected = [
        list(zip(ids, batch, strict=True)) for ids, batch in zip(answers, batches, strict=True)
    ]
    assert stored == [pair for pairs in expected for pair in pairs]


async def test_batches_refused_together_by_a_full_topic_are_answered_one_by_one(
    redis_broker: Broker,
) -> None:
    # Given a topic with room for 10 messages that refuses more
    topic = unique("topic")
    await redis_broker.topics.create(
        Topic(topic, partitions=1, max_messages=10, overflow=Overflow.REJECT)
    )

    # When batches of 6, 3 and 3 arrive together
    answers = await asyncio.gather(
        *(
            redis_broker.publisher.publish(topic, [PublishRequest(b"x")] * size)
            for size in (6, 3, 3)
        ),
        return_exceptions=True,
    )

    # Then the two waiting behind the first, too many together, are stored as far as each fits
    first, second, third = answers
    assert [len(a) if isinstance(a, list) else a for a in (first, second)] == [6, 3]
    assert isinstance(third, TopicFull)
    assert (await redis_broker.topics.describe(topic)).stats.messages == 9


async def test_a_publish_given_up_while_waiting_is_not_stored(redis_broker: Broker) -> None:
    topic = unique("topic")
    await redis_broker.topics.create(Topic(topic, partitions=1))
    first = asyncio.ensure_future(redis_broker.publisher.publish(topic, [PublishRequest(b"first")]))
    given_up = asyncio.ensure_future(
        redis_broker.publisher.publish(topic, [PublishRequest(b"gone")])
    )
    kept = asyncio.ensure_future(redis_broker.publisher.publish(topic, [PublishRequest(b"kept")]))
    await asyncio.sleep(0)  # all three started: the first is in flight, two wait
    given_up.cancel()

    await asyncio.gather(first, kept)

    assert given_up.cancelled()
    assert (await redis_broker.topics.describe(topic)).stats.messages == 2
