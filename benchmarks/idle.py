"""Idle waiters: what many long polls cost while nothing arrives, and how fast a publish
wakes one of them.

``--idle-polls`` REST long polls (``wait_seconds`` 20, one message each) wait on one
subscription, spread over the generator processes. Once they have all arrived, the run
measures for ``idle_seconds`` the broker's and Redis's CPU and the commands Redis
processed per second (``INFO stats``); then it publishes ``wakeups`` stamped messages one
at a time and times each against the poll it woke.
"""

from __future__ import annotations

import asyncio
import time

import aiohttp
import orjson
import redis.asyncio as redis

from benchmarks import admin
from benchmarks.broker_http import JSON
from benchmarks.broker_idle import IdlePollers
from benchmarks.context import Context
from benchmarks.payloads import stamped
from benchmarks.results import Sample, percentile
from benchmarks.timing import Latencies

#: How long a poll waits: the shape of issue 14's row.
WAIT_SECONDS = 20.0
#: Time for every poll to be connected and waiting before the measurement starts.
SETTLE_SECONDS = 2.0
#: Between two timed publishes, so that each wakes a poll that is already waiting again.
WAKE_INTERVAL_SECONDS = 0.3
COMMANDS = "redis cmd/s"
WAKE_P50 = "wake p50 ms"
WAKE_MAX = "wake max ms"


async def idle_round(ctx: Context) -> list[tuple[str, Sample]]:
    """One run of the idle-waiters workload."""
    if "idle-polls" not in ctx.settings.only:
        return []
    s = ctx.settings
    topic = ctx.name("idle")
    await admin.create_topic(ctx.broker_url, topic, s.partitions)
    await admin.create_subscription(ctx.broker_url, f"{topic}-sub", topic)
    start = time.time() + 0.5
    measure_at = start + SETTLE_SECONDS
    wake_at = measure_at + s.idle_seconds
    stop_at = wake_at + s.wakeups * WAKE_INTERVAL_SECONDS + 1.0
    share = s.idle_polls // s.processes
    jobs = [
        IdlePollers(ctx.broker_url, f"{topic}-sub", share, WAIT_SECONDS, start, stop_at)
        for _ in range(s.processes)
    ]
    try:
        polling = asyncio.ensure_future(ctx.run(jobs))
        commands = await _commands_between(ctx, measure_at, wake_at)
        await _publish_stamped(ctx.broker_url, topic, s.wakeups, s.size)
        parts = await polling
    finally:
        await admin.delete_topic(ctx.broker_url, topic)
    return [("idle-polls", _sample(ctx, parts, commands, measure_at, wake_at))]


async def _commands_between(ctx: Context, first: float, last: float) -> float:
    """Commands Redis processed per second from ``first`` to ``last`` (NaN when the broker
    is not on Redis: the run's Redis then serves only the baselines)."""
    if ctx.settings.backends[0] != "redis":
        await asyncio.sleep(max(0.0, last - time.time()))
        return float("nan")
    client = redis.Redis.from_url(ctx.redis_url)
    try:
        await asyncio.sleep(max(0.0, first - time.time()))
        before = (await client.info("stats"))["total_commands_processed"]
        await asyncio.sleep(max(0.0, last - time.time()))
        after = (await client.info("stats"))["total_commands_processed"]
    finally:
        await client.aclose()
    # The INFO before the second one is counted too: it is ours, not the broker's.
    return float(after - before - 1) / (last - first)


async def _publish_stamped(url: str, topic: str, count: int, size: int) -> None:
    async with aiohttp.ClientSession() as http:
        for _ in range(count):
            body = orjson.dumps({"messages": [{"data": stamped(size).decode()}]})
            async with http.post(f"{url}/v1/topics/{topic}/messages", data=body, headers=JSON):
                pass
            await asyncio.sleep(WAKE_INTERVAL_SECONDS)


def _sample(
    ctx: Context, parts: list[Latencies], commands: float, first: float, last: float
) -> Sample:
    woken = [v for part in parts for v in part.values_ms]
    if len(woken) < ctx.settings.wakeups or any(p.errors for p in parts):
        errors = sum(p.errors for p in parts)
        print(f"  (idle run: {len(woken)} of {ctx.settings.wakeups} woken, {errors} errors)")
    metrics = {
        COMMANDS: commands,
        WAKE_P50: percentile(woken, 0.5),
        WAKE_MAX: max(woken, default=float("nan")),
    }
    # The CPU column: the broker's and Redis's share of a core while the polls waited.
    return ctx.sample(metrics, first, last, 0.0)
