"""Redis only: with Redis away every port fails fast with storage_unavailable, and the same
client recovers by itself when Redis returns."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

import pytest

from pubsubgo.containers import build_broker
from pubsubgo.core.errors import BackendUnavailable
from pubsubgo.core.messages import AckId, PublishRequest
from pubsubgo.core.subscriptions import StartPosition, Subscription
from pubsubgo.core.topics import Topic
from pubsubgo.ports.storage import Storage
from pubsubgo.runtime.clock import ManualClock
from pubsubgo.services.broker import Broker
from tests.redis.servers import RedisServer, storage_on

pytestmark = pytest.mark.redis

#: The bound the brief asks for: a client hears of an outage in under three seconds.
FAILURE_BOUND_SECONDS = 3.0
#: A short socket timeout, for the server that stops answering without closing anything.
SHORT_SOCKET_TIMEOUT = 0.5


async def _fails_fast(operation: Callable[[], Awaitable[object]]) -> float:
    started = time.monotonic()
    with pytest.raises(BackendUnavailable) as caught:
        await operation()
    assert caught.value.code == "storage_unavailable"
    assert caught.value.__cause__ is not None  # chained to the Redis error
    return time.monotonic() - started


async def _broker_with_a_delivery(broker: Broker) -> tuple[str, str, AckId]:
    await broker.topics.create(Topic("orders", partitions=2))
    await broker.subscriptions.create(
        Subscription("orders-sub", "orders", start=StartPosition.EARLIEST)
    )
    await broker.publisher.publish("orders", [PublishRequest(b"first")])
    [delivery] = await broker.subscriber.pull("orders-sub")
    return "orders", "orders-sub", delivery.ack_id


def every_port(
    broker: Broker, storage: Storage, sub: str, ack_id: AckId
) -> list[Callable[[], Awaitable[object]]]:
    """One call through each port of a broker with a delivery in flight (see below)."""
    topic = "orders"
    return [
        lambda: broker.publisher.publish(topic, [PublishRequest(b"lost")]),
        lambda: broker.subscriber.pull(sub),
        lambda: broker.acks.ack(sub, [ack_id]),
        lambda: broker.acks.nack(sub, [ack_id]),
        lambda: broker.acks.extend(sub, [ack_id], 30),
        lambda: broker.topics.describe(topic),
        lambda: broker.topics.list(),
        lambda: broker.subscriptions.describe(sub),
        lambda: broker.subscriptions.seek(sub, position="earliest"),
        lambda: broker.groups.join(sub),
        lambda: broker.run_duties(),
        lambda: storage.connection.ping(),
    ]


class TestRedisAway:
    async def test_every_port_fails_fast_with_storage_unavailable_when_redis_is_killed(
        self, own_server: RedisServer
    ) -> None:
        async with storage_on(own_server.url) as storage:
            # Given a broker with a topic, a subscription and a delivery in flight
            broker = build_broker(storage, ManualClock())
            _, sub, ack_id = await _broker_with_a_delivery(broker)

            # When Redis is killed
            own_server.kill()

            # Then every operation fails with storage_unavailable well within the bound
            took = [await _fails_fast(op) for op in every_port(broker, storage, sub, ack_id)]
            assert max(took) < FAILURE_BOUND_SECONDS

    async def test_a_redis_that_stops_answering_fails_calls_after_the_socket_timeout(
        self, own_server: RedisServer
    ) -> None:
        options = {"socket_timeout": SHORT_SOCKET_TIMEOUT}
        async with storage_on(own_server.url, client_options=options) as storage:
            # Given a broker with a delivery in flight
            broker = build_broker(storage, ManualClock())
            topic, sub, ack_id = await _broker_with_a_delivery(broker)

            # When Redis freezes (SIGSTOP: connections stay open, nothing answers)
            own_server.pause()
            try:
                took = [
                    await _fails_fast(
                        lambda: broker.publisher.publish(topic, [PublishRequest(b"x")])
                    ),
                    await _fails_fast(lambda: broker.acks.ack(sub, [ack_id])),
                    await _fails_fast(storage.connection.ping),
                ]
            finally:
                own_server.resume()

            # Then each call gave up after about one socket timeout
            assert max(took) < FAILURE_BOUND_SECONDS

    async def test_the_same_client_works_again_when_redis_returns(
        self, own_server: RedisServer
    ) -> None:
        async with storage_on(own_server.url) as storage:
            # Given a storage that saw its Redis go away
            broker = build_broker(storage, ManualClock())
            await _broker_with_a_delivery(broker)
            own_server.kill()
            with pytest.raises(BackendUnavailable):
                await storage.connection.ping()

            # When Redis comes back on the same port (empty, with no scripts loaded)
            own_server.start()

            # Then the same storage answers again, without being told
            await storage.connection.ping()
            await broker.topics.create(Topic("again"))
            await broker.subscriptions.create(
                Subscription("again-sub", "again", start=StartPosition.EARLIEST)
            )
            await broker.publisher.publish("again", [PublishRequest(b"back")])
            [delivery] = await broker.subscriber.pull("again-sub")
            assert delivery.message.data == b"back"
