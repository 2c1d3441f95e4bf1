"""Redis only: a burst of concurrent calls beyond the connection pool waits for
connections instead of failing."""

from __future__ import annotations

import asyncio

import pytest

from pubsubgo.adapters.redis import build_client, redis_storage
from pubsubgo.adapters.redis.client import POOL_SIZE
from pubsubgo.containers import build_broker
from pubsubgo.core.messages import PublishRequest
from pubsubgo.core.topics import Topic
from pubsubgo.runtime.clock import ManualClock
from tests.conftest import unique
from tests.redis.servers import RedisServer

pytestmark = pytest.mark.redis


async def test_five_times_the_pool_in_concurrent_publishes_all_succeed(
    redis_server: RedisServer,
) -> None:
    client = build_client(redis_server.url)
    storage = redis_storage(client)
    try:
        broker = build_broker(storage, ManualClock())
        topic = unique("topic")
        await broker.topics.create(Topic(topic, partitions=4))
        burst = 5 * POOL_SIZE

        answers = await asyncio.gather(
            *(broker.publisher.publish(topic, [PublishRequest(b"x")]) for _ in range(burst))
        )

        assert len({ids[0] for ids in answers}) == burst
        assert (await broker.topics.describe(topic)).stats.messages == burst
    finally:
        await storage.aclose()
        await client.aclose()
