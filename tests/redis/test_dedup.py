"""Redis only: deduplication holds on a cluster, where each partition keeps its own records."""

from __future__ import annotations

import pytest

from pubsubgo.containers import build_broker
from pubsubgo.core.messages import PublishRequest
from pubsubgo.core.topics import Topic
from pubsubgo.runtime.clock import ManualClock
from tests.redis.servers import RedisClusterServers, storage_on

pytestmark = pytest.mark.redis


class TestDedupOnACluster:
    async def test_a_retried_keyless_message_is_recognised_on_a_spread_topic(
        self, redis_cluster: RedisClusterServers
    ) -> None:
        # Given a topic whose 8 partitions spread over the cluster's masters
        redis_cluster.flush()
        async with storage_on(redis_cluster.url) as storage:
            broker = build_broker(storage, ManualClock())
            await broker.topics.create(Topic("payments", partitions=8))

            # When a client sends the same keyless messages again (a retry after a timeout)
            first = await broker.publisher.publish(
                "payments", [PublishRequest(b"p", dedup_id=f"pay-{i}") for i in range(5)]
            )
            again = await broker.publisher.publish(
                "payments", [PublishRequest(b"p", dedup_id=f"pay-{i}") for i in range(5)]
            )

            # Then the retry stores nothing and gets the first ids
            assert again == first
            assert (await broker.topics.describe("payments")).stats.messages == 5
