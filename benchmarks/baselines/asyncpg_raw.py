"""Baseline: PostgreSQL straight from asyncpg, on the broker's PostgreSQL, in the same run.

A batched insert from column arrays (``unnest``, one round trip per batch of 100), a
pgmq-style queue claimed with ``FOR UPDATE SKIP LOCKED`` and deleted by id (two round
trips per batch), and insert + NOTIFY -> LISTEN-woken claim for latency: the floor of
what a Python program gets from the same server, with none of the broker's rules
(partitions, priorities, dedup, fan-out, deadlines, attempts).
"""

from __future__ import annotations

import asyncio
import time

import asyncpg

from benchmarks.postgres_loops import Latency, Workload, publish_window, spread

_SCHEMA = """
DROP SCHEMA IF EXISTS raw CASCADE;
CREATE SCHEMA raw;
CREATE TABLE raw.messages (
    id bigserial PRIMARY KEY, partition int NOT NULL, published_at float8 NOT NULL,
    data bytea NOT NULL);
CREATE TABLE raw.queue (
    id bigserial PRIMARY KEY, visible_at float8 NOT NULL DEFAULT 0, data bytea NOT NULL);
"""
_INSERT = (
    "INSERT INTO raw.messages (partition, published_at, data)"
    " SELECT * FROM unnest($1::int[], $2::float8[], $3::bytea[])"
)
_ENQUEUE = "INSERT INTO raw.queue (data) SELECT * FROM unnest($1::bytea[])"
_CLAIM = """
UPDATE raw.queue SET visible_at = $1 + 30 WHERE id IN (
    SELECT id FROM raw.queue WHERE visible_at <= $1 ORDER BY id LIMIT $2
       FOR UPDATE SKIP LOCKED)
RETURNING id, data
"""
_DELETE = "DELETE FROM raw.queue WHERE id = ANY ($1::bigint[])"


async def prepare(pool: asyncpg.Pool) -> None:
    async with pool.acquire() as connection:
        await connection.execute(_SCHEMA)


async def publish(pool: asyncpg.Pool, work: Workload) -> float:
    """Messages per second inserted in batches by ``work.tasks`` tasks."""
    data = [work.payload] * work.batch
    parts = [i % work.partitions for i in range(work.batch)]

    async def one_batch() -> int:
        await pool.execute(_INSERT, parts, [time.time()] * work.batch, data)
        return work.batch

    return await publish_window(one_batch, work)


async def consume(pool: asyncpg.Pool, work: Workload) -> float:
    """Messages per second claimed (SKIP LOCKED) and deleted, from a backlog."""
    for chunk in spread(work.backlog, 1000):
        await pool.execute(_ENQUEUE, [work.payload] * chunk)

    async def consumer(left: list[int]) -> None:
        while left[0] > 0:
            rows = await pool.fetch(_CLAIM, time.time(), work.pull)
            if not rows:
                return
            await pool.execute(_DELETE, [row[0] for row in rows])
            left[0] -= len(rows)

    left = [work.backlog]
    started = time.perf_counter()
    await asyncio.gather(*(consumer(left) for _ in range(work.tasks)))
    return work.backlog / (time.perf_counter() - started)


async def latency(pool: asyncpg.Pool, url: str, work: Workload) -> Latency:
    """Insert one message (NOTIFY in its transaction) -> the LISTENing consumer claims and
    deletes it: milliseconds from before the insert to the claim's answer."""
    tally = Latency()
    woken = asyncio.Event()
    listener = await asyncpg.connect(url)
    await listener.add_listener("raw_wake", lambda *_: woken.set())

    async def consumer(stop: asyncio.Event) -> None:
        while not stop.is_set():
            woken.clear()
            rows = await pool.fetch(_CLAIM, time.time(), 100)
            for _, data in rows:
                tally.add(time.time() - float(data.decode()))
            if rows:
                await pool.execute(_DELETE, [row[0] for row in rows])
            else:
                try:
                    async with asyncio.timeout(0.25):
                        await woken.wait()
                except TimeoutError:
                    pass

    async def produce() -> None:
        async with pool.acquire() as connection, connection.transaction():
            await connection.execute(_ENQUEUE, [repr(time.time()).encode()])
            await connection.execute("NOTIFY raw_wake")

    try:
        await tally.run(consumer, produce, work)
    finally:
        await listener.close()
    return tally
