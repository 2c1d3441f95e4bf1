"""Two broker processes on one PostgreSQL database: one consumer group across both.

The hand-over scenario is the Redis backend's (``test_replicas.py``), run on PostgreSQL;
beside it, live consumers of an unordered subscription on both brokers, none of which
ever gets a message another one got.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import aiohttp
import pytest

from tests.broker_process import BrokerProcess, eventually, unique
from tests.e2e.test_replicas import (
    GROUP_SETTINGS,
    Consumer,
    _created,
    _subscribe,
    test_a_killed_brokers_members_are_evicted_and_their_messages_handed_over,
)
from tests.postgres.servers import PostgresServer, drop_schema

__all__ = ["test_a_killed_brokers_members_are_evicted_and_their_messages_handed_over"]

pytestmark = [pytest.mark.e2e, pytest.mark.postgres]

#: Consumers per broker, and messages published while they all consume.
CONSUMERS_PER_BROKER = 2
MESSAGES = 600


@pytest.fixture
async def schema(postgres_server: PostgresServer) -> AsyncIterator[str]:
    name = unique("replicas").replace("-", "_")
    yield name
    await drop_schema(postgres_server.url, name)


@pytest.fixture
def brokers(
    postgres_server: PostgresServer, schema: str, tmp_path: Path
) -> Iterator[list[BrokerProcess]]:
    settings = {
        "PUBSUB_STORAGE_BACKEND": "postgres",
        "PUBSUB_POSTGRES_URL": postgres_server.url,
        "PUBSUB_POSTGRES_SCHEMA_NAME": schema,
        **GROUP_SETTINGS,
    }
    started = [BrokerProcess(tmp_path, settings=settings) for _ in range(2)]
    try:
        for broker in started:
            broker.start()
        yield started
    finally:
        for broker in started:
            broker.kill()


async def test_live_consumers_on_two_brokers_never_get_one_message_twice(
    brokers: list[BrokerProcess],
) -> None:
    topic, subscription = unique("shared"), unique("shared-sub")
    async with aiohttp.ClientSession() as http:
        # Given acking consumers of one subscription on each of two brokers
        first = brokers[0].url
        await _created(http, f"{first}/v1/topics", {"name": topic, "partitions": 4})
        await _created(http, f"{first}/v1/subscriptions", {"name": subscription, "topic": topic})
        consumers: list[tuple[Consumer, asyncio.Task[None]]] = [
            await _subscribe(http, broker.url, subscription, acks=True)
            for broker in brokers
            for _ in range(CONSUMERS_PER_BROKER)
        ]

        # When messages are published through both brokers while they consume
        for i in range(0, MESSAGES, 100):
            body = {"messages": [{"data": f"m{n}"} for n in range(i, i + 100)]}
            url = brokers[(i // 100) % 2].url
            await _created(http, f"{url}/v1/topics/{topic}/messages", body)

        # Then every message reaches exactly one consumer, once
        def counts() -> Counter[str]:
            return Counter(m["id"] for consumer, _ in consumers for m in consumer.received)

        async def all_received() -> bool | None:
            return True if len(counts()) >= MESSAGES else None

        await eventually(all_received, "every message delivered")
        per_consumer = [len(consumer.ids()) for consumer, _ in consumers]
        print(f"\nmessages {MESSAGES} over {len(consumers)} consumers: {per_consumer}")
        assert max(counts().values()) == 1, "a message went to two consumers"
        assert sum(per_consumer) == MESSAGES
        for consumer, task in consumers:
            await consumer.ws.close()
            await task
