"""Faults on the PostgreSQL backend under load: nothing that got a 201 is lost.

The load and its ledger are the Redis fault tests' (``test_redis_faults.py``): a producer
publishes numbered messages and a consumer pulls and acks them while the broker is killed
with SIGKILL, or PostgreSQL is stopped with ``-m immediate`` (no shutdown checkpoint: it
recovers from its WAL on the next start), and restarted. Every message whose publish was
answered 201 must be delivered at least once afterwards.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.broker_process import BrokerProcess
from tests.faults.test_redis_faults import KILLS, _drained, _load, _wait_for_progress
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
    settings = {
        "PUBSUB_STORAGE_BACKEND": "postgres",
        "PUBSUB_POSTGRES_URL": postgres.url,
        "PUBSUB_BROKER_DUTY_INTERVAL_SECONDS": "0.2",
    }
    process = BrokerProcess(tmp_path, settings=settings)
    process.start()
    try:
        yield process
    finally:
        process.kill()


async def test_killing_the_broker_repeatedly_loses_no_confirmed_message(
    broker: BrokerProcess,
) -> None:
    async with _load(broker) as ledger:
        for _ in range(KILLS):
            await _wait_for_progress(ledger)
            broker.kill()
            await asyncio.to_thread(broker.start)
    await _drained(broker, ledger)
    print(ledger.report(f"broker killed {KILLS} times"))
    assert ledger.confirmed <= ledger.delivered


async def test_stopping_postgres_immediately_loses_no_confirmed_message(
    broker: BrokerProcess, postgres: PostgresServer
) -> None:
    async with _load(broker) as ledger:
        for _ in range(KILLS):
            await _wait_for_progress(ledger)
            await asyncio.to_thread(postgres.stop, "immediate")
            await asyncio.to_thread(postgres.start)
    await _drained(broker, ledger)
    print(ledger.report(f"postgres stopped -m immediate {KILLS} times"))
    assert ledger.confirmed <= ledger.delivered
