"""Load for the kill tests: a producer and a consumer against a broker that may die.

A producer publishes numbered messages and a consumer pulls and acks them in the
background, into a ``Ledger`` of what was confirmed (answered 201) and what was delivered.
A test kills and restarts whatever it likes meanwhile, then drains: every confirmed message
must be delivered at least once.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import aiohttp

from tests.broker_process import BrokerProcess, eventually, unique

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


class Killable(Protocol):
    """A process the kill tests kill and start again: the broker, or its Redis."""

    def kill(self) -> None: ...

    def start(self) -> None: ...


@contextlib.contextmanager
def started_broker(workdir: Path, settings: dict[str, str]) -> Iterator[BrokerProcess]:
    """A broker with ``settings`` (``PUBSUB_`` variables), started, and killed at the end."""
    process = BrokerProcess(workdir, settings=settings)
    process.start()
    try:
        yield process
    finally:
        process.kill()


async def kills_under_load(broker: BrokerProcess, victim: Killable, what: str) -> Ledger:
    """Load ``broker`` while ``victim`` is killed and started again ``KILLS`` times, then
    consume until every confirmed message was delivered; what the load saw."""
    async with load(broker) as ledger:
        for _ in range(KILLS):
            await wait_for_progress(ledger)
            victim.kill()
            await asyncio.to_thread(victim.start)
    await drained(broker, ledger)
    print(ledger.report(f"{what} killed {KILLS} times"))
    return ledger


@contextlib.asynccontextmanager
async def load(broker: BrokerProcess) -> AsyncIterator[Ledger]:
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


async def wait_for_progress(ledger: Ledger) -> None:
    target = len(ledger.confirmed) + CONFIRMED_BETWEEN_KILLS

    async def progressed() -> bool | None:
        return True if len(ledger.confirmed) >= target else None

    await eventually(progressed, f"{target} confirmed messages", 20.0)


async def drained(broker: BrokerProcess, ledger: Ledger) -> None:
    """Consume until every confirmed message was delivered (redeliveries included)."""
    async with aiohttp.ClientSession(base_url=broker.url) as http:

        async def all_delivered() -> bool | None:
            await _pull_and_ack(http, ledger.subscription, ledger)
            return True if ledger.confirmed <= ledger.delivered else None

        await eventually(all_delivered, "every confirmed message delivered", DRAIN_DEADLINE_SECONDS)


async def _must(http: aiohttp.ClientSession, path: str, body: dict[str, object]) -> None:
    async with http.post(path, json=body) as response:
        assert response.status == 201, await response.text()
