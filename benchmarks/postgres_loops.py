"""What the PostgreSQL benchmark's workloads share: their sizes, a publish window, and a
latency tally (``benchmarks.postgres`` and its raw asyncpg baseline use the same ones)."""

from __future__ import annotations

import asyncio
import contextlib
import statistics
import time
from collections.abc import Awaitable, Callable, Coroutine, Iterator
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class Workload:
    """How much each workload does.

    Attributes:
        seconds: the publish window.
        tasks: concurrent publishers or consumers.
        batch: messages per publish.
        size: payload bytes.
        partitions: partitions of the topic (the raw table records one per row too).
        backlog: messages each consume run drains.
        pull: messages per pull (and per SKIP LOCKED claim).
        latency_seconds: how long the latency publisher runs, one message every
            ``latency_interval`` seconds.
    """

    seconds: float = 4.0
    tasks: int = 8
    batch: int = 100
    size: int = 1024
    partitions: int = 4
    backlog: int = 50_000
    pull: int = 500
    latency_seconds: float = 4.0
    latency_interval: float = 0.005

    @property
    def payload(self) -> bytes:
        return b"x" * self.size


async def publish_window(one_batch: Callable[[], Awaitable[int]], work: Workload) -> float:
    """Messages per second that ``work.tasks`` tasks store with ``one_batch`` in the window."""
    stored = [0]
    deadline = time.perf_counter() + work.seconds

    async def publisher() -> None:
        while time.perf_counter() < deadline:
            # Awaited first: ``stored[0] += await ...`` would read the count before the
            # await and lose what other publishers added meanwhile.
            count = await one_batch()
            stored[0] += count

    started = time.perf_counter()
    await asyncio.gather(*(publisher() for _ in range(work.tasks)))
    return stored[0] / (time.perf_counter() - started)


def spread(total: int, chunk: int) -> Iterator[int]:
    """``total`` in pieces of at most ``chunk``."""
    while total > 0:
        yield min(chunk, total)
        total -= chunk


@dataclass
class Latency:
    """End-to-end latencies (seconds) of single messages."""

    samples: list[float] = field(default_factory=list)
    #: Messages sent so far, and set once as many were received.
    sent: int = 0
    caught_up: asyncio.Event = field(default_factory=asyncio.Event)

    def add(self, seconds: float) -> None:
        self.samples.append(seconds)
        if len(self.samples) >= self.sent:
            self.caught_up.set()

    def quantile_ms(self, q: float) -> float:
        if len(self.samples) < 2:
            return float("nan")
        return 1000 * statistics.quantiles(self.samples, n=100)[round(q * 100) - 1]

    async def run(
        self,
        consumer: Callable[[asyncio.Event], Coroutine[Any, Any, None]],
        produce: Callable[[], Awaitable[None]],
        work: Workload,
    ) -> None:
        """Run ``consumer`` while ``produce`` sends one message per interval, then let it
        catch up (a second at most) and stop it."""
        stop = asyncio.Event()
        task = asyncio.create_task(consumer(stop))
        started = time.perf_counter()
        while time.perf_counter() - started < work.latency_seconds:
            self.sent += 1
            self.caught_up.clear()
            await produce()
            await asyncio.sleep(work.latency_interval)
        # Let the consumer catch up (a second at most): it looks again at least every
        # 0.25 s, so a message still on its way arrives within that.
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(1.0):
                await self.caught_up.wait()
        stop.set()
        await task
