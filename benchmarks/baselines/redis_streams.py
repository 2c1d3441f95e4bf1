"""Baseline: Redis Streams straight from redis-py (asyncio, hiredis), on the broker's Redis.

Pipelined ``XADD`` (one round trip per batch), ``XREADGROUP`` + ``XACK`` (two per batch),
and ``XADD`` -> ``XREADGROUP BLOCK`` for latency: the floor of what a Python program gets
from the same Redis, with none of the broker's rules (ids, priorities, dedup, deadlines).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable
from dataclasses import dataclass
from typing import Any

from redis.asyncio import Redis

from benchmarks.loops import (
    LatencyTally,
    cpu_into,
    drain,
    fixed_schedule,
    publish_in_window,
    run_in_window,
)
from benchmarks.payloads import payload, stamped
from benchmarks.timing import Counted, Latencies, Window

#: How long a latency consumer's XREADGROUP blocks before looking again (ms).
BLOCK_MS = 100
#: Commands in flight at once at most (one connection each).
MAX_IN_FLIGHT = 64


#: Stream entries as redis-py returns them: (entry id, fields).
Entries = list[tuple[bytes, dict[bytes, bytes]]]


def client(url: str) -> Redis:
    return Redis.from_url(url, socket_timeout=10, max_connections=2 * MAX_IN_FLIGHT)


async def read_group(
    redis: Redis, stream: str, group: str, consumer: str, count: int, block: int | None = None
) -> Entries:
    """New entries for ``consumer`` of ``group`` (XREADGROUP ... ``>``)."""
    reply: Any = await redis.xreadgroup(group, consumer, {stream: ">"}, count=count, block=block)
    return list(reply[0][1]) if reply else []


async def prepare_group(url: str, stream: str, group: str) -> None:
    """Create ``stream`` (empty) and a consumer group reading it from the start."""
    async with client(url) as redis:
        await redis.xgroup_create(stream, group, id="0", mkstream=True)


async def drop(url: str, *streams: str) -> None:
    async with client(url) as redis:
        await redis.delete(*streams)


@dataclass(frozen=True, slots=True)
class XaddPublish:
    """``connections`` loops of pipelined XADD batches, counted in ``window``; or exactly
    ``total`` messages (to prepare a backlog)."""

    url: str
    stream: str
    connections: int
    batch: int
    size: int
    window: Window
    deadline_seconds: float
    total: int = 0

    async def run(self) -> Counted:
        done = Counted()
        data = payload(self.size)
        async with client(self.url) as redis:
            await redis.ping()

            async def send() -> bool:
                pipe = redis.pipeline(transaction=False)
                for _ in range(self.batch):
                    pipe.execute_command("XADD", self.stream, "*", "d", data)
                await pipe.execute()
                return True

            await publish_in_window(
                self.window,
                self.deadline_seconds,
                self.batch,
                send,
                done,
                loops=self.connections,
                total=self.total,
            )
        return done


@dataclass(frozen=True, slots=True)
class XreadgroupConsume:
    """``connections`` consumers of one group: XREADGROUP up to ``batch``, then XACK them,
    until the stream stays drained for IDLE_SECONDS."""

    url: str
    stream: str
    group: str
    connections: int
    batch: int
    window: Window
    deadline_seconds: float

    async def run(self) -> Counted:
        done = Counted()
        async with client(self.url) as redis:

            async def ack(entries: Entries) -> int:
                return int(await redis.xack(self.stream, self.group, *(i for i, _ in entries)))

            def loop(consumer: str) -> Awaitable[None]:
                async def take() -> Entries | None:
                    got = await read_group(
                        redis, self.stream, self.group, consumer, self.batch, BLOCK_MS
                    )
                    return got or None

                return drain(self.window, self.deadline_seconds, done, take, ack)

            loops = (loop(f"c{i}") for i in range(self.connections))
            await run_in_window(self.window, done, loops)
        return done


@dataclass(frozen=True, slots=True)
class XaddLatencyPublisher:
    """``rate`` single XADDs a second on a fixed schedule, ``count`` in all."""

    url: str
    stream: str
    rate: float
    count: int
    size: int
    window: Window
    deadline_seconds: float

    async def run(self) -> Counted:
        done = Counted()
        slots = asyncio.Semaphore(MAX_IN_FLIGHT)
        async with client(self.url) as redis, asyncio.TaskGroup() as group:
            await redis.ping()
            await self.window.opened()
            with cpu_into(done):
                async for _ in fixed_schedule(self.window.start_at, self.rate, self.count):
                    await slots.acquire()
                    group.create_task(self._send(redis, slots, done))
        return done

    async def _send(self, redis: Redis, slots: asyncio.Semaphore, done: Counted) -> None:
        try:
            await redis.xadd(self.stream, {"d": stamped(self.size)})
            done.add(1, time.time())
        finally:
            slots.release()


@dataclass(frozen=True, slots=True)
class XreadgroupLatencyConsumer:
    """XREADGROUP BLOCK on one consumer: latency of each entry, then XACK."""

    url: str
    stream: str
    group: str
    count: int
    warm_up_until: float
    window: Window
    deadline_seconds: float

    async def run(self) -> Latencies:
        found = Latencies()
        give_up = self.window.start_at + self.deadline_seconds
        tally = LatencyTally(found, self.count, self.warm_up_until)
        async with client(self.url) as redis:
            with cpu_into(found):
                while not tally.complete and time.time() < give_up:
                    entries = await read_group(redis, self.stream, self.group, "c", 100, BLOCK_MS)
                    for _, fields in entries:
                        tally.sample(fields[b"d"])
                    if entries:
                        await redis.xack(
                            self.stream, self.group, *(entry_id for entry_id, _ in entries)
                        )
                        tally.arrived(len(entries))
        return found
