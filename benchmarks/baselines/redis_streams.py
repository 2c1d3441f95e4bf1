"""Baseline: Redis Streams straight from redis-py (asyncio, hiredis), on the broker's Redis.

Pipelined ``XADD`` (one round trip per batch), ``XREADGROUP`` + ``XACK`` (two per batch),
and ``XADD`` -> ``XREADGROUP BLOCK`` for latency: the floor of what a Python program gets
from the same Redis, with none of the broker's rules (ids, priorities, dedup, deadlines).
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Any

from redis.asyncio import Redis

from benchmarks.broker_http import IDLE_SECONDS
from benchmarks.payloads import latency_ms, payload, stamped
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
        budget = [self.total // self.batch] if self.total else None
        async with client(self.url) as redis:
            await redis.ping()
            await self.window.opened()
            started = time.process_time()
            loops = (self._loop(redis, data, done, budget) for _ in range(self.connections))
            await asyncio.gather(*loops)
            done.cpu_seconds = time.process_time() - started
        return done

    async def _loop(
        self, redis: Redis, data: bytes, done: Counted, budget: list[int] | None
    ) -> None:
        give_up = self.window.start_at + self.deadline_seconds
        while time.time() < give_up:
            if budget is None and not self.window.is_open(time.time()):
                return
            if budget is not None:
                if budget[0] <= 0:
                    return
                budget[0] -= 1
            pipe = redis.pipeline(transaction=False)
            for _ in range(self.batch):
                pipe.execute_command("XADD", self.stream, "*", "d", data)
            await pipe.execute()
            now = time.time()
            if budget is not None or self.window.is_open(now):
                done.add(self.batch, now)


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
            await self.window.opened()
            started = time.process_time()
            await asyncio.gather(
                *(self._loop(redis, f"c{i}", done) for i in range(self.connections))
            )
            done.cpu_seconds = time.process_time() - started
        return done

    async def _loop(self, redis: Redis, consumer: str, done: Counted) -> None:
        give_up = self.window.start_at + self.deadline_seconds
        idle_since = time.time()
        while time.time() < give_up and time.time() - idle_since < IDLE_SECONDS:
            entries = await read_group(
                redis, self.stream, self.group, consumer, self.batch, BLOCK_MS
            )
            if not entries:
                continue
            if not done.first:
                done.first = time.time()
            acked = await redis.xack(
                self.stream, self.group, *(entry_id for entry_id, _ in entries)
            )
            idle_since = time.time()
            done.add(int(acked), idle_since)


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
            started = time.process_time()
            for index in range(self.count):
                delay = self.window.start_at + index / self.rate - time.time()
                if delay > 0:
                    await asyncio.sleep(delay)
                await slots.acquire()
                group.create_task(self._send(redis, slots, done))
            done.cpu_seconds = time.process_time() - started
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
        seen = 0
        warm_up_ns = self.warm_up_until * 1e9
        async with client(self.url) as redis:
            started = time.process_time()
            while seen < self.count and time.time() < give_up:
                entries = await read_group(redis, self.stream, self.group, "c", 100, BLOCK_MS)
                for _, fields in entries:
                    data = fields[b"d"]
                    if int(data[:20]) >= warm_up_ns:
                        found.values_ms.append(latency_ms(data))
                if entries:
                    await redis.xack(
                        self.stream, self.group, *(entry_id for entry_id, _ in entries)
                    )
                    seen += len(entries)
            found.cpu_seconds = time.process_time() - started
        return found
