"""Redis only: key names, hash tags and where a topic's partitions live."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from redis.crc import key_slot

from pubsubgo.adapters.redis import keys
from pubsubgo.adapters.redis.layout import Layout
from pubsubgo.adapters.redis.scripts import lua_file
from pubsubgo.containers import build_broker
from pubsubgo.core.errors import InvalidSetting, SubscriptionBacklogFull
from pubsubgo.core.messages import PublishRequest
from pubsubgo.core.subscriptions import Subscription
from pubsubgo.core.topics import Topic, TopicChanges
from pubsubgo.runtime.clock import ManualClock
from pubsubgo.services.broker import Broker
from tests.conftest import unique
from tests.redis.servers import RedisClusterServers, RedisServer, storage_on

pytestmark = pytest.mark.redis

#: Builds, with the scripts' own helpers, the keys that keys.py names below.
LUA_KEYS = """
local pre = ARGV[1]
return {k_meta(pre, 3), k_lane(pre, 3, 2), k_dedup(pre, 0), k_dedupx(pre, 0),
        k_sub(pre, 3, 'orders-sub', 'cur'), k_sub(pre, 0, 'orders-sub', 'inf')}
"""


class TestKeyNames:
    @pytest.mark.parametrize("colocated", [True, False])
    def test_the_scripts_build_the_same_key_names_as_keys_py(
        self, redis_server: RedisServer, colocated: bool
    ) -> None:
        # Given the prefix of a slot group
        prefix = keys.group_prefix("orders", 0, colocated)

        # When the scripts' helpers build key names from it
        with redis_server.client() as client:
            built = client.eval(lua_file("common") + LUA_KEYS, 0, prefix)

        # Then they are keys.py's names
        assert [k.decode() for k in built] == [
            keys.meta(prefix, 3),
            keys.lane(prefix, 3, 2),
            keys.dedup(prefix, 0),
            keys.dedup_expiry(prefix, 0),
            keys.sub_part(prefix, 3, "orders-sub", "cur"),
            keys.sub_part(prefix, 0, "orders-sub", "inf"),
        ]

    def test_a_spread_topics_partitions_hash_to_different_slots(self) -> None:
        # Given a spread topic of 16 partitions
        layout = Layout("orders", 16, colocated=False)

        # When each partition's keys are hashed to cluster slots
        slots = [{key_slot(k.encode()) for k in layout.partition_keys(p)} for p in range(16)]

        # Then each partition's keys share one slot, and the partitions use 16 slots
        assert all(len(s) == 1 for s in slots)
        assert len(set.union(*slots)) == 16

    def test_a_colocated_topic_keeps_every_partition_in_one_slot(self) -> None:
        layout = Layout("orders", 16, colocated=True)

        slots = {key_slot(k.encode()) for p in range(16) for k in layout.partition_keys(p)}

        assert len(slots) == 1

    def test_registry_keys_share_their_own_slot(self) -> None:
        names = [keys.topics(), keys.subscriptions(), keys.group("any-subscription")]

        assert len({key_slot(n.encode()) for n in names}) == 1


class TestClusterPlacement:
    async def test_a_spread_topic_stores_partitions_on_several_masters(
        self, redis_cluster: RedisClusterServers
    ) -> None:
        # Given an unbounded topic of 12 partitions on a 3-master cluster
        redis_cluster.flush()
        async with storage_on(redis_cluster.url) as storage:
            broker = build_broker(storage, ManualClock())
            topic = unique("topic")
            await broker.topics.create(Topic(topic, partitions=12))

            # When messages go to every partition
            await broker.publisher.publish(topic, [PublishRequest(b"x")] * 24)

        # Then more than one master holds the topic's streams
        assert len(_masters_holding(redis_cluster, f"psg:{{t:{topic}:*")) > 1

    async def test_a_bounded_topic_lives_on_one_master(
        self, redis_cluster: RedisClusterServers
    ) -> None:
        # Given a topic with max_messages, which spans its partitions
        redis_cluster.flush()
        async with storage_on(redis_cluster.url) as storage:
            broker = build_broker(storage, ManualClock())
            topic = unique("topic")
            await broker.topics.create(Topic(topic, partitions=12, max_messages=100))

            # When messages go to every partition
            await broker.publisher.publish(topic, [PublishRequest(b"x")] * 24)

        # Then a single master holds all of it
        assert len(_masters_holding(redis_cluster, f"psg:{{t:{topic}}}*")) == 1


class TestSettingsThatNeedOneShard:
    """A bound is checked by one script, which must see every partition of the topic."""

    @pytest.fixture
    async def broker(self, redis_cluster: RedisClusterServers) -> AsyncIterator[Broker]:
        redis_cluster.flush()
        async with storage_on(redis_cluster.url) as storage:
            yield build_broker(storage, ManualClock())

    async def test_a_spread_topic_cannot_take_a_bound_later(self, broker: Broker) -> None:
        # Given an unbounded topic whose partitions are spread over the masters
        topic = unique("topic")
        await broker.topics.create(Topic(topic, partitions=12))
        # When a bound is asked for, Then it is refused, naming the setting
        with pytest.raises(InvalidSetting) as refused:
            await broker.topics.update(topic, TopicChanges(max_messages=100))
        assert refused.value.field == "max_messages"
        # And the other settings still change
        updated = await broker.topics.update(topic, TopicChanges(retention_seconds=60))
        assert updated.retention_seconds == 60

    async def test_a_backlog_bound_needs_the_partitions_on_one_master(self, broker: Broker) -> None:
        # Given a spread topic and a bounded one on a cluster
        spread, bounded = unique("topic"), unique("topic")
        await broker.topics.create(Topic(spread, partitions=4))
        await broker.topics.create(Topic(bounded, partitions=4, max_messages=100))
        # When subscriptions with a max_backlog are created
        with pytest.raises(InvalidSetting) as refused:
            await broker.subscriptions.create(Subscription(unique("s"), spread, max_backlog=5))
        await broker.subscriptions.create(Subscription(unique("s"), bounded, max_backlog=5))
        # Then the spread topic's is refused, naming the setting; the other is bounded
        assert refused.value.field == "max_backlog"
        await broker.publisher.publish(bounded, [PublishRequest(b"x")] * 5)
        with pytest.raises(SubscriptionBacklogFull):
            await broker.publisher.publish(bounded, [PublishRequest(b"x")])


def _masters_holding(cluster: RedisClusterServers, pattern: str) -> list[int]:
    holding = []
    for node in cluster.nodes:
        with node.client() as client:
            if client.keys(pattern):
                holding.append(node.port)
    return holding
