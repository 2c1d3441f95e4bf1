"""Redis only: a notification in one broker process reaches the listeners of another."""

from __future__ import annotations

import asyncio
import time

import pytest

from pubsubgo.core.errors import BackendUnavailable
from pubsubgo.ports.signals import MessageSignal
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
            heard = _Heard(waiter.signal)
            await _until_subscribed(redis_server)
            started = time.monotonic()

            # When the other one notifies the topic
            other.signal.notify("orders")

            # Then the waiter hears of it at once
            await heard.topic("orders", WAKE_BOUND_SECONDS)
            assert time.monotonic() - started < WAKE_BOUND_SECONDS

    async def test_news_for_one_subscription_reaches_another_process_as_such(
        self, redis_server: RedisServer
    ) -> None:
        async with storage_on(redis_server.url) as waiter, storage_on(redis_server.url) as other:
            heard = _Heard(waiter.signal)
            await _until_subscribed(redis_server)

            other.signal.notify("orders", "billing")

            await heard.topic("orders", WAKE_BOUND_SECONDS)
            assert ("orders", "billing") in heard.scoped

    async def test_a_notify_reaches_other_processes_through_a_cluster(
        self, redis_cluster: RedisClusterServers
    ) -> None:
        # Given two brokers' storages on a cluster, one of them waiting on a topic
        async with storage_on(redis_cluster.url) as waiter, storage_on(redis_cluster.url) as other:
            heard = _Heard(waiter.signal)
            # When the other notifies (again until heard: the listener subscribes in the
            # background, on whichever node its client picks)
            async with asyncio.timeout(WAKE_BOUND_SECONDS * 5):
                while "orders" not in heard.topics:
                    other.signal.notify("orders")
                    await asyncio.sleep(0.05)

            # Then the waiter hears it: PUBLISH reaches every node of a cluster
            assert "orders" in heard.topics

    async def test_a_listener_that_subscribes_hears_that_anything_may_have_news(
        self, redis_server: RedisServer
    ) -> None:
        # Given a storage whose first listener has just subscribed
        async with storage_on(redis_server.url) as storage:
            heard = _Heard(storage.signal)
            await _until_subscribed(redis_server)

            # Then the listener is told (None) that what came before may have been missed
            await heard.topic(None, WAKE_BOUND_SECONDS)

    async def test_a_notify_reaches_this_process_s_listeners_at_once(
        self, redis_server: RedisServer
    ) -> None:
        async with storage_on(redis_server.url) as storage:
            heard = _Heard(storage.signal)
            storage.signal.notify("local")
            assert "local" in heard.topics

    async def test_a_notify_while_redis_is_down_costs_nothing_but_the_wake_up(
        self, own_server: RedisServer
    ) -> None:
        # Given a storage whose Redis has gone
        async with storage_on(own_server.url) as storage:
            heard = _Heard(storage.signal)
            own_server.kill()

            # When it notifies
            storage.signal.notify("orders")
            await asyncio.sleep(0)  # the PUBLISH is attempted on the next loop turn

            # Then its own listeners hear it and Redis errors stay inside the signal
            assert "orders" in heard.topics
            with pytest.raises(BackendUnavailable):
                await storage.connection.ping()


async def _until_subscribed(server: RedisServer) -> None:
    """Wait (with a deadline) until a client listens on the wake-up channel."""

    async def listening() -> bool | None:
        with server.client() as client:
            return True if client.pubsub_numsub("psg:wake")[0][1] > 0 else None

    await eventually(listening, "the listener to subscribe", deadline=5)


class _Heard:
    """A listener that remembers what it heard and lets a test wait for a topic."""

    def __init__(self, signal: MessageSignal) -> None:
        self.topics: list[str | None] = []
        self.scoped: list[tuple[str | None, str | None]] = []
        self._news = asyncio.Event()
        signal.listen(self._heard)

    def _heard(self, topic: str | None, subscription: str | None) -> None:
        self.topics.append(topic)
        self.scoped.append((topic, subscription))
        self._news.set()

    async def topic(self, topic: str | None, within: float) -> None:
        """Return once ``topic`` was heard; TimeoutError after ``within`` seconds."""
        async with asyncio.timeout(within):
            while topic not in self.topics:
                self._news.clear()
                await self._news.wait()
