"""Faults on the PostgreSQL backend under load: nothing that got a 201 is lost.

The load and its ledger are the Redis fault tests' (``test_redis_faults.py``): a producer
publishes numbered messages and a consumer pulls and acks them while the broker is killed
with SIGKILL, or PostgreSQL is stopped with ``-m immediate`` (no shutdown checkpoint: it
recovers from its WAL on the next start), and restarted. Every message whose publish was
answered 201 must be delivered at least once afterwards.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.broker_process import BrokerProcess, running_broker
from tests.faults.test_redis_faults import faults_under_load
from tests.postgres.servers import PostgresServer

pytestmark = [pytest.mark.e2e, pytest.mark.postgres]


@pytest.fixture
def broker(own_postgres: PostgresServer, tmp_path: Path) -> Iterator[BrokerProcess]:
    settings = {
        "PUBSUB_STORAGE_BACKEND": "postgres",
        "PUBSUB_POSTGRES_URL": own_postgres.url,
        "PUBSUB_BROKER_DUTY_INTERVAL_SECONDS": "0.2",
    }
    with running_broker(tmp_path, settings) as process:
        yield process


async def test_killing_the_broker_repeatedly_loses_no_confirmed_message(
    broker: BrokerProcess,
) -> None:
    await faults_under_load(broker, broker.kill, broker.start, "broker killed")


async def test_stopping_postgres_immediately_loses_no_confirmed_message(
    broker: BrokerProcess, own_postgres: PostgresServer
) -> None:
    await faults_under_load(
        broker,
        functools.partial(own_postgres.stop, "immediate"),
        own_postgres.start,
        "postgres stopped -m immediate",
    )
