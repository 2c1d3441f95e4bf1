"""Two brokers on one Redis: one group across both, and a broker killed under load."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.broker_process import BrokerProcess, eventually, unique
from tests.redis.servers import RedisServer

pytestmark = [pytest.mark.e2e, pytest.mark.redis]

#: Short group timings so that an eviction happens within the test's deadline.
SESSION_TIMEOUT_SECONDS = 3.0
GROUP_SETTINGS = {
    "PUBSUB_GROUPS_HEARTBEAT_INTERVAL_SECONDS": "0.5",
    "PUBSUB_GROUPS_SESSION_TIMEOUT_SECONDS": str(SESSION_TIMEOUT_SECONDS),
    "PUBSUB_BROKER_DUTY_INTERVAL_SECONDS": "0.2",
}
#: The eviction happens after the session timeout, plus a duty round and a rebalance.
HANDOVER_DEADLINE_SECONDS = SESSION_TIMEOUT_SECONDS + 7
MESSAGES = 40


@pytest.fixture
def brokers(redis_server: RedisServer, tmp_path: Path) -> Iterator[list[BrokerProcess]]:
    settings = {
        "PUBSUB_STORAGE_BACKEND": "redis",
        "PUBSUB_REDIS_URL": redis_server.url,
        **GROUP_SETTINGS,
    }
    started = [BrokerProcess(tmp_path, settings=settings) for _ in range(2)]
    try:
        for broker in started:
            broker.start()
        yield started
    finally:
        for broker in started:
            broker.kill()


class Consumer:
    """A WebSocket consumer: what it received, and whether it acks."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse, acks: bool) -> None:
        self.ws = ws
        self.acks = acks
        self.received: list[dict[str, Any]] = []
        self.frames: list[str] = []

    async def run(self) -> None:
        async for frame in self.ws:
            if frame.type is not aiohttp.WSMsgType.TEXT:
                return
            data = frame.json()
            self.frames.append(data["type"])
            if data["type"] == "message":
                self.received.append(data)
                if self.acks:
                    await self.ws.send_json({"type": "ack", "ack_ids": [data["ack_id"]]})

    def ids(self) -> set[str]:
        return {m["id"] for m in self.received}


async def _subscribe(
    http: aiohttp.ClientSession, url: str, subscription: str, acks: bool
) -> tuple[Consumer, asyncio.Task[None]]:
    ws = await http.ws_connect(f"{url}/v1/ws")
    await ws.send_json({"type": "subscribe", "subscription": subscription})
    consumer = Consumer(ws, acks)
    return consumer, asyncio.create_task(consumer.run())


async def test_a_killed_brokers_members_are_evicted_and_their_messages_handed_over(
    brokers: list[BrokerProcess],
) -> None:
    doomed, survivor = brokers
    topic, subscription = unique("replicas"), unique("replicas-sub")
    async with aiohttp.ClientSession() as http:
        # Given an ordered subscription with a consumer on each broker
        await _created(http, f"{survivor.url}/v1/topics", {"name": topic, "partitions": 4})
        await _created(
            http,
            f"{doomed.url}/v1/subscriptions",
            {"name": subscription, "topic": topic, "ordered": True, "ack_deadline_seconds": 600},
        )
        holder, holder_task = await _subscribe(http, doomed.url, subscription, acks=False)
        acker, acker_task = await _subscribe(http, survivor.url, subscription, acks=True)
        await eventually(lambda: _both_assigned(http, survivor.url, subscription), "two members")

        # When messages are published and the holder's broker dies holding its share unacked
        body = {"messages": [{"data": f"m{i}", "key": f"k{i}"} for i in range(MESSAGES)]}
        await _created(http, f"{survivor.url}/v1/topics/{topic}/messages", body)
        await eventually(lambda: _received(holder, acker, MESSAGES), "every message delivered")
        held = holder.ids()
        assert held, "the holder owned no partition"
        assert not held & acker.ids(), "a message went to two members at once"
        doomed.kill()
        await holder_task

        # Then the survivor's consumer gets the held messages within the session timeout
        await eventually(
            lambda: _received_all(acker, held), "the hand-over", HANDOVER_DEADLINE_SECONDS
        )
        print(f"\nmessages {MESSAGES}: held by the killed broker {len(held)}, handed over"
              f" {len(held & acker.ids())}, lost {MESSAGES - len(acker.ids() | held)}")  # fmt: skip
        assert len(acker.ids()) == MESSAGES
        # The socket learns of the new generation at its next heartbeat.
        await eventually(lambda: _told_of_rebalance(acker), "a rebalanced notice")
        await acker.ws.close()
        await acker_task


async def _created(http: aiohttp.ClientSession, url: str, body: dict[str, Any]) -> None:
    async with http.post(url, json=body) as response:
        assert response.status == 201, await response.text()


async def _both_assigned(http: aiohttp.ClientSession, url: str, subscription: str) -> bool | None:
    async with http.get(f"{url}/v1/subscriptions/{subscription}") as response:
        described = await response.json()
    members = described.get("members") or described.get("group", {}).get("members", [])
    return True if len(members) == 2 else None


async def _received(one: Consumer, other: Consumer, count: int) -> bool | None:
    return True if len(one.ids() | other.ids()) >= count else None


async def _told_of_rebalance(consumer: Consumer) -> bool | None:
    return True if "rebalanced" in consumer.frames else None


async def _received_all(consumer: Consumer, expected: set[str]) -> bool | None:
    return True if expected <= consumer.ids() else None
