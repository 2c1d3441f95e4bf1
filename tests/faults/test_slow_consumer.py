"""A slow consumer: flow control keeps what the broker sends it, and so the broker's
memory, bounded while a publisher floods its subscription."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

import aiohttp
import pytest

from tests.faults.api import call, topic_and_subscription
from tests.faults.broker import Broker, report
from tests.faults.conftest import StartBroker

pytestmark = pytest.mark.e2e

#: What is published: 50,000 messages of 1 KiB, in batches.
MESSAGES = 50_000
SIZE = 1024
BATCH = 500
#: The consumer's window, and how many it acks per published batch while the flood lasts.
MAX_IN_FLIGHT = 10
ACKS_PER_BATCH = 10
#: How long the whole test may take.
DEADLINE_SECONDS = 90.0
#: The broker's memory may grow by at most this many bytes per byte of payload stored. The
#: memory backend keeps every message (payload, envelope, indexes): about 1.5 times its
#: payload. Without flow control the socket's send buffer would hold the flood once more
#: as JSON frames, which would take it past 2.5.
GROWTH_PER_PAYLOAD_BYTE = 2.0


@dataclass
class SlowConsumer:
    """A WebSocket consumer that acks only when told to, counting what it holds."""

    ws: aiohttp.ClientWebSocketResponse
    held: list[str] = field(default_factory=list)
    received: set[str] = field(default_factory=set)
    acked: int = 0
    most_held: int = 0
    arrived: asyncio.Event = field(default_factory=asyncio.Event)

    async def read(self) -> None:
        async for message in self.ws:
            frame = message.json()
            if frame["type"] == "message":
                self.held.append(frame["ack_id"])
                self.received.add(frame["id"])
                self.most_held = max(self.most_held, len(self.held))
                self.arrived.set()

    async def ack(self, count: int) -> None:
        """Ack up to ``count`` of the held messages."""
        batch, self.held = self.held[:count], self.held[count:]
        if batch:
            await self.ws.send_json({"type": "ack", "ack_ids": batch})
            self.acked += len(batch)


async def flood(
    http: aiohttp.ClientSession, broker: Broker, topic: str, consumer: SlowConsumer
) -> float:
    """Publish every message; after each batch the consumer acks a few. The broker's
    highest resident memory, in MiB."""
    payload = "x" * SIZE
    peak = 0.0
    for _ in range(MESSAGES // BATCH):
        body = {"messages": [{"data": payload}] * BATCH}
        await call(http, "POST", f"{broker.url}/v1/topics/{topic}/messages", json=body)
        await consumer.ack(ACKS_PER_BATCH)
        peak = max(peak, broker.memory().rss_mib)
    return peak


async def drain(consumer: SlowConsumer) -> None:
    """Ack as fast as messages come until every one was received."""
    while len(consumer.received) < MESSAGES or consumer.held:
        if not consumer.held:
            consumer.arrived.clear()
            await consumer.arrived.wait()
        await consumer.ack(MAX_IN_FLIGHT)


@pytest.mark.timeout(DEADLINE_SECONDS + 30)
async def test_a_slow_consumer_is_sent_no_more_than_its_window_and_memory_stays_bounded(
    start_broker: StartBroker,
) -> None:
    # Given a consumer with a window of 10 on a subscription
    broker = start_broker()
    async with aiohttp.ClientSession() as http, asyncio.timeout(DEADLINE_SECONDS):
        topic, sub = await topic_and_subscription(http, broker.url)
        idle = broker.memory().rss_mib
        ws = await http.ws_connect(f"{broker.url}/v1/ws", max_msg_size=0)
        await ws.send_json(
            {"type": "subscribe", "subscription": sub, "max_in_flight": MAX_IN_FLIGHT}
        )
        consumer = SlowConsumer(ws)
        reading = asyncio.create_task(consumer.read())
        # When 50,000 messages of 1 KiB are published while it acks 10 per 500
        peak = await flood(http, broker, topic, consumer)
        acked_during_flood = consumer.acked
        # Then it never holds more than its window, and the rest waits in the broker
        await drain(consumer)
        await ws.close()  # which ends the reading task
        await reading
    assert_bounded(consumer, idle, peak, broker.memory().peak_mib, acked_during_flood)


def assert_bounded(
    consumer: SlowConsumer, idle: float, peak: float, high_water: float, acked_early: int
) -> None:
    """Report the figures; check the window held and memory grew only by what is stored."""
    payload_mib = MESSAGES * SIZE / 2**20
    growth = high_water - idle
    report(
        "slow consumer", sent=MESSAGES, delivered=len(consumer.received),
        acknowledged=consumer.acked, acked_during_flood=acked_early,
        lost=MESSAGES - len(consumer.received), most_held=consumer.most_held,
        rss_idle_mib=round(idle, 1), rss_peak_mib=round(peak, 1),
        rss_high_water_mib=round(high_water, 1), payload_mib=round(payload_mib, 1),
        growth_per_payload_byte=round(growth / payload_mib, 2),
    )  # fmt: skip
    assert consumer.most_held <= MAX_IN_FLIGHT
    assert len(consumer.received) == consumer.acked == MESSAGES
    assert growth <= GROWTH_PER_PAYLOAD_BYTE * payload_mib
