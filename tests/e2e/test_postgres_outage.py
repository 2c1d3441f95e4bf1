"""The broker on PostgreSQL when PostgreSQL goes away and comes back: bounded 503s, then
recovery without a restart."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest

from tests.broker_process import BrokerProcess, eventually, unique
from tests.postgres.servers import DURABLE, PostgresServer

pytestmark = [pytest.mark.e2e, pytest.mark.postgres]

#: A request while PostgreSQL is down must be answered within this long (never hang).
OUTAGE_ANSWER_BOUND_SECONDS = 5.0
RECOVERY_DEADLINE_SECONDS = 15.0


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
    topic = unique("outage")
    async with aiohttp.ClientSession(base_url=broker.url) as http:
        # Given a working broker
        async with http.post("/v1/topics", json={"name": topic}) as created:
            assert created.status == 201

        # When PostgreSQL stops
        postgres.stop("fast")
        started = time.monotonic()
        async with http.post(
            f"/v1/topics/{topic}/messages", json={"messages": [{"data": "x"}]}
        ) as r:
            status, body = r.status, await r.json()
        answered_in = time.monotonic() - started
        async with http.get("/readyz") as ready:
            ready_status = ready.status

        # Then publishing is refused with storage_unavailable, quickly, and readiness fails
        print(f"\nanswered in {answered_in:.2f} s while PostgreSQL was down")
        assert status == 503
        assert body["error"]["code"] == "storage_unavailable"
        assert answered_in < OUTAGE_ANSWER_BOUND_SECONDS
        assert ready_status == 503

        # And when PostgreSQL returns, the same broker serves again without a restart
        postgres.start()

        async def ready_again() -> bool | None:
            async with http.get("/readyz") as response:
                return True if response.status == 200 else None

        await eventually(ready_again, "readiness after the outage", RECOVERY_DEADLINE_SECONDS)
        async with http.post(
            f"/v1/topics/{topic}/messages", json={"messages": [{"data": "y"}]}
        ) as again:
            assert again.status == 201
