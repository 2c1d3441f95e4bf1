"""PostgreSQL only: with PostgreSQL away every port fails fast with storage_unavailable, and
the same storage recovers by itself when it returns (the Redis outage tests' checks)."""

from __future__ import annotations

import pytest

from pubsubgo.containers import build_broker
from pubsubgo.core.errors import BackendUnavailable
from pubsubgo.core.messages import PublishRequest
from pubsubgo.runtime.clock import ManualClock
from tests.postgres.servers import PostgresServer, storage_on
from tests.redis.test_outage import (
    FAILURE_BOUND_SECONDS,
    _broker_with_a_delivery,
    _fails_fast,
    every_port,
)

pytestmark = pytest.mark.postgres

#: A short statement timeout, for the server that stops answering without closing anything.
SHORT_STATEMENT_TIMEOUT = 0.5


class TestPostgresAway:
    async def test_every_port_fails_fast_with_storage_unavailable_when_postgres_stops(
        self, own_postgres: PostgresServer
    ) -> None:
        async with storage_on(own_postgres.url, "pubsubgo", definition_ttl=0) as storage:
            # Given a broker with a topic, a subscription and a delivery in flight
            broker = build_broker(storage, ManualClock())
            _, sub, ack_id = await _broker_with_a_delivery(broker)

            # When PostgreSQL stops at once (no shutdown checkpoint)
            own_postgres.stop("immediate")

            # Then every operation fails with storage_unavailable well within the bound
            took = [await _fails_fast(op) for op in every_port(broker, storage, sub, ack_id)]
            assert max(took) < FAILURE_BOUND_SECONDS

    async def test_a_postgres_that_stops_answering_fails_calls_after_the_statement_timeout(
        self, own_postgres: PostgresServer
    ) -> None:
        options = {"statement_timeout": SHORT_STATEMENT_TIMEOUT}
        async with storage_on(own_postgres.url, "pubsubgo", **options) as storage:
            # Given a broker with a delivery in flight
            broker = build_broker(storage, ManualClock())
            topic, sub, ack_id = await _broker_with_a_delivery(broker)

            # When PostgreSQL freezes (SIGSTOP: connections stay open, nothing answers)
            own_postgres.pause()
            try:
                took = [
                    await _fails_fast(
                        lambda: broker.publisher.publish(topic, [PublishRequest(b"x")])
                    ),
                    await _fails_fast(lambda: broker.acks.ack(sub, [ack_id])),
                    await _fails_fast(storage.connection.ping),
                ]
            finally:
                own_postgres.resume()

            # Then each call gave up after about one statement timeout
            assert max(took) < FAILURE_BOUND_SECONDS

    async def test_the_same_storage_works_again_when_postgres_returns(
        self, own_postgres: PostgresServer
    ) -> None:
        async with storage_on(own_postgres.url, "pubsubgo") as storage:
            # Given a storage that saw its PostgreSQL go away
            broker = build_broker(storage, ManualClock())
            topic, sub, _ = await _broker_with_a_delivery(broker)
            own_postgres.stop("immediate")
            with pytest.raises(BackendUnavailable):
                await storage.connection.ping()

            # When PostgreSQL comes back (after crash recovery)
            own_postgres.start()

            # Then the same storage answers again, without being told, and kept its data
            await storage.connection.ping()
            await broker.publisher.publish(topic, [PublishRequest(b"back")])
            deliveries = await broker.subscriber.pull(sub)
            # (A claim is committed without waiting for the disk: the one of "first" may
            # have been lost with the server, and then "first" is delivered again.)
            assert [d.message.data for d in deliveries][-1:] == [b"back"]
            assert {d.message.data for d in deliveries} <= {b"first", b"back"}
