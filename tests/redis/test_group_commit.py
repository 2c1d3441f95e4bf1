"""Redis only: publishes to one topic that arrive while another is being stored go out
together in the next script call, each batch keeping its ids, its order and its answer."""

from __future__ import annotations

import asyncio

import pytest

from pubsubgo.adapters.group_commit import MAX_IN_FLIGHT
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

    # Then the first ones went alone, as many as may be in flight, and the rest, which
    # waited for them, went out in one call
    assert _script_calls(redis_server) - before == MAX_IN_FLIGHT + 1
    # And each got one id per message, and each batch is stored contiguous and in order,
    # those that waited in the order they arrived
    assert [len(ids) for ids in answers] == [len(b) for b in batches]
    delivered = await redis_broker.subscriber.pull(subscription, 1000)
    position = {d.message.id: (index, d.message.data) for index, d in enumerate(delivered)}
    firsts = []
    for ids, batch in zip(answers, batches, strict=True):
        places = [position[id_] for id_ in ids]
        assert [data for _, data in places] == batch
        assert [index for index, _ in places] == list(range(places[0][0], places[-1][0] + 1))
        firsts.append(places[0][0])
    waited = firsts[MAX_IN_FLIGHT:]
    assert waited == sorted(waited)


async def test_batches_refused_together_by_a_full_topic_are_answered_one_by_one(
    redis_broker: Broker,
) -> None:
    # Given a topic with room for 10 messages that refuses more
    topic = unique("topic")
    await redis_broker.topics.create(
        Topic(topic, partitions=1, max_messages=10, overflow=Overflow.REJECT)
    )

    # (and connections open for every call in flight, so they reach Redis in order)
    warm_up = unique("topic")
    await redis_broker.topics.create(Topic(warm_up, partitions=1))
    await asyncio.gather(
        *(redis_broker.publisher.publish(warm_up, [PublishRequest(b"x")]) for _ in range(4))
    )

    # When batches of 6 and 2 go out, and batches of 2 and 1 arrive meanwhile
    sizes = [6, 2, 2, 1]
    assert len(sizes) == MAX_IN_FLIGHT + 2
    answers = await asyncio.gather(
        *(redis_broker.publisher.publish(topic, [PublishRequest(b"x")] * n) for n in sizes),
        return_exceptions=True,
    )

    # Then the two that waited, too many together, are each stored as far as they fit
    *stored, refused = answers
    assert [len(a) if isinstance(a, list) else a for a in stored] == [6, 2, 2]
    assert isinstance(refused, TopicFull)
    assert (await redis_broker.topics.describe(topic)).stats.messages == 10


async def test_a_publish_given_up_while_waiting_is_not_stored(redis_broker: Broker) -> None:
    topic = unique("topic")
    await redis_broker.topics.create(Topic(topic, partitions=1))
    sent = [
        asyncio.ensure_future(redis_broker.publisher.publish(topic, [PublishRequest(b"sent")]))
        for _ in range(MAX_IN_FLIGHT)
    ]
    given_up = asyncio.ensure_future(
        redis_broker.publisher.publish(topic, [PublishRequest(b"gone")])
    )
    kept = asyncio.ensure_future(redis_broker.publisher.publish(topic, [PublishRequest(b"kept")]))
    await asyncio.sleep(0)  # all started: the first ones are in flight, two wait
    given_up.cancel()

    await asyncio.gather(*sent, kept)

    assert given_up.cancelled()
    assert (await redis_broker.topics.describe(topic)).stats.messages == MAX_IN_FLIGHT + 1
