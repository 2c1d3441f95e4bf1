"""In-process engine throughput: publish -> pull -> ack on the memory backend.

Run: ``python -m benchmarks.engine [--messages N] [--batch B] [--size BYTES] [--runs R]
[--single]``

Each run publishes batches of ``--batch`` messages of ``--size`` bytes, pulls them in batches
of the same size and acks each pulled batch, until ``--messages`` have made the whole trip.
It prints msg/s per run and the median, with a baseline measured in the same process: the
same number of messages appended to and popped from a plain ``collections.deque``, the floor
of what any in-process queue costs in Python.

``--single`` measures the single-message path instead: a consumer waits in a long poll for
one message at a time, and each message is published alone once the previous one was
acked, so every message makes the whole trip (publish, wake-up, claim, ack). It prints the
microseconds each message took. Run it with ``PYTHONPATH=<other tree>/src`` to measure
another version of the engine with the same loop.
"""

from __future__ import annotations

import argparse
import asyncio
import inspect
import statistics
import time
from collections import deque
from dataclasses import dataclass
from typing import Any

from pubsubgo.adapters.memory import memory_storage
from pubsubgo.containers import build_broker
from pubsubgo.core.messages import PublishRequest
from pubsubgo.core.subscriptions import StartPosition, Subscription
from pubsubgo.core.topics import Topic
from pubsubgo.runtime.clock import SystemClock


async def round_trip(messages: int, batch: int, size: int) -> float:
    """Seconds for ``messages`` to be published, pulled and acked through a fresh broker."""
    broker = build_broker(memory_storage(), SystemClock())
    await broker.topics.create(Topic("bench", partitions=4))
    await broker.subscriptions.create(
        Subscription("bench-sub", "bench", start=StartPosition.EARLIEST, max_in_flight=batch * 2)
    )
    requests = [PublishRequest(data=b"x" * size) for _ in range(batch)]
    started = time.perf_counter()
    for _ in range(messages // batch):
        await broker.publisher.publish("bench", requests)
        deliveries = await broker.subscriber.pull("bench-sub", batch)
        await broker.acks.ack("bench-sub", [d.ack_id for d in deliveries])
    return time.perf_counter() - started


async def single_trips(messages: int, size: int) -> float:
    """Seconds for ``messages`` single messages to be published, received by a waiting
    long poll (of up to 100, as a streaming consumer asks) and acked, one after the
    other."""
    broker = build_broker(memory_storage(), SystemClock())
    await broker.topics.create(Topic("bench", partitions=4))
    await broker.subscriptions.create(Subscription("bench-sub", "bench", max_in_flight=1000))
    request = [PublishRequest(data=b"x" * size)]
    acked = asyncio.Event()
    # Like a WebSocket's stream: it asks for no more than its room (where the engine can be
    # told so; older versions cannot).
    pull = broker.subscriber.pull
    room: dict[str, Any] = {}
    if "within_room" in inspect.signature(pull).parameters:
        room["within_room"] = True

    async def consume() -> None:
        for _ in range(messages):
            deliveries = await pull("bench-sub", 100, 30.0, **room)
            await broker.acks.ack("bench-sub", [d.ack_id for d in deliveries])
            acked.set()

    consumer = asyncio.create_task(consume())
    await asyncio.sleep(0.01)  # the consumer is waiting
    started = time.perf_counter()
    for _ in range(messages):
        acked.clear()
        await broker.publisher.publish("bench", request)
        await acked.wait()
    took = time.perf_counter() - started
    await consumer
    return took


@dataclass(frozen=True, slots=True)
class EngineRun:
    """One round trip as a load-generator job (``benchmarks.run``): messages per second."""

    messages: int
    batch: int
    size: int
    deadline_seconds: float = 120.0

    async def run(self) -> float:
        return self.messages / await round_trip(self.messages, self.batch, self.size)


def deque_baseline(messages: int, size: int) -> float:
    """Seconds for ``messages`` payloads to pass through a deque."""
    payload = b"x" * size
    queue: deque[bytes] = deque()
    started = time.perf_counter()
    for _ in range(messages):
        queue.append(payload)
    while queue:
        queue.popleft()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=200_000)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--size", type=int, default=1024)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--single", action="store_true", help="the single-message path")
    args = parser.parse_args()
    if args.single:
        _single(args.messages, args.size, args.runs)
        return

    rates = []
    for run in range(1, args.runs + 1):
        seconds = asyncio.run(round_trip(args.messages, args.batch, args.size))
        rates.append(args.messages / seconds)
        print(f"run {run}: {rates[-1]:>12,.0f} msg/s  publish -> pull -> ack")
    baseline = args.messages / deque_baseline(args.messages, args.size)
    median = statistics.median(rates)
    print(
        f"median {median:,.0f} msg/s (min {min(rates):,.0f}, max {max(rates):,.0f});"
        f" deque baseline {baseline:,.0f} msg/s; ratio {median / baseline:.3f}"
    )


def _single(messages: int, size: int, runs: int) -> None:
    spent = []
    for run in range(1, runs + 1):
        spent.append(1e6 * asyncio.run(single_trips(messages, size)) / messages)
        print(f"run {run}: {spent[-1]:8.1f} µs per message  publish -> wake -> pull -> ack")
    print(f"median {statistics.median(spent):.1f} µs per message")


if __name__ == "__main__":
    main()
