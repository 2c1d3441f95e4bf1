"""A consumer that dies holding messages: they are delivered again, none is lost.

A WebSocket consumer's death closes its socket, which the broker notices at once; a
consumer that pulled over HTTP is only found out by its ack deadline (1 s here).
"""

from __future__ import annotations

import asyncio
import sys
import time
from typing import Any

import aiohttp
import pytest

from tests.faults.api import described, publish, topic_and_subscription
from tests.faults.broker import report
from tests.faults.conftest import StartBroker

pytestmark = pytest.mark.e2e

#: Messages the dying consumer holds.
COUNT = 200
#: The subscription's ack deadline, and its retry backoff after a missed deadline.
ACK_DEADLINE_SECONDS = 1
BACKOFF_SECONDS = 0.1
#: Redelivery is checked this often by the broker.
DUTY_SECONDS = "0.1"
#: How long anything in these tests may take.
DEADLINE_SECONDS = 20.0
SUBSCRIPTION = {
    "ack_deadline_seconds": ACK_DEADLINE_SECONDS,
    "retry_policy": {"minimum_backoff_seconds": BACKOFF_SECONDS, "maximum_backoff_seconds": 1},
}


async def held_by_a_consumer(url: str, sub: str, mode: str) -> asyncio.subprocess.Process:
    """A consumer process holding ``COUNT`` messages of ``sub``, unsettled."""
    consumer = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.faults.consumer", url, sub, mode, str(COUNT),
        stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert consumer.stdout is not None
    line = await asyncio.wait_for(consumer.stdout.readline(), DEADLINE_SECONDS)
    assert line.decode().strip() == f"holding {COUNT}"
    return consumer


async def pull_everything(http: aiohttp.ClientSession, url: str, sub: str) -> list[dict[str, Any]]:
    """Pull and ack until ``COUNT`` messages came; fails after the deadline."""
    received: list[dict[str, Any]] = []
    async with asyncio.timeout(DEADLINE_SECONDS):
        while len(received) < COUNT:
            body = {"max_messages": 1000, "wait_seconds": 5}
            async with http.post(f"{url}/v1/subscriptions/{sub}/pull", json=body) as response:
                batch = (await response.json())["messages"]
            if batch:
                ack = {"ack_ids": [m["ack_id"] for m in batch]}
                async with http.post(f"{url}/v1/subscriptions/{sub}/ack", json=ack) as response:
                    assert (await response.json())["acked"] == len(batch)
            received += batch
    return received


@pytest.mark.timeout(60)
@pytest.mark.parametrize("mode", ["ws", "pull"])
async def test_messages_held_by_a_killed_consumer_are_redelivered_and_none_is_lost(
    start_broker: StartBroker, mode: str
) -> None:
    # Given a consumer process holding every message of a subscription, unacked
    broker = start_broker(PUBSUB_BROKER_DUTY_INTERVAL_SECONDS=DUTY_SECONDS)
    async with aiohttp.ClientSession() as http:
        topic, sub = await topic_and_subscription(http, broker.url, **SUBSCRIPTION)
        sent = await publish(http, broker.url, topic, [f"m{i}" for i in range(COUNT)])
        consumer = await held_by_a_consumer(broker.url, sub, mode)
        # When it is killed without a word
        consumer.kill()
        await consumer.wait()
        killed = time.monotonic()
        # Then another consumer receives every message again, and acks it
        again = await pull_everything(http, broker.url, sub)
        delay = time.monotonic() - killed
        left = await described(http, broker.url, sub)
    assert sorted(m["id"] for m in again) == sorted(sent)
    assert {m["delivery_attempt"] for m in again} == {2}
    assert (left["backlog"], left["in_flight"]) == (0, 0)
    if mode == "pull":  # nothing tells the broker: it waits for the deadline
        assert delay >= ACK_DEADLINE_SECONDS * 0.5
    lost = set(sent) - {m["id"] for m in again}
    report(
        f"killed {mode} consumer", sent=len(sent), delivered=COUNT, held_by_the_dead=COUNT,
        redelivered=len(again), acknowledged=len(again), lost=len(lost),
        redelivered_within_s=round(delay, 2),
    )  # fmt: skip
