"""Redis only: a member's pull checks the member inside the claim script, against an index
of the group's members that every change of generation rewrites."""

from __future__ import annotations

import pytest

from pubsubgo.adapters.redis import keys
from pubsubgo.core.errors import MemberNotFound
from pubsubgo.core.messages import PublishRequest
from pubsubgo.core.subscriptions import StartPosition, Subscription
from pubsubgo.core.topics import Topic
from pubsubgo.services.broker import Broker
from tests.conftest import unique
from tests.redis.servers import RedisServer

pytestmark = pytest.mark.redis


async def _subscription_with_a_message(redis_broker: Broker) -> str:
    topic, subscription = unique("topic"), unique("sub")
    await redis_broker.topics.create(Topic(topic, partitions=2))
    await redis_broker.subscriptions.create(
        Subscription(subscription, topic, start=StartPosition.EARLIEST)
    )
    await redis_broker.publisher.publish(topic, [PublishRequest(b"a")])
    return subscription


def _members_index(redis_server: RedisServer, subscription: str) -> dict[bytes, bytes]:
    with redis_server.client() as client:
        found: dict[bytes, bytes] = client.hgetall(keys.group_members(subscription))
        return found


async def test_the_index_holds_the_members_of_the_current_generation(
    redis_broker: Broker, redis_server: RedisServer
) -> None:
    subscription = await _subscription_with_a_message(redis_broker)
    one = await redis_broker.groups.join(subscription)
    two = await redis_broker.groups.join(subscription)
    await redis_broker.groups.leave(subscription, one.member_id)

    index = _members_index(redis_server, subscription)

    assert index == {b"": str(two.generation + 1).encode(), two.member_id.encode(): b"1"}


async def test_a_group_without_an_index_is_checked_the_long_way(
    redis_broker: Broker, redis_server: RedisServer
) -> None:
    # Given a group whose index is missing, as for a group saved before indexes existed
    subscription = await _subscription_with_a_message(redis_broker)
    member = await redis_broker.groups.join(subscription)
    with redis_server.client() as client:
        client.delete(keys.group_members(subscription))

    # Then its member still pulls, and a stranger is still refused
    [delivery] = await redis_broker.subscriber.pull(subscription, 10, member_id=member.member_id)
    assert delivery.message.data == b"a"
    with pytest.raises(MemberNotFound):
        await redis_broker.subscriber.pull(subscription, 10, member_id="stranger")


async def test_deleting_the_subscription_removes_its_index(
    redis_broker: Broker, redis_server: RedisServer
) -> None:
    subscription = await _subscription_with_a_message(redis_broker)
    await redis_broker.groups.join(subscription)

    await redis_broker.subscriptions.delete(subscription)

    assert _members_index(redis_server, subscription) == {}
