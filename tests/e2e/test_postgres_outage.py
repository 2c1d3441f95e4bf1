"""The broker on PostgreSQL when PostgreSQL goes away and comes back: bounded 503s, then
recovery without a restart (the Redis outage test's scenario)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.broker_process import BrokerProcess, running_broker
from tests.e2e.test_redis_outage import outage_and_recovery
from tests.postgres.servers import PostgresServer

pytestmark = [pytest.mark.e2e, pytest.mark.postgres]


@pytest.fixture
def broker(own_postgres: PostgresServer, tmp_path: Path) -> Iterator[BrokerProcess]:
    settings = {"PUBSUB_STORAGE_BACKEND": "postgres", "PUBSUB_POSTGRES_URL": own_postgres.url}
    with running_broker(tmp_path, settings) as process:
        yield process


async def test_a_postgres_outage_is_a_bounded_503_and_the_broker_recovers_by_itself(
    own_postgres: PostgresServer, broker: BrokerProcess
) -> None:
    await outage_and_recovery(own_postgres, broker, "PostgreSQL")
