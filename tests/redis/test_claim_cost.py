"""Redis only: what a claim and a settle cost inside Redis, and the records settle reads
without decoding them (and those it must decode)."""

from __future__ import annotations

import pytest

from pubsubgo.adapters.redis import keys
from pubsubgo.core.messages import PublishRequest
from pubsubgo.core.subscriptions import StartPosition, Subscription
from pubsubgo.core.topics import Topic
from pubsubgo.services.broker import Broker
from tests.conftest import unique
from tests.redis.servers import RedisServer

pytestmark = pytest.mark.redis


def _commands(redis_server: RedisServer) -> dict[str, int]:
    """Calls per command since the last reset, the scripts' own commands included."""
    with redis_server.client() as client:
        stats = client.info("commandstats")
    return {name.removeprefix("cmdstat_"): int(row["calls"]) for name, row in stats.items()}


def _reset(redis_server: RedisServer) -> None:
    with redis_server.client() as client:
        client.config_resetstat()


async def _drained_subscription(broker: Broker, partitions: int) -> str:
    """A subscription of a topic whose every partition had messages, all acked since."""
    topic, subscription = unique("topic"), unique("sub")
    await broker.topics.create(Topic(topic, partitions=partitions))
    await broker.subscriptions.create(
        Subscription(subscription, topic, start=StartPosition.EARLIEST, max_in_flight=100)
    )
    await broker.publisher.publish(topic, [PublishRequest(b"x") for _ in range(partitions * 8)])
    deliveries = await broker.subscriber.pull(subscription, 100)
    await broker.acks.ack(subscription, [d.ack_id for d in deliveries])
    return subscription


async def test_a_claim_that_finds_nothing_reads_few_fields_and_no_stream(
    redis_broker: Broker, redis_server: RedisServer
) -> None:
    # Given a drained subscription of four partitions, nothing scheduled
    subscription = await _drained_subscription(redis_broker, 4)
    _reset(redis_server)

    # When a consumer pulls one message (as a streaming consumer does on each wake-up)
    assert await redis_broker.subscriber.pull(subscription, 1) == []

    # Then the claim asks no schedule nor stream, and reads each partition's counters once
    commands = _commands(redis_server)
    assert commands["evalsha"] == 1
    assert "zrangebyscore" not in commands
    assert "xrange" not in commands
    assert commands["hmget"] == 4  # one per partition: its lanes' appended counts
    assert commands["hget"] == 1 + 4  # holdings, then each partition's one used lane
    assert commands["exists"] == 2  # the subscription, and every schedule at once


async def test_a_claim_that_finds_one_message_asks_one_stream_once(
    redis_broker: Broker, redis_server: RedisServer
) -> None:
    # Given a drained subscription of four partitions, then one new message
    subscription = await _drained_subscription(redis_broker, 4)
    topic = (await redis_broker.subscriptions.get(subscription)).topic
    await redis_broker.publisher.publish(topic, [PublishRequest(b"one")])
    _reset(redis_server)

    # When a consumer pulls it
    [delivery] = await redis_broker.subscriber.pull(subscription, 1)

    # Then one lane was read, once
    assert delivery.message.data == b"one"
    commands = _commands(redis_server)
    assert commands["xrange"] == 1
    assert "zrangebyscore" not in commands


async def test_a_due_retry_is_claimed_among_unread_messages_of_other_partitions(
    redis_broker: Broker,
) -> None:
    # Given a message given back for redelivery now, while other partitions have new ones
    subscription = await _drained_subscription(redis_broker, 4)
    topic = (await redis_broker.subscriptions.get(subscription)).topic
    await redis_broker.publisher.publish(topic, [PublishRequest(b"first")])
    [first] = await redis_broker.subscriber.pull(subscription, 1)
    await redis_broker.acks.nack(subscription, [first.ack_id], delay_seconds=0)
    await redis_broker.publisher.publish(topic, [PublishRequest(f"{i}".encode()) for i in range(8)])

    # When everything is pulled
    deliveries = await redis_broker.subscriber.pull(subscription, 100)

    # Then the retry comes with the rest, as its second attempt
    assert sorted(d.message.data for d in deliveries) == sorted(
        [b"first", *(f"{i}".encode() for i in range(8))]
    )
    [retry] = [d for d in deliveries if d.message.data == b"first"]
    assert retry.delivery_attempt == 2


@pytest.mark.parametrize(
    "member_id",
    ["plain-member", 'quote"d', "back\\slash", "sl/ash", "tab\tnewline\n", "ünïcode"],
)
async def test_acks_settle_the_deliveries_of_any_member(
    redis_broker: Broker, redis_server: RedisServer, member_id: str
) -> None:
    # Given a member (its id as given: JSON escapes some of them in the in-flight records)
    topic, subscription = unique("topic"), unique("sub")
    await redis_broker.topics.create(Topic(topic, partitions=2))
    await redis_broker.subscriptions.create(
        Subscription(subscription, topic, start=StartPosition.EARLIEST)
    )
    await redis_broker.groups.join(subscription, member_id)
    await redis_broker.publisher.publish(topic, [PublishRequest(b"a"), PublishRequest(b"b")])
    deliveries = await redis_broker.subscriber.pull(subscription, 10, member_id=member_id)
    assert len(deliveries) == 2

    # When it acks them (one twice)
    acks = [d.ack_id for d in deliveries]
    result = await redis_broker.acks.ack(subscription, [*acks, acks[0]])

    # Then both are settled once, and the member holds nothing any more
    assert (result.count, result.unknown) == (2, (acks[0],))
    again = await redis_broker.acks.ack(subscription, acks)
    assert (again.count, again.unknown) == (0, tuple(acks))
    prefix = keys.group_prefix(topic, 0, True)
    with redis_server.client() as client:
        assert client.hlen(keys.sub_part(prefix, 0, subscription, "inf")) == 0
        assert client.hgetall(keys.sub_part(prefix, 0, subscription, "own")) == {}


async def test_an_ordered_claim_takes_more_from_a_partition_once_others_run_dry(
    redis_broker: Broker,
) -> None:
    # Given an ordered subscription whose partitions hold unequal numbers of messages
    topic, subscription = unique("topic"), unique("sub")
    await redis_broker.topics.create(Topic(topic, partitions=2))
    await redis_broker.subscriptions.create(
        Subscription(subscription, topic, start=StartPosition.EARLIEST, ordered=True)
    )
    requests = [PublishRequest(f"{i}".encode(), key=f"key-{i}") for i in range(30)]
    await redis_broker.publisher.publish(topic, requests)

    # When one pull asks for all of them (a share of each partition, then the rest)
    deliveries = await redis_broker.subscriber.pull(subscription, 30)

    # Then each message comes once, in publish order within its partition
    assert sorted(int(d.message.data) for d in deliveries) == list(range(30))
    for partition in (0, 1):
        order = [int(d.message.data) for d in deliveries if d.message.partition == partition]
        assert order == sorted(order)
    counts = [sum(1 for d in deliveries if d.message.partition == p) for p in (0, 1)]
    assert counts[0] != counts[1]  # so the pull went back for more to one of them

    # And once they are acked nothing is left: no message was held back behind itself
    await redis_broker.acks.ack(subscription, [d.ack_id for d in deliveries])
    assert await redis_broker.subscriber.pull(subscription, 30) == []
