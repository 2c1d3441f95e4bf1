"""In-process engine throughput: publish -> pull -> ack on the memory or SQLite backend.

Run: ``python -m benchmarks.engine [--backend memory|sqlite|sqlite-full] [--messages N]
[--batch B] [--size BYTES] [--runs R]``

Each run publishes batches of ``--batch`` messages of ``--size`` bytes, pulls them in batches
of the same size and acks each pulled batch, until ``--messages`` have made the whole trip.
It prints msg/s per run and the median, with a baseline measured in the same process: the
same number of messages appended to and popped from a plain ``collections.deque``, the floor
of what any in-process queue costs in Python. ``sqlite`` keeps a fresh database file in a
temporary directory (``sqlite-full``: with ``synchronous = full``).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import statistics
import tempfile
import time
from collections import deque
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

from pubsubgo.adapters.memory import memory_storage
from pubsubgo.adapters.sqlite import Synchronous, open_sqlite_storage
from pubsubgo.containers import build_broker
from pubsubgo.core.messages import PublishRequest
from pubsubgo.core.subscriptions import StartPosition, Subscription
from pubsubgo.core.topics import Topic
from pubsubgo.ports.storage import Storage
from pubsubgo.runtime.clock import SystemClock

#: The backends the engine runs on: no server needed.
BACKENDS = ("memory", "sqlite", "sqlite-full")


@contextlib.asynccontextmanager
async def fresh_storage(backend: str) -> AsyncIterator[Storage]:
    """An empty backend: memory, or a new SQLite file (``sqlite-full``: fsync per commit)."""
    if backend == "memory":
        yield memory_storage()
        return
    with tempfile.TemporaryDirectory(prefix="pubsubgo-engine-") as directory:
        mode: Synchronous = "full" if backend == "sqlite-full" else "normal"
        storage = await open_sqlite_storage(Path(directory) / "pubsubgo.db", mode)
        async with contextlib.aclosing(storage):
            yield storage


async def round_trip(messages: int, batch: int, size: int, backend: str = "memory") -> float:
    """Seconds for ``messages`` to be published, pulled and acked through a fresh broker."""
    async with fresh_storage(backend) as storage:
        return await _round_trip(storage, messages, batch, size)


async def _round_trip(storage: Storage, messages: int, batch: int, size: int) -> float:
    broker = build_broker(storage, SystemClock())
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


@dataclass(frozen=True, slots=True)
class EngineRun:
    """One round trip as a load-generator job (``benchmarks.run``): messages per second."""

    messages: int
    batch: int
    size: int
    backend: str = "memory"
    deadline_seconds: float = 120.0

    async def run(self) -> float:
        return self.messages / await round_trip(self.messages, self.batch, self.size, self.backend)


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
    parser.add_argument("--backend", choices=BACKENDS, default="memory")
    parser.add_argument("--messages", type=int, default=200_000)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--size", type=int, default=1024)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()

    rates = []
    for run in range(1, args.runs + 1):
        seconds = asyncio.run(round_trip(args.messages, args.batch, args.size, args.backend))
        rates.append(args.messages / seconds)
        print(f"run {run}: {rates[-1]:>12,.0f} msg/s  publish -> pull -> ack")
    baseline = args.messages / deque_baseline(args.messages, args.size)
    median = statistics.median(rates)
    print(
        f"median {median:,.0f} msg/s (min {min(rates):,.0f}, max {max(rates):,.0f});"
        f" deque baseline {baseline:,.0f} msg/s; ratio {median / baseline:.3f}"
    )


if __name__ == "__main__":
    main()
