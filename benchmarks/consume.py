"""The consume workloads: drain a prepared backlog, acking everything.

Each system first gets a backlog (publishing it is not measured), then consumers drain it;
the rate is the backlog over the span from the first message received to the last ack
answered. The broker's two consumers (WebSocket push, REST pull) read two subscriptions of
one topic, so one backlog serves both.
"""

from __future__ import annotations

from collections.abc import Sequence

from benchmarks import admin
from benchmarks.baselines import redis_streams
from benchmarks.broker_grpc import GrpcConsume
from benchmarks.broker_http import PullConsume, RestPublish
from benchmarks.broker_ws import WsConsume
from benchmarks.context import DEADLINE_FACTOR, Context
from benchmarks.results import RATE, Sample
from benchmarks.timing import Counted, span_rate

#: The slowest rate a drain is given time for (msg/s): below it, the drain stops at its
#: deadline and reports what it managed.
SLOWEST_RATE = 2_000
#: Prepared backlogs are published in batches of this many.
FILL_BATCH = 100


def _deadline(messages: int) -> float:
    return DEADLINE_FACTOR * messages / SLOWEST_RATE + 10


async def consume_round(ctx: Context) -> list[tuple[str, Sample]]:
    """One run of every selected consume workload, each baseline right after."""
    only = ctx.settings.only
    wanted = [w for w in ("ws-consume", "pull-consume", "grpc-consume") if w in only]
    if not wanted:
        return []
    found = []
    for target in ctx.brokers:
        samples = await _broker(ctx.on(target), wanted)
        found += [(ctx.key(workload, target), sample) for workload, sample in samples]
    found.append(("redis-py:consume", await _redis(ctx)))
    if "nats" in ctx.systems:
        found.append(("nats:consume", await _nats(ctx)))
    if "rabbitmq" in ctx.systems:
        found.append(("rabbitmq:consume", await _rabbitmq(ctx)))
    return found


def _drained(ctx: Context, parts: Sequence[Counted], expected: int) -> Sample:
    rate, first, last = span_rate(parts)
    got = sum(p.count for p in parts)
    if got < expected or any(p.errors for p in parts):
        print(f"  (acked {got} of {expected}; {sum(p.errors for p in parts)} errors)")
    return ctx.sample({RATE: rate}, first, last, sum(p.cpu_seconds for p in parts))


async def _broker(ctx: Context, wanted: Sequence[str]) -> list[tuple[str, Sample]]:
    s = ctx.settings
    topic = ctx.name("consume")
    await admin.create_topic(ctx.broker_url, topic, s.partitions)
    try:
        for workload in wanted:
            await admin.create_subscription(ctx.broker_url, f"{topic}-{workload}", topic)
        await _fill_broker(ctx, topic, s.consume_messages)
        found = []
        for workload in wanted:
            sub = f"{topic}-{workload}"
            window = ctx.window(0)
            deadline = _deadline(s.consume_messages)
            jobs: list[WsConsume] | list[PullConsume] | list[GrpcConsume]
            if workload == "grpc-consume":
                jobs = [
                    GrpcConsume(ctx.grpc_target, sub, s.pull_batch, s.ack_batch, window, deadline)
                    for _ in range(s.processes)
                ]
            elif workload == "ws-consume":
                jobs = [
                    WsConsume(ctx.broker_url, sub, 1, s.pull_batch, s.ack_batch, window, deadline)
                    for _ in range(s.processes)
                ]
            else:
                jobs = [
                    PullConsume(ctx.broker_url, sub, s.connections, s.pull_batch, window, deadline)
                    for _ in range(s.processes)
                ]
            with ctx.profiled(workload):
                parts = await ctx.run(jobs)
            found.append((workload, _drained(ctx, parts, s.consume_messages)))
        return found
    finally:
        await admin.delete_topic(ctx.broker_url, topic)


async def _fill_broker(ctx: Context, topic: str, messages: int) -> None:
    s = ctx.settings
    share = messages // s.processes
    window = ctx.window(0)
    jobs = [
        RestPublish(
            ctx.broker_url,
            topic,
            s.connections,
            FILL_BATCH,
            s.size,
            window,
            _deadline(messages),
            total=share,
        )  # fmt: skip
        for _ in range(s.processes)
    ]
    await ctx.run(jobs)


async def _redis(ctx: Context) -> Sample:
    s = ctx.settings
    stream, group = ctx.name("xread"), "bench"
    await redis_streams.prepare_group(ctx.redis_url, stream, group)
    try:
        share = s.consume_messages // s.processes
        window = ctx.window(0)
        deadline = _deadline(s.consume_messages)
        await ctx.run(
            [
                redis_streams.XaddPublish(
                    ctx.redis_url,
                    stream,
                    s.connections,
                    FILL_BATCH,
                    s.size,
                    window,
                    deadline,
                    total=share,
                )  # fmt: skip
                for _ in range(s.processes)
            ]
        )
        window = ctx.window(0)
        jobs = [
            redis_streams.XreadgroupConsume(
                ctx.redis_url, stream, group, s.connections, s.pull_batch, window, deadline
            )
            for _ in range(s.processes)
        ]
        return _drained(ctx, await ctx.run(jobs), share * s.processes)
    finally:
        await redis_streams.drop(ctx.redis_url, stream)


async def _nats(ctx: Context) -> Sample:
    from benchmarks.baselines import nats_js  # the bench extra's client: see baselines

    s = ctx.settings
    stream = ctx.name("jsc").replace("-", "_")
    subject = f"{stream}.in"
    await nats_js.create_stream(stream, subject)
    try:
        share = s.consume_messages // s.processes
        deadline = _deadline(s.consume_messages)
        window = ctx.window(0)
        await ctx.run(
            [
                nats_js.JsPublish(subject, s.size, window, deadline, share)
                for _ in range(s.processes)
            ]
        )
        window = ctx.window(0)
        jobs = [
            nats_js.JsConsume(subject, stream, "bench", s.pull_batch, window, deadline)
            for _ in range(s.processes)
        ]
        return _drained(ctx, await ctx.run(jobs), share * s.processes)
    finally:
        await nats_js.delete_stream(stream)


async def _rabbitmq(ctx: Context) -> Sample:
    from benchmarks.baselines import rabbitmq  # the bench extra's client: see baselines

    s = ctx.settings
    queue = ctx.name("amqpc")
    await rabbitmq.declare(queue)
    try:
        # A quarter of the backlog: RabbitMQ publishes with confirms an order of magnitude
        # slower than the others, and preparing the full one would dominate the run.
        share = s.consume_messages // 4 // s.processes
        share -= share % s.batch  # it publishes whole batches: what the consumers expect
        deadline = _deadline(s.consume_messages)
        window = ctx.window(0)
        await ctx.run(
            [
                rabbitmq.AmqpPublish(queue, s.batch, s.size, window, deadline, share)
                for _ in range(s.processes)
            ]
        )
        window = ctx.window(0)
        jobs = [
            rabbitmq.AmqpConsume(queue, s.ack_batch, window, deadline) for _ in range(s.processes)
        ]
        return _drained(ctx, await ctx.run(jobs), share * s.processes)
    finally:
        await rabbitmq.delete(queue)
