"""Redis only: with appendfsync always, a publish that returned survives kill -9."""

from __future__ import annotations

import asyncio
import logging

import pytest

from pubsubgo.adapters.redis.scripts import parse_version
from pubsubgo.containers import build_broker
from pubsubgo.core.errors import BackendUnavailable
from pubsubgo.core.messages import MessageId, PublishRequest
from pubsubgo.core.subscriptions import StartPosition, Subscription
from pubsubgo.core.topics import Topic
from pubsubgo.runtime.clock import ManualClock
from pubsubgo.services.broker import Broker
from tests.redis.servers import RedisServer, storage_on

pytestmark = pytest.mark.redis

#: Batches published before the kill: enough that the kill lands mid-stream.
BATCHES_BEFORE_KILL = 20
BATCH = 10


async def _publish_until_refused(
    broker: Broker, published: list[MessageId], going: asyncio.Event
) -> None:
    """Publish batches until Redis refuses; record the ids of every publish that returned."""
    number = 0
    while True:
        requests = [PublishRequest(f"{number}-{i}".encode()) for i in range(BATCH)]
        try:
            published += await broker.publisher.publish("orders", requests)
        except BackendUnavailable:
            return
        number += 1
        if number == BATCHES_BEFORE_KILL:
            going.set()


class TestKillNine:
    async def test_every_publish_that_returned_is_delivered_after_kill_9_and_restart(
        self, aof_server: RedisServer
    ) -> None:
        # Given a broker publishing in a loop to a Redis that fsyncs before answering
        published: list[MessageId] = []
        async with storage_on(aof_server.url, fsync=True) as storage:
            broker = build_broker(storage, ManualClock())
            await broker.topics.create(Topic("orders", partitions=3))
            await broker.subscriptions.create(
                Subscription("orders-sub", "orders", start=StartPosition.EARLIEST)
            )
            going = asyncio.Event()
            publisher = asyncio.create_task(_publish_until_refused(broker, published, going))

            # When Redis is killed with SIGKILL while the loop runs, then restarted on its AOF
            await going.wait()
            await asyncio.to_thread(aof_server.kill)
            await publisher
        aof_server.start()

        # Then every message whose publish returned is delivered
        async with storage_on(aof_server.url) as storage:
            broker = build_broker(storage, ManualClock())
            delivered: set[MessageId] = set()
            while batch := await broker.subscriber.pull("orders-sub", 1000):
                delivered |= {d.message.id for d in batch}
        assert len(published) >= BATCHES_BEFORE_KILL * BATCH
        assert set(published) <= delivered


class TestFsyncOption:
    def test_versions_compare_by_number(self) -> None:
        assert parse_version("7.0.15") < (7, 2) <= parse_version("7.2.0")
        assert parse_version("7.10.1") > (7, 2)

    async def test_fsync_without_an_aof_is_reported_on_redis_older_than_7_2(
        self, redis_server: RedisServer, caplog: pytest.LogCaptureFixture
    ) -> None:
        # Given the fsync option on a server without an AOF (7.0 has no WAITAOF)
        async with storage_on(redis_server.url, fsync=True) as storage:
            # When it writes
            with caplog.at_level(logging.WARNING):
                await storage.topics.create(Topic("orders"))

        # Then it says how to configure the server
        assert "set appendonly yes and appendfsync always" in caplog.text

    async def test_fsync_on_an_aof_always_server_writes_without_complaint(
        self, aof_server: RedisServer, caplog: pytest.LogCaptureFixture
    ) -> None:
        # Given the fsync option on a server with appendfsync always
        async with storage_on(aof_server.url, fsync=True) as storage:
            # When it writes
            with caplog.at_level(logging.WARNING):
                await storage.topics.create(Topic("orders"))

        # Then there is nothing to warn about
        assert "appendfsync" not in caplog.text
