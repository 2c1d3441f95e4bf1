"""End-to-end latency at a steady rate: one publisher process on a fixed schedule, one
consumer process that stamps each arrival against the time in the payload and acks it."""

from __future__ import annotations

from collections.abc import Callable

from benchmarks import admin
from benchmarks.baselines import redis_streams
from benchmarks.broker_grpc import GrpcLatencyConsumer, GrpcLatencyPublisher
from benchmarks.broker_latency import RestLatencyPublisher, WsLatencyConsumer, WsLatencyPublisher
from benchmarks.context import DEADLINE_FACTOR, Context
from benchmarks.pool import Job
from benchmarks.results import Sample, latency_metrics
from benchmarks.timing import Counted, Latencies, Window

#: The first part of each run is not counted: connections are still being opened.
WARM_UP_SECONDS = 0.5


async def latency_round(ctx: Context) -> list[tuple[str, Sample]]:
    """One run of the broker's latency workload, each baseline right after."""
    only = ctx.settings.only
    if not {"latency", "latency-grpc"} & only:
        return []
    found = []
    if "latency" in only:
        for workload in ("latency", "latency-ws"):
            for target in ctx.brokers:
                found.append((ctx.key(workload, target), await _broker(ctx.on(target), workload)))
    if "latency-grpc" in only:
        found.append(("latency-grpc", await _broker(ctx, "latency-grpc")))
    found.append(("redis-py:latency", await _redis(ctx)))
    if "nats" in ctx.systems:
        found.append(("nats:latency", await _nats(ctx)))
    if "rabbitmq" in ctx.systems:
        found.append(("rabbitmq:latency", await _rabbitmq(ctx)))
    return found


def _plan(ctx: Context) -> tuple[Window, int, float]:
    """The window, how many messages and the deadline of one latency run."""
    s = ctx.settings
    window = ctx.window(s.latency_seconds)
    return window, int(s.latency_rate * s.latency_seconds), DEADLINE_FACTOR * s.latency_seconds + 5


async def _measure(
    ctx: Context, consumer: Job[Latencies], publisher: Job[Counted], window: Window
) -> Sample:
    consumed, published = await ctx.run([consumer, publisher])
    if not isinstance(consumed, Latencies) or not isinstance(published, Counted):
        raise TypeError(
            "a latency run returns its consumer's latencies, then its publisher's count"
        )
    if consumed.errors or published.errors:
        print(f"  (latency run: {len(consumed.values_ms)} measured, errors)")
    metrics = latency_metrics(consumed.values_ms)
    cpu = consumed.cpu_seconds + published.cpu_seconds
    return ctx.sample(metrics, window.start_at, window.end_at, cpu)


#: The broker's latency workloads: the consumer and publisher of each, and whether they
#: speak gRPC (else HTTP and WebSocket).
BROKER_LATENCY: dict[
    str, tuple[Callable[..., Job[Latencies]], Callable[..., Job[Counted]], bool]
] = {
    "latency": (WsLatencyConsumer, RestLatencyPublisher, False),
    "latency-ws": (WsLatencyConsumer, WsLatencyPublisher, False),
    "latency-grpc": (GrpcLatencyConsumer, GrpcLatencyPublisher, True),
}


async def _broker(ctx: Context, workload: str) -> Sample:
    s = ctx.settings
    consumer_kind, publisher_kind, grpc = BROKER_LATENCY[workload]
    where = ctx.grpc_target if grpc else ctx.broker_url
    topic = ctx.name("latency")
    await admin.create_topic(ctx.broker_url, topic, s.partitions)
    await admin.create_subscription(ctx.broker_url, f"{topic}-sub", topic)
    window, count, deadline = _plan(ctx)
    warm = window.start_at + WARM_UP_SECONDS
    consumer = consumer_kind(where, f"{topic}-sub", count, warm, window, deadline)
    publisher = publisher_kind(where, topic, s.latency_rate, count, s.size, window, deadline)
    try:
        with ctx.profiled(workload):
            return await _measure(ctx, consumer, publisher, window)
    finally:
        await admin.delete_topic(ctx.broker_url, topic)


async def _redis(ctx: Context) -> Sample:
    s = ctx.settings
    stream, group = ctx.name("xlat"), "bench"
    await redis_streams.prepare_group(ctx.redis_url, stream, group)
    window, count, deadline = _plan(ctx)
    warm = window.start_at + WARM_UP_SECONDS
    url = ctx.redis_url
    try:
        return await _measure(
            ctx,
            redis_streams.XreadgroupLatencyConsumer(
                url, stream, group, count, warm, window, deadline
            ),
            redis_streams.XaddLatencyPublisher(
                url, stream, s.latency_rate, count, s.size, window, deadline
            ),
            window,
        )
    finally:
        await redis_streams.drop(url, stream)


async def _nats(ctx: Context) -> Sample:
    from benchmarks.baselines import nats_js  # the bench extra's client: see baselines

    s = ctx.settings
    stream = ctx.name("jsl").replace("-", "_")
    subject = f"{stream}.in"
    await nats_js.create_stream(stream, subject)
    window, count, deadline = _plan(ctx)
    warm = window.start_at + WARM_UP_SECONDS
    try:
        return await _measure(
            ctx,
            nats_js.JsLatencyConsumer(subject, stream, count, warm, window, deadline),
            nats_js.JsLatencyPublisher(subject, s.latency_rate, count, s.size, window, deadline),
            window,
        )
    finally:
        await nats_js.delete_stream(stream)


async def _rabbitmq(ctx: Context) -> Sample:
    from benchmarks.baselines import rabbitmq  # the bench extra's client: see baselines

    s = ctx.settings
    queue = ctx.name("amqpl")
    await rabbitmq.declare(queue)
    window, count, deadline = _plan(ctx)
    warm = window.start_at + WARM_UP_SECONDS
    try:
        return await _measure(
            ctx,
            rabbitmq.AmqpLatencyConsumer(queue, count, warm, window, deadline),
            rabbitmq.AmqpLatencyPublisher(queue, s.latency_rate, count, s.size, window, deadline),
            window,
        )
    finally:
        await rabbitmq.delete(queue)
