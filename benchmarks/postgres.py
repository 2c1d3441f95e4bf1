"""The broker's engine on PostgreSQL beside raw asyncpg on the same server, in one command.

Run: ``python -m benchmarks.postgres [--runs N] [--seconds S] [--backlog N]``

Starts a private PostgreSQL (initdb + pg_ctl on a free port; durable: every commit is
fsynced, unless ``--relaxed``), then runs each workload ``--runs`` times, the raw asyncpg baseline
(``benchmarks/baselines/asyncpg_raw.py``) right after the broker's run of the same workload
so that both see the same load on a noisy machine:

- publish: batches of 100 messages of 1 KiB, 8 concurrent publishers, through the
  broker's publisher service (validation, partitioning, ``psg_append``) vs a plain
  ``INSERT ... SELECT FROM unnest(...)`` of the same batches;
- pull + ack: a backlog drained by 8 consumers pulling 500 and acking them (``psg_claim``,
  ``psg_settle``) vs ``UPDATE ... FOR UPDATE SKIP LOCKED RETURNING`` + ``DELETE``;
- latency: one message every 5 ms to a waiting consumer (long poll woken by the signal)
  vs insert + NOTIFY -> LISTEN-woken claim.

The broker runs in this process (no HTTP), so the ratios show what the backend and the
services cost over the raw statements. Prints medians (min-max) and the ratios.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from collections.abc import Awaitable

import asyncpg
from tests.postgres.servers import DURABLE, PostgresServer

from benchmarks.baselines import asyncpg_raw
from benchmarks.postgres_loops import Latency, Workload, publish_window, spread
from pubsubgo.adapters.postgres import postgres_storage
from pubsubgo.containers import build_broker
from pubsubgo.core.messages import PublishRequest
from pubsubgo.core.subscriptions import StartPosition, Subscription
from pubsubgo.core.topics import Topic
from pubsubgo.ports.storage import Storage
from pubsubgo.runtime.clock import SystemClock
from pubsubgo.services.broker import Broker

#: Each measurement's values, one per run.
Results = dict[str, list[float]]
#: ``--relaxed``: a commit is answered before its WAL reaches the disk.
RELAXED = ("-c", "synchronous_commit=off")


async def broker_publish(broker: Broker, work: Workload, topic: str) -> float:
    requests = [PublishRequest(data=work.payload)] * work.batch

    async def one_batch() -> int:
        return len(await broker.publisher.publish(topic, requests))

    return await publish_window(one_batch, work)


async def broker_consume(broker: Broker, work: Workload, topic: str, sub: str) -> float:
    for chunk in spread(work.backlog, 1000):
        await broker.publisher.publish(topic, [PublishRequest(data=work.payload)] * chunk)

    async def consumer(left: list[int]) -> None:
        while left[0] > 0:
            deliveries = await broker.subscriber.pull(sub, work.pull)
            if not deliveries:
                return
            await broker.acks.ack(sub, [d.ack_id for d in deliveries])
            left[0] -= len(deliveries)

    left = [work.backlog]
    started = time.perf_counter()
    await asyncio.gather(*(consumer(left) for _ in range(work.tasks)))
    return work.backlog / (time.perf_counter() - started)


async def broker_latency(broker: Broker, work: Workload, topic: str, sub: str) -> Latency:
    tally = Latency()

    async def consumer(stop: asyncio.Event) -> None:
        while not stop.is_set():
            deliveries = await broker.subscriber.pull(sub, 100, wait_seconds=0.25)
            now = time.time()
            for d in deliveries:
                tally.add(now - float(d.message.data.decode()))
            if deliveries:
                await broker.acks.ack(sub, [d.ack_id for d in deliveries])

    async def produce() -> None:
        await broker.publisher.publish(topic, [PublishRequest(repr(time.time()).encode())])

    await tally.run(consumer, produce, work)
    return tally


async def _fresh(broker: Broker, work: Workload, run: int, what: str) -> tuple[str, str]:
    topic, sub = f"bench-{what}-{run}", f"bench-{what}-{run}-sub"
    await broker.topics.create(Topic(topic, partitions=work.partitions))
    # Eight memberless consumers count as one: let them hold what they pull together.
    await broker.subscriptions.create(
        Subscription(sub, topic, start=StartPosition.EARLIEST, max_in_flight=work.tasks * work.pull)
    )
    return topic, sub


async def measure(url: str, work: Workload, runs: int) -> Results:
    results: Results = {}
    storage: Storage = await postgres_storage(url, pool_size=work.tasks * 2)
    pool = await asyncpg.create_pool(url, min_size=work.tasks, max_size=work.tasks * 2)
    broker = build_broker(storage, SystemClock())
    await asyncpg_raw.prepare(pool)

    def add(name: str, value: float) -> None:
        results.setdefault(name, []).append(value)

    async def step(name: str, action: Awaitable[float]) -> None:
        add(name, await action)
        print(f"  {name}: {results[name][-1]:,.0f}", flush=True)

    try:
        for run in range(1, runs + 1):
            print(f"run {run}/{runs}", flush=True)
            topic, _ = await _fresh(broker, work, run, "publish")
            await step("publish pubsubgo", broker_publish(broker, work, topic))
            await step("publish asyncpg", asyncpg_raw.publish(pool, work))
            topic, sub = await _fresh(broker, work, run, "consume")
            await step("pull+ack pubsubgo", broker_consume(broker, work, topic, sub))
            await step("pull+ack asyncpg", asyncpg_raw.consume(pool, work))
            topic, sub = await _fresh(broker, work, run, "latency")
            ours = await broker_latency(broker, work, topic, sub)
            raw = await asyncpg_raw.latency(pool, url, work)
            for name, tally in (("pubsubgo", ours), ("asyncpg", raw)):
                add(f"latency p50 ms {name}", tally.quantile_ms(0.5))
                add(f"latency p99 ms {name}", tally.quantile_ms(0.99))
            print(f"  latency p50/p99 ms: pubsubgo {ours.quantile_ms(0.5):.2f}/"
                  f"{ours.quantile_ms(0.99):.2f}, asyncpg {raw.quantile_ms(0.5):.2f}/"
                  f"{raw.quantile_ms(0.99):.2f}", flush=True)  # fmt: skip
    finally:
        await pool.close()
        await storage.aclose()
    return results


def report(results: Results) -> str:
    lines = [f"{'workload':<28}{'median':>12}   min-max"]
    for name, values in results.items():
        low, high = min(values), max(values)
        lines.append(f"{name:<28}{statistics.median(values):>12,.2f}   {low:,.2f}-{high:,.2f}")
    for what in ("publish", "pull+ack"):
        ours, raw = results[f"{what} pubsubgo"], results[f"{what} asyncpg"]
        ratios = [o / r for o, r in zip(ours, raw, strict=True)]
        lines.append(
            f"{what} pubsubgo / asyncpg: median {statistics.median(ratios):.2f}"
            f" ({min(ratios):.2f}-{max(ratios):.2f}, per run)"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--backlog", type=int, default=50_000)
    parser.add_argument(
        "--relaxed",
        action="store_true",
        help="synchronous_commit=off: commits answered before their WAL is fsynced (the"
        " WAL writer flushes within 0.2 s), like Redis's appendfsync everysec",
    )
    args = parser.parse_args()
    work = Workload(seconds=args.seconds, backlog=args.backlog)
    server = PostgresServer(RELAXED if args.relaxed else DURABLE)
    try:
        server.init()
        server.start()
        results = asyncio.run(measure(server.url, work, args.runs))
    finally:
        server.remove()
    print(report(results))


if __name__ == "__main__":
    main()
