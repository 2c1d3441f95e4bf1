"""Redis only: scripts reload after a server forgot them; errors translate at the boundary."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError

from pubsubgo.adapters.redis.codec import partition_of_ack
from pubsubgo.adapters.redis.errors import translate_redis_errors
from pubsubgo.containers import build_broker
from pubsubgo.core.errors import BackendUnavailable
from pubsubgo.core.messages import PublishRequest
from pubsubgo.core.subscriptions import StartPosition, Subscription
from pubsubgo.core.topics import Topic
from pubsubgo.runtime.clock import ManualClock
from pubsubgo.services.broker import Broker
from tests.redis.servers import RedisClusterServers, RedisServer, storage_on

pytestmark = pytest.mark.redis


@pytest.fixture(params=["redis_server", "redis_cluster"], ids=["redis", "redis_cluster"])
def servers(request: pytest.FixtureRequest) -> RedisServer | RedisClusterServers:
    found: RedisServer | RedisClusterServers = request.getfixturevalue(request.param)
    found.flush()
    return found


@pytest.fixture
async def broker(servers: RedisServer | RedisClusterServers) -> AsyncIterator[Broker]:
    async with storage_on(servers.url) as storage:
        yield build_broker(storage, ManualClock())


def _flush_scripts(servers: RedisServer | RedisClusterServers) -> None:
    nodes = servers.nodes if isinstance(servers, RedisClusterServers) else [servers]
    for node in nodes:
        with node.client() as client:
            client.script_flush()


class TestScriptCache:
    async def test_scripts_a_server_forgot_are_loaded_again(
        self, broker: Broker, servers: RedisServer | RedisClusterServers
    ) -> None:
        # Given a broker that has run its scripts, on a topic spread over partitions
        await broker.topics.create(Topic("orders", partitions=6))
        await broker.subscriptions.create(
            Subscription("orders-sub", "orders", start=StartPosition.EARLIEST)
        )
        await broker.publisher.publish("orders", [PublishRequest(b"before")])

        # When every server forgets its scripts (as after a restart)
        _flush_scripts(servers)

        # Then publish, pull and ack still work: each script is loaded again once
        await broker.publisher.publish("orders", [PublishRequest(b"after")] * 6)
        deliveries = await broker.subscriber.pull("orders-sub", 10)
        _flush_scripts(servers)
        result = await broker.acks.ack("orders-sub", [d.ack_id for d in deliveries])
        assert len(deliveries) == 7
        assert result.count == 7


class TestBoundaries:
    def test_redis_errors_become_storage_unavailable_chained_to_the_cause(self) -> None:
        # Given a Redis failure inside the boundary
        cause = RedisConnectionError("Connection refused")

        # When it leaves the block
        with pytest.raises(BackendUnavailable) as caught, translate_redis_errors("publish"):
            raise cause

        # Then it is storage_unavailable, chained to the cause and naming the operation
        assert caught.value.code == "storage_unavailable"
        assert caught.value.__cause__ is cause
        assert "publish" in str(caught.value)

    def test_a_server_error_is_unavailable_too(self) -> None:
        with pytest.raises(BackendUnavailable), translate_redis_errors("pull"):
            raise ResponseError("OOM command not allowed when used memory > 'maxmemory'")

    @pytest.mark.parametrize(
        ("ack_id", "partition"), [("3.1f", 3), ("0.0", 0), ("bogus", None), ("3.", None)]
    )
    def test_an_ack_id_names_its_partition(self, ack_id: str, partition: int | None) -> None:
        assert partition_of_ack(ack_id) == partition
