"""Faults on the SQLite backend: ``kill -9`` of the broker loses nothing it confirmed.

The file is the broker's only state, so a broker killed with SIGKILL and started again on
the same file must deliver every message whose publish was answered 201 (the load and its
ledger are the Redis fault tests', ``test_redis_faults.py``), and give back what was handed
out and never acknowledged.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest

from tests.broker_process import BrokerProcess, eventually, running_broker
from tests.faults.api import call, publish, topic_and_subscription
from tests.faults.test_redis_faults import SUBSCRIPTION, faults_under_load

pytestmark = [pytest.mark.e2e, pytest.mark.sqlite]

#: How long what a killed broker handed out may take to come back (deadline 2 s + backoff).
REDELIVERY_DEADLINE_SECONDS = 15.0


@pytest.fixture(params=["normal", "full"])
def broker(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[BrokerProcess]:
    settings = {
        "PUBSUB_STORAGE_BACKEND": "sqlite",
        "PUBSUB_SQLITE_PATH": str(tmp_path / "data" / "pubsubgo.db"),
        "PUBSUB_SQLITE_SYNCHRONOUS": request.param,
        "PUBSUB_BROKER_DUTY_INTERVAL_SECONDS": "0.2",
    }
    with running_broker(tmp_path, settings) as process:
        yield process


async def test_killing_the_broker_under_load_loses_no_confirmed_message(
    broker: BrokerProcess,
) -> None:
    await faults_under_load(broker, broker.kill, broker.start, "broker on sqlite killed")


async def test_what_was_handed_out_and_not_acked_comes_back_after_a_kill(
    broker: BrokerProcess,
) -> None:
    url = broker.url
    async with aiohttp.ClientSession() as http:
        # Given 50 stored messages, 20 of them pulled and never acknowledged
        topic, subscription = await topic_and_subscription(http, url, **SUBSCRIPTION)
        texts = [f"m{i}" for i in range(50)]
        await publish(http, url, topic, texts)
        pull = f"{url}/v1/subscriptions/{subscription}/pull"
        pulled = await call(http, "POST", pull, json={"max_messages": 20})
        unacked = {m["data"] for m in pulled["messages"]}
        assert len(unacked) == 20
    # When the broker is killed and started again on its file
    broker.kill()
    await asyncio.to_thread(broker.start)
    # Then every message is delivered: the 20 again (attempt 2), the other 30 for the first time
    attempts = await _consume_all(broker, subscription, len(texts))
    assert set(attempts) == set(texts)
    assert {t for t, attempt in attempts.items() if attempt == 2} == unacked
    assert {t for t, attempt in attempts.items() if attempt == 1} == set(texts) - unacked


async def _consume_all(broker: BrokerProcess, subscription: str, count: int) -> dict[str, int]:
    """Pull and ack until ``count`` distinct messages came; each one's delivery attempt."""
    attempts: dict[str, int] = {}
    base = f"{broker.url}/v1/subscriptions/{subscription}"
    async with aiohttp.ClientSession() as http:

        async def everything() -> bool | None:
            body = {"max_messages": 100, "wait_seconds": 0.5}
            messages = (await call(http, "POST", f"{base}/pull", json=body))["messages"]
            attempts.update((m["data"], m["delivery_attempt"]) for m in messages)
            if messages:
                ack = {"ack_ids": [m["ack_id"] for m in messages]}
                await call(http, "POST", f"{base}/ack", json=ack)
            return True if len(attempts) >= count else None

        await eventually(everything, f"{count} messages delivered", REDELIVERY_DEADLINE_SECONDS)
    return attempts
