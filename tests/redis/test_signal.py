"""Redis only: a publish in one broker process wakes long polls in another."""

from __future__ import annotations

import asyncio
import time

import pytest

from pubsubgo.core.errors import BackendUnavailable
from tests.broker_process import eventually
from tests.redis.servers import RedisClusterServers, RedisServer, storage_on

pytestmark = pytest.mark.redis

#: A wake-up that takes this long was not a wake-up: the waits below last much longer.
WAKE_BOUND_SECONDS = 2.0


class TestWakeUps:
    async def test_a_notify_in_one_process_wakes_a_waiter_in_another(
        self, redis_server: RedisServer
    ) -> None:
        # Given two brokers' storages on one Redis, one of them waiting on a topic
        async with storage_on(redis_server.url) as waiter, storage_on(redis_server.url) as other:
            waiting = asyncio.create_task(waiter.signal.wait("orders", within=30))
            await _until_subscribed(redis_server)
            started = time.monotonic()

            # When the other one notifies the topic
            other.signal.notify("orders")

            # Then the waiter wakes at once
            assert await asyncio.wait_for(waiting, WAKE_BOUND_SECONDS) is True
            assert time.monotonic() - started < WAKE_BOUND_SECONDS

    async def test_a_notify_reaches_other_processes_through_a_cluster(
        self, redis_cluster: RedisClusterServers
    ) -> None:
        # Given two brokers' storages on a cluster, one of them waiting on a topic
        async with storage_on(redis_cluster.url) as waiter, storage_on(redis_cluster.url) as other:
            waiting = asyncio.create_task(waiter.signal.wait("orders", within=30))
            # When the other notifies (again until heard: the listener subscribes in the
            # background, on whichever node its client picks)
            async with asyncio.timeout(WAKE_BOUND_SECONDS * 5):
                while not waiting.done():
                    other.signal.notify("orders")
                    await asyncio.wait({waiting}, timeout=0.05)

            # Then the waiter wakes: PUBLISH reaches every node of a cluster
            assert waiting.result() is True

    async def test_a_wait_without_news_gives_up_after_its_time(
        self, redis_server: RedisServer
    ) -> None:
        async with storage_on(redis_server.url) as storage:
            assert await storage.signal.wait("quiet", within=0.05) is False

    async def test_a_notify_while_redis_is_down_costs_nothing_but_the_wake_up(
        self, own_server: RedisServer
    ) -> None:
        # Given a storage whose Redis has gone
        async with storage_on(own_server.url) as storage:
            own_server.kill()

            # When it notifies and waits
            storage.signal.notify("orders")
            woken = await storage.signal.wait("orders", within=0.05)

            # Then nothing fails: waits time out and Redis errors stay inside the signal
            assert woken is False
            with pytest.raises(BackendUnavailable):
                await storage.connection.ping()


async def _until_subscribed(server: RedisServer) -> None:
    """Wait (with a deadline) until a client listens on the wake-up channel."""

    async def listening() -> bool | None:
        with server.client() as client:
            return True if client.pubsub_numsub("psg:wake")[0][1] > 0 else None

    await eventually(listening, "the listener to subscribe", deadline=5)
