"""The broker on Redis when Redis goes away and comes back: bounded 503s, then recovery."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Protocol

import aiohttp
import pytest

from tests.broker_process import BrokerProcess, eventually, running_broker, unique
from tests.redis.servers import RedisServer

pytestmark = [pytest.mark.e2e, pytest.mark.redis]

#: A request while Redis is down must be answered within this long (never hang).
OUTAGE_ANSWER_BOUND_SECONDS = 5.0
RECOVERY_DEADLINE_SECONDS = 15.0


@pytest.fixture
def redis(tmp_path: Path) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path / "redis")
    server.directory.mkdir()
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def broker(redis: RedisServer, tmp_path: Path) -> Iterator[BrokerProcess]:
    settings = {"PUBSUB_STORAGE_BACKEND": "redis", "PUBSUB_REDIS_URL": redis.url}
    with running_broker(tmp_path, settings) as process:
        yield process


async def test_a_redis_outage_is_a_bounded_503_and_the_broker_recovers_by_itself(
    redis: RedisServer, broker: BrokerProcess
) -> None:
    await outage_and_recovery(redis, broker, "Redis")


class Storage(Protocol):
    """A storage server the test stops and starts again."""

    def stop(self) -> None: ...

    def start(self) -> None: ...


async def outage_and_recovery(server: Storage, broker: BrokerProcess, name: str) -> None:
    """The broker answers 503 quickly while ``server`` is stopped, and serves again by itself
    once it is back."""
    topic = unique("outage")
    async with aiohttp.ClientSession(base_url=broker.url) as http:
        # Given a working broker
        async with http.post("/v1/topics", json={"name": topic}) as created:
            assert created.status == 201

        # When its storage stops
        server.stop()
        started = time.monotonic()
        async with http.post(
            f"/v1/topics/{topic}/messages", json={"messages": [{"data": "x"}]}
        ) as r:
            status, body = r.status, await r.json()
        answered_in = time.monotonic() - started
        async with http.get("/readyz") as ready:
            ready_status = ready.status

        # Then publishing is refused with storage_unavailable, quickly, and readiness fails
        print(f"\nanswered in {answered_in:.2f} s while {name} was down")
        assert status == 503
        assert body["error"]["code"] == "storage_unavailable"
        assert answered_in < OUTAGE_ANSWER_BOUND_SECONDS
        assert ready_status == 503

        # And when it returns, the same broker serves again without a restart
        server.start()

        async def ready_again() -> bool | None:
            async with http.get("/readyz") as response:
                return True if response.status == 200 else None

        await eventually(ready_again, "readiness after the outage", RECOVERY_DEADLINE_SECONDS)
        async with http.post("/v1/topics", json={"name": unique("after")}) as again:
            assert again.status == 201
