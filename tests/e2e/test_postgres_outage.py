"""The broker on PostgreSQL when PostgreSQL goes away and comes back: bounded 503s, then
recovery without a restart (the Redis outage test's scenario)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.broker_process import BrokerProcess
from tests.e2e.test_redis_outage import outage_and_recovery
from tests.postgres.servers import DURABLE, PostgresServer

pytestmark = [pytest.mark.e2e, pytest.mark.postgres]


@pytest.fixture
def postgres() -> Iterator[PostgresServer]:
    server = PostgresServer(DURABLE)
    try:
        server.init()
        server.start()
        yield server
    finally:
        server.remove()


@pytest.fixture
def broker(postgres: PostgresServer, tmp_path: Path) -> Iterator[BrokerProcess]:
    settings = {"PUBSUB_STORAGE_BACKEND": "postgres", "PUBSUB_POSTGRES_URL": postgres.url}
    process = BrokerProcess(tmp_path, settings=settings)
    process.start()
    try:
        yield process
    finally:
        process.kill()


async def test_a_postgres_outage_is_a_bounded_503_and_the_broker_recovers_by_itself(
    postgres: PostgresServer, broker: BrokerProcess
) -> None:
    await outage_and_recovery(postgres, broker, "PostgreSQL")
