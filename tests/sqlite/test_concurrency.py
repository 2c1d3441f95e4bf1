"""SQLite: operations issued at the same time share commits and keep every rule."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from pubsubgo.adapters.sqlite import open_sqlite_storage
from pubsubgo.containers import build_broker
from pubsubgo.core.messages import PublishRequest
from pubsubgo.core.subscriptions import StartPosition, Subscription
from pubsubgo.core.topics import Topic
from pubsubgo.runtime.clock import ManualClock
from pubsubgo.services.broker import Broker

pytestmark = pytest.mark.sqlite

PUBLISHERS = 8
BATCHES = 20
BATCH = 25
CONSUMERS = 4
#: How long the consumers may take to drain everything.
DRAIN_SECONDS = 20.0


async def _publish(broker: Broker, publisher: int) -> list[str]:
    ids: list[str] = []
    for batch in range(BATCHES):
        requests = [PublishRequest(f"{publisher}-{batch}-{i}".encode()) for i in range(BATCH)]
        ids += await broker.publisher.publish("orders", requests)
    return ids


async def _consume(broker: Broker, seen: list[str], total: int) -> None:
    while len(seen) < total:
        deliveries = await broker.subscriber.pull("billing", 50, wait_seconds=0.2)
        seen += [d.message.data.decode() for d in deliveries]
        if deliveries:
            result = await broker.acks.ack("billing", [d.ack_id for d in deliveries])
            assert result.count == len(deliveries)


async def test_concurrent_publishers_and_consumers_lose_and_repeat_nothing(
    tmp_path: Path,
) -> None:
    # Given a broker on SQLite with a topic and a subscription
    storage = await open_sqlite_storage(tmp_path / "pubsubgo.db")
    broker = build_broker(storage, ManualClock())
    try:
        await broker.topics.create(Topic("orders", partitions=4))
        subscription = Subscription("billing", "orders", start=StartPosition.EARLIEST)
        await broker.subscriptions.create(subscription)
        total = PUBLISHERS * BATCHES * BATCH
        seen: list[str] = []
        # When publishers and consumers all run at once
        async with asyncio.timeout(DRAIN_SECONDS):
            consuming = (_consume(broker, seen, total) for _ in range(CONSUMERS))
            consumers = [asyncio.create_task(c) for c in consuming]
            published = await asyncio.gather(*(_publish(broker, p) for p in range(PUBLISHERS)))
            await asyncio.gather(*consumers)
        # Then every message got its own id, and was delivered exactly once
        ids = [id_ for batch in published for id_ in batch]
        assert len(set(ids)) == total
        assert len(seen) == total
        assert len(set(seen)) == total
        described = await broker.subscriptions.describe("billing")
        assert (described.stats.backlog, described.stats.in_flight) == (0, 0)
        assert (await broker.topics.describe("orders")).stats.messages == total
    finally:
        await storage.aclose()
