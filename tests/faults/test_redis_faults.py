"""Faults on the Redis backend under load: nothing that got a 201 is lost.

A producer publishes numbered messages and a consumer pulls and acks them while the broker,
or Redis itself, is killed with SIGKILL and restarted. Every message whose publish was
answered 201 must be delivered at least once afterwards.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import pytest

from tests.broker_process import BrokerProcess, eventually, running_broker, unique
from tests.redis.servers import AOF_ALWAYS, RedisServer

pytestmark = [pytest.mark.e2e, pytest.mark.redis]

#: Messages per publish request.
BATCH = 10
#: Kills per test, and how many confirmed messages to wait for before each kill.
KILLS = 3
CONFIRMED_BETWEEN_KILLS = 100
#: A short deadline and backoff, so that what a killed broker held comes back quickly.
SUBSCRIPTION = {"ack_deadline_seconds": 2, "retry_policy": {"minimum_backoff_seconds": 0.1}}
DRAIN_DEADLINE_SECONDS = 30.0
#: After a refused or failed request the load loops wait this long before trying again, so
#: that a dead broker is not hammered.
RETRY_PAUSE_SECONDS = 0.05


@dataclass
class Ledger:
    """What the load saw: payloads confirmed by a 201, and payloads delivered."""

    subscription: str
    sent: int = 0
    confirmed: set[str] = field(default_factory=set)
    delivered: set[str] = field(default_factory=set)
    acked: int = 0

    def report(self, what: str) -> str:
        lost = len(self.confirmed - self.delivered)
        return (
            f"\n{what}: sent {self.sent}, confirmed {len(self.confirmed)}, delivered"
            f" {len(self.delivered & self.confirmed)}, acked {self.acked}, lost {lost}"
        )


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
    with running_broker(tmp_path, settings) as process:
        yield process


async def test_killing_the_broker_repeatedly_loses_no_confirmed_message(
    broker: BrokerProcess,
) -> None:
    await faults_under_load(broker, broker.kill, broker.start, "broker killed")


async def test_killing_redis_with_aof_always_loses_no_confirmed_message(
    broker: BrokerProcess, redis: RedisServer
) -> None:
    await faults_under_load(broker, redis.kill, redis.start, "redis killed (appendfsync always)")


async def faults_under_load(
    broker: BrokerProcess, fail: Callable[[], None], restart: Callable[[], None], what: str
) -> None:
    """Under load, ``fail`` and ``restart`` something KILLS times; then every message whose
    publish got a 201 must be delivered."""
    async with _load(broker) as ledger:
        for _ in range(KILLS):
            await _wait_for_progress(ledger)
            fail()
            await asyncio.to_thread(restart)
    await _drained(broker, ledger)
    print(ledger.report(f"{what}, {KILLS} times"))
    assert ledger.confirmed <= ledger.delivered


@contextlib.asynccontextmanager
async def _load(broker: BrokerProcess) -> AsyncIterator[Ledger]:
    """Publish and consume in the background for as long as the block runs."""
    topic, subscription = unique("faults"), unique("faults-sub")
    ledger = Ledger(subscription)
    async with aiohttp.ClientSession(base_url=broker.url) as http:
        await _must(http, "/v1/topics", {"name": topic, "partitions": 2})
        await _must(
            http, "/v1/subscriptions",
            {"name": subscription, "topic": topic, "start": "earliest", **SUBSCRIPTION},
        )  # fmt: skip
        stop = asyncio.Event()
        tasks = [
            asyncio.create_task(_produce(http, topic, ledger, stop)),
            asyncio.create_task(_consume(http, subscription, ledger, stop)),
        ]
        try:
            yield ledger
        finally:
            stop.set()
            await asyncio.gather(*tasks)


async def _produce(
    http: aiohttp.ClientSession, topic: str, ledger: Ledger, stop: asyncio.Event
) -> None:
    for batch in itertools.count():
        if stop.is_set():
            return
        payloads = [f"m-{batch}-{i}" for i in range(BATCH)]
        ledger.sent += BATCH
        body = {"messages": [{"data": p} for p in payloads]}
        try:
            async with http.post(f"/v1/topics/{topic}/messages", json=body) as response:
                if response.status == 201:
                    ledger.confirmed.update(payloads)
                    continue
        except (TimeoutError, aiohttp.ClientError):
            pass
        await _pause(stop)


async def _consume(
    http: aiohttp.ClientSession, subscription: str, ledger: Ledger, stop: asyncio.Event
) -> None:
    while not stop.is_set():
        if not await _pull_and_ack(http, subscription, ledger):
            await _pause(stop)


async def _pause(stop: asyncio.Event) -> None:
    """Let an unreachable or empty broker be for a moment, or until the load stops."""
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(RETRY_PAUSE_SECONDS):
            await stop.wait()


async def _pull_and_ack(http: aiohttp.ClientSession, subscription: str, ledger: Ledger) -> bool:
    """One pull and its ack; False when the broker could not be reached or had nothing."""
    try:
        body = {"max_messages": 100, "wait_seconds": 0.2}
        async with http.post(f"/v1/subscriptions/{subscription}/pull", json=body) as response:
            if response.status != 200:
                return False
            messages = (await response.json())["messages"]
        if not messages:
            return False
        ledger.delivered.update(m["data"] for m in messages)
        ack = {"ack_ids": [m["ack_id"] for m in messages]}
        async with http.post(f"/v1/subscriptions/{subscription}/ack", json=ack) as response:
            if response.status == 200:
                ledger.acked += (await response.json())["acked"]
        return True
    except (TimeoutError, aiohttp.ClientError):
        return False


async def _wait_for_progress(ledger: Ledger) -> None:
    target = len(ledger.confirmed) + CONFIRMED_BETWEEN_KILLS

    async def progressed() -> bool | None:
        return True if len(ledger.confirmed) >= target else None

    await eventually(progressed, f"{target} confirmed messages", 20.0)


async def _drained(broker: BrokerProcess, ledger: Ledger) -> None:
    """Consume until every confirmed message was delivered (redeliveries included)."""
    async with aiohttp.ClientSession(base_url=broker.url) as http:

        async def all_delivered() -> bool | None:
            await _pull_and_ack(http, ledger.subscription, ledger)
            return True if ledger.confirmed <= ledger.delivered else None

        await eventually(all_delivered, "every confirmed message delivered", DRAIN_DEADLINE_SECONDS)


async def _must(http: aiohttp.ClientSession, path: str, body: dict[str, object]) -> None:
    async with http.post(path, json=body) as response:
        assert response.status == 201, await response.text()
