"""PostgreSQL only: several broker processes on one database share every state change.

The scenarios are the Redis backend's (``tests/redis/test_brokers.py``), run here on two
storages with pools of their own (as two processes have) in one schema.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from pubsubgo.adapters.postgres import postgres_storage
from pubsubgo.containers import build_broker
from pubsubgo.core.messages import PublishRequest
from pubsubgo.ports.groups import GroupStore
from pubsubgo.runtime.clock import ManualClock
from pubsubgo.services.broker import Broker
from tests.conftest import unique
from tests.postgres.servers import PostgresServer, drop_schema, storage_on
from tests.redis.test_brokers import TestSharedState, _topic

__all__ = ["TestSharedState"]

pytestmark = pytest.mark.postgres


@pytest.fixture
async def schema(postgres_server: PostgresServer) -> AsyncIterator[str]:
    name = unique("brokers").replace("-", "_")
    yield name
    await drop_schema(postgres_server.url, name)


@pytest.fixture
async def two_brokers(
    postgres_server: PostgresServer, schema: str, clock: ManualClock
) -> AsyncIterator[tuple[Broker, Broker]]:
    """Two brokers with pools of their own on one database."""
    url = postgres_server.url
    async with storage_on(url, schema) as one, storage_on(url, schema) as other:
        yield build_broker(one, clock), build_broker(other, clock)


@pytest.fixture
async def two_group_stores(
    postgres_server: PostgresServer, schema: str, clock: ManualClock
) -> AsyncIterator[tuple[Broker, GroupStore, GroupStore]]:
    """A broker, and the group stores of two processes, on one database."""
    url = postgres_server.url
    async with storage_on(url, schema) as one, storage_on(url, schema) as other:
        yield build_broker(one, clock), one.groups, other.groups


async def test_many_concurrent_pulls_of_one_partition_hand_out_each_message_once(
    two_brokers: tuple[Broker, Broker],
) -> None:
    # Given 300 messages in one partition
    one, other = two_brokers
    topic, subscription = await _topic(one, partitions=1)
    await one.publisher.publish(topic, [PublishRequest(str(i).encode()) for i in range(300)])

    # When eight pulls at a time, through both brokers, take them until none is left
    seen: list[str] = []
    while True:
        batches = await asyncio.gather(
            *(b.subscriber.pull(subscription, 9) for b in (one, other) * 4)
        )
        if not any(batches):
            break
        seen += [d.message.id for batch in batches for d in batch]

    # Then each message went out exactly once
    assert len(seen) == len(set(seen)) == 300


async def test_brokers_starting_together_upgrade_the_schema_once(
    postgres_server: PostgresServer, schema: str
) -> None:
    # When four brokers start on a fresh schema at the same time
    storages = await asyncio.gather(
        *(postgres_storage(postgres_server.url, schema=schema) for _ in range(4))
    )
    try:
        # Then every one of them works on the same tables
        brokers = [build_broker(s, ManualClock()) for s in storages]
        topic, _ = await _topic(brokers[0])
        assert [t.name for t in await brokers[3].topics.list()] == [topic]
    finally:
        for storage in storages:
            await storage.aclose()
