"""Faults on the Redis backend under load: nothing that got a 201 is lost.

A producer publishes numbered messages and a consumer pulls and acks them while the broker,
or Redis itself, is killed with SIGKILL and restarted. Every message whose publish was
answered 201 must be delivered at least once afterwards.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.broker_process import BrokerProcess
from tests.faults.load import kills_under_load, started_broker
from tests.redis.servers import AOF_ALWAYS, RedisServer

pytestmark = [pytest.mark.e2e, pytest.mark.redis]


@pytest.fixture
def redis(tmp_path: Path) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path / "redis", AOF_ALWAYS)
    server.directory.mkdir()
    server.start()
    try:
        yield server
    finally:
        server.kill()


@pytest.fixture
def broker(redis: RedisServer, tmp_path: Path) -> Iterator[BrokerProcess]:
    settings = {
        "PUBSUB_STORAGE_BACKEND": "redis",
        "PUBSUB_REDIS_URL": redis.url,
        "PUBSUB_BROKER_DUTY_INTERVAL_SECONDS": "0.2",
    }
    with started_broker(tmp_path, settings) as process:
        yield process


async def test_killing_the_broker_repeatedly_loses_no_confirmed_message(
    broker: BrokerProcess,
) -> None:
    ledger = await kills_under_load(broker, broker, "broker")
    assert ledger.confirmed <= ledger.delivered


async def test_killing_redis_with_aof_always_loses_no_confirmed_message(
    broker: BrokerProcess, redis: RedisServer
) -> None:
    ledger = await kills_under_load(broker, redis, "redis (appendfsync always)")
    assert ledger.confirmed <= ledger.delivered
