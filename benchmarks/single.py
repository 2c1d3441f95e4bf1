"""The single-message path in process: each message published alone, woken to a waiting
consumer, pulled and acked before the next, on the memory backend.

Run: ``python -m benchmarks.single [--messages N] [--size BYTES] [--runs R]``

A consumer waits in a long poll (of up to 100 messages, within its room, as a WebSocket's
stream pulls), and each message is published once the previous one was acked, so every
message makes the whole trip: publish, wake-up, claim, ack. It prints the microseconds
each message took. With ``PYTHONPATH=<other tree>/src`` it measures another version of the
engine with the same loop (``git archive <commit> src | tar -x -C <dir>``).
"""

from __future__ import annotations

import argparse
import asyncio
import inspect
import statistics
import time
from typing import Any

from pubsubgo.adapters.memory import memory_storage
from pubsubgo.containers import build_broker
from pubsubgo.core.messages import PublishRequest
from pubsubgo.core.subscriptions import Subscription
from pubsubgo.core.topics import Topic
from pubsubgo.runtime.clock import SystemClock


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


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--size", type=int, default=1024)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    _single(args.messages, args.size, args.runs)


def _single(messages: int, size: int, runs: int) -> None:
    spent = []
    for run in range(1, runs + 1):
        spent.append(1e6 * asyncio.run(single_trips(messages, size)) / messages)
        print(f"run {run}: {spent[-1]:8.1f} µs per message  publish -> wake -> pull -> ack")
    print(f"median {statistics.median(spent):.1f} µs per message")


if __name__ == "__main__":
    main()
