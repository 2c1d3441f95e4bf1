"""The publish workloads: the broker over REST and WebSocket, and the baselines' publish."""

from __future__ import annotations

from collections.abc import Sequence

from benchmarks import admin
from benchmarks.baselines import redis_streams
from benchmarks.broker_grpc import GrpcPublish
from benchmarks.broker_http import RestPublish
from benchmarks.broker_ws import WsPublish
from benchmarks.context import Context
from benchmarks.pool import Job
from benchmarks.results import RATE, Sample
from benchmarks.timing import Counted, Window

#: A publish job may overrun its window by this much (a slow last request) before it stops.
OVERRUN_SECONDS = 10.0


async def publish_round(ctx: Context) -> list[tuple[str, Sample]]:
    """One run of every selected publish workload, each baseline right after."""
    only = ctx.settings.only
    found: list[tuple[str, Sample]] = []
    for workload, websocket in (("rest-publish", False), ("ws-publish", True)):
        if workload in only:
            for target in ctx.brokers:
                sample = await _broker(ctx.on(target), websocket=websocket)
                found.append((ctx.key(workload, target), sample))
    for workload, batch in (("grpc-publish", ctx.settings.batch), ("grpc-publish-single", 1)):
        if workload in only:
            found.append((workload, await _grpc(ctx, workload, batch)))
    if not {"rest-publish", "ws-publish", "grpc-publish", "grpc-publish-single"} & only:
        return found
    found.append(("redis-py:publish", await _redis(ctx)))
    if "nats" in ctx.systems:
        found.append(("nats:publish", await _nats(ctx)))
    if "rabbitmq" in ctx.systems:
        found.append(("rabbitmq:publish", await _rabbitmq(ctx)))
    return found


def _rate(ctx: Context, parts: Sequence[Counted], start: float, seconds: float) -> Sample:
    total = sum(p.count for p in parts)
    cpu = sum(p.cpu_seconds for p in parts)
    if any(p.errors for p in parts):
        print(f"  ({sum(p.errors for p in parts)} refused requests)")
    return ctx.sample({RATE: total / seconds}, start, start + seconds, cpu)


async def _counted(ctx: Context, jobs: Sequence[Job[Counted]], window: Window) -> Sample:
    return _rate(ctx, await ctx.run(jobs), window.start_at, window.seconds)


async def _broker(ctx: Context, *, websocket: bool) -> Sample:
    s = ctx.settings
    topic = ctx.name("publish")
    await admin.create_topic(ctx.broker_url, topic, s.partitions)
    window = ctx.window(s.seconds)
    deadline = s.seconds + OVERRUN_SECONDS
    kind = WsPublish if websocket else RestPublish
    jobs = [
        kind(ctx.broker_url, topic, s.connections, s.batch, s.size, window, deadline)
        for _ in range(s.processes)
    ]
    try:
        with ctx.profiled("ws-publish" if websocket else "rest-publish"):
            return await _counted(ctx, jobs, window)
    finally:
        await admin.delete_topic(ctx.broker_url, topic)


async def _grpc(ctx: Context, workload: str, batch: int) -> Sample:
    """gRPC Publish calls of ``batch`` messages (1: single-message calls)."""
    s = ctx.settings
    topic = ctx.name("publish")
    await admin.create_topic(ctx.broker_url, topic, s.partitions)
    window = ctx.window(s.seconds)
    deadline = s.seconds + OVERRUN_SECONDS
    jobs = [
        GrpcPublish(ctx.grpc_target, topic, s.connections, batch, s.size, window, deadline)
        for _ in range(s.processes)
    ]
    try:
        with ctx.profiled(workload):
            return await _counted(ctx, jobs, window)
    finally:
        await admin.delete_topic(ctx.broker_url, topic)


async def _redis(ctx: Context) -> Sample:
    s = ctx.settings
    stream = ctx.name("xadd")
    window = ctx.window(s.seconds)
    jobs = [
        redis_streams.XaddPublish(
            ctx.redis_url, stream, s.connections, s.batch, s.size, window, s.seconds + 10
        )
        for _ in range(s.processes)
    ]
    try:
        return await _counted(ctx, jobs, window)
    finally:
        await redis_streams.drop(ctx.redis_url, stream)


async def _nats(ctx: Context) -> Sample:
    from benchmarks.baselines import nats_js  # the bench extra's client: see baselines

    s = ctx.settings
    stream = ctx.name("js").replace("-", "_")
    await nats_js.create_stream(stream, f"{stream}.in")
    window = ctx.window(s.seconds)
    jobs = [
        nats_js.JsPublish(f"{stream}.in", s.size, window, s.seconds + OVERRUN_SECONDS)
        for _ in range(s.processes)
    ]
    try:
        return await _counted(ctx, jobs, window)
    finally:
        await nats_js.delete_stream(stream)


async def _rabbitmq(ctx: Context) -> Sample:
    from benchmarks.baselines import rabbitmq  # the bench extra's client: see baselines

    s = ctx.settings
    queue = ctx.name("amqp")
    await rabbitmq.declare(queue)
    window = ctx.window(s.seconds)
    jobs = [
        rabbitmq.AmqpPublish(queue, s.batch, s.size, window, s.seconds + OVERRUN_SECONDS)
        for _ in range(s.processes)
    ]
    try:
        return await _counted(ctx, jobs, window)
    finally:
        await rabbitmq.delete(queue)
