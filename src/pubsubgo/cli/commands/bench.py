"""``pubsub-cli bench``: publish throughput, end-to-end throughput and latency."""

from __future__ import annotations

import asyncio
import math
import secrets
import time
from dataclasses import dataclass
from typing import Annotated, Any

import typer

from pubsubgo.cli.commands.load import pace
from pubsubgo.cli.context import CliContext, cli_context
from pubsubgo.cli.output import note, print_json, print_table
from pubsubgo.cli.runner import ExitCode, fail, run
from pubsubgo.client import Client, MessageStream, OutgoingMessage

#: The attribute carrying when a message was handed to the publisher (perf_counter seconds
#: of this process, which both publishes and receives, so no clock skew enters).
SENT_AT = "x-bench-sent-at"
#: Unacked messages the benchmark's consumer accepts at once.
BENCH_MAX_IN_FLIGHT = 1000

COUNT_HELP = "Messages per phase."
SIZE_HELP = "Payload bytes per message."
BATCH_HELP = "Messages per publish request."
CONCURRENCY_HELP = "Publish requests in flight at once."
TIMEOUT_HELP = "Seconds to wait for every message to arrive."
RATE_HELP = "Pace the end-to-end phase at this many messages per second (0: no pacing)."
KEEP_HELP = "Keep the benchmark's topic and subscription afterwards."


@dataclass(frozen=True, slots=True)
class BenchResult:
    """The measurements of one run."""

    count: int
    size: int
    publish_seconds: float
    publish_errors: int
    received: int
    end_to_end_seconds: float
    latencies: tuple[float, ...]  # seconds, sorted

    def as_json(self) -> dict[str, Any]:
        """The result for ``--output json`` (rates per second, latencies in ms)."""
        return {
            "count": self.count, "size": self.size,
            "publish": {
                "seconds": round(self.publish_seconds, 3), "errors": self.publish_errors,
                "messages_per_second": round(_rate(self.count, self.publish_seconds), 1),
            },
            "end_to_end": {
                "received": self.received, "seconds": round(self.end_to_end_seconds, 3),
                "messages_per_second": round(_rate(self.received, self.end_to_end_seconds), 1),
                "latency_ms": {f"p{p}": round(self.percentile(p) * 1000, 2) for p in (50, 95, 99)},
            },
        }  # fmt: skip

    def percentile(self, p: float) -> float:
        """The ``p``-th percentile latency in seconds (nearest rank; 0 without samples)."""
        if not self.latencies:
            return 0.0
        rank = max(math.ceil(p / 100 * len(self.latencies)), 1)
        return self.latencies[rank - 1]


def bench(
    ctx: typer.Context,
    count: Annotated[int, typer.Option(help=COUNT_HELP, min=1)] = 10_000,
    size: Annotated[int, typer.Option(help=SIZE_HELP, min=1)] = 100,
    batch: Annotated[int, typer.Option(help=BATCH_HELP, min=1, max=1000)] = 100,
    concurrency: Annotated[int, typer.Option(help=CONCURRENCY_HELP, min=1)] = 4,
    rate: Annotated[float, typer.Option(help=RATE_HELP, min=0)] = 0.0,
    timeout: Annotated[float, typer.Option(help=TIMEOUT_HELP, min=0)] = 60.0,
    keep: Annotated[bool, typer.Option("--keep", help=KEEP_HELP)] = False,
) -> None:
    """Measure publish throughput, end-to-end throughput and latency (p50/p95/p99).

    Runs on a fresh topic, deleted afterwards: first publishes --count messages, then
    publishes --count more while receiving them over a WebSocket; latency is from the
    publish call to the receipt. With --rate the second phase is paced, which measures
    latency below saturation.
    """
    cli = cli_context(ctx)
    result = run(_bench(cli, count, size, _Publishing(batch, concurrency, rate), timeout, keep))
    if cli.json:
        print_json(result.as_json())
    else:
        _print(result)
    if result.publish_errors or result.received < count:
        fail(f"{result.publish_errors} publish error(s), {count - result.received} not received")


@dataclass(frozen=True, slots=True)
class _Publishing:
    batch: int
    concurrency: int
    rate: float  # messages per second in the end-to-end phase; 0 = unpaced


async def _bench(
    cli: CliContext, count: int, size: int, publishing: _Publishing, patience: float, keep: bool
) -> BenchResult:
    if cli.grpc:
        fail("bench measures REST and WebSocket; run it without --grpc", ExitCode.USAGE)
    async with Client(cli.server, cli.token) as client:
        topic = f"bench-{secrets.token_hex(4)}"
        await client.topics.create(topic)
        try:
            note(f"bench: publishing {count} messages of {size} bytes to {topic}")
            publish_seconds, errors = await _publish_phase(client, topic, count, size, publishing)
            note("bench: publishing and receiving over a WebSocket")
            seconds, latencies = await _end_to_end(client, topic, count, size, publishing, patience)
        finally:
            if not keep:
                await client.topics.delete(topic, force=True)
    return BenchResult(
        count, size, publish_seconds, errors, len(latencies), seconds, tuple(sorted(latencies))
    )


async def _publish_phase(
    client: Client, topic: str, count: int, size: int, publishing: _Publishing
) -> tuple[float, int]:
    """Seconds to publish ``count`` messages (all answered), and how many failed."""
    payload = b"x" * size
    started = time.perf_counter()
    async with client.publisher(
        topic, max_messages=publishing.batch, max_concurrent_batches=publishing.concurrency
    ) as publisher:
        futures = [await publisher.publish(payload) for _ in range(count)]
    seconds = time.perf_counter() - started
    return seconds, sum(1 for f in futures if f.exception() is not None)


async def _end_to_end(
    client: Client, topic: str, count: int, size: int, publishing: _Publishing, patience: float
) -> tuple[float, list[float]]:
    """Publish while receiving: seconds from the first publish to the last receipt, and
    each message's latency."""
    subscription = f"{topic}-sub"
    await client.subscriptions.create(subscription, topic)
    latencies: list[float] = []
    stream = client.subscribe(subscription, max_in_flight=BENCH_MAX_IN_FLIGHT, reconnect=None)
    async with stream:
        receiver = asyncio.create_task(_receive(stream, count, latencies))
        started = time.perf_counter()
        async with client.publisher(
            topic, max_messages=publishing.batch, max_concurrent_batches=publishing.concurrency
        ) as publisher:
            for i in range(count):
                if publishing.rate > 0:
                    await pace(started + i / publishing.rate - time.perf_counter())
                sent = {SENT_AT: repr(time.perf_counter())}
                await publisher.publish(OutgoingMessage(b"x" * size, attributes=sent))
        try:
            async with asyncio.timeout(patience):
                await receiver
        except TimeoutError:
            note(f"bench: only {len(latencies)} of {count} messages arrived in {patience:g} s")
        finished = time.perf_counter()
    return finished - started, latencies


async def _receive(stream: MessageStream, count: int, latencies: list[float]) -> None:
    # Acks go out concurrently: waiting for each confirmation would measure round trips.
    acks: set[asyncio.Task[bool]] = set()
    async for message in stream:
        latencies.append(time.perf_counter() - float(message.attributes[SENT_AT]))
        task = asyncio.create_task(message.ack())
        acks.add(task)
        task.add_done_callback(acks.discard)
        if len(latencies) >= count:
            break
    await asyncio.gather(*acks)


def _rate(messages: int, seconds: float) -> float:
    return messages / seconds if seconds > 0 else 0.0


def _print(result: BenchResult) -> None:
    publish_rate = _rate(result.count, result.publish_seconds)
    mib = publish_rate * result.size / 2**20
    end_to_end_rate = _rate(result.received, result.end_to_end_seconds)
    rows: list[list[Any]] = [
        ["publish throughput", f"{publish_rate:,.0f} msg/s ({mib:.2f} MiB/s)"],
        ["publish errors", result.publish_errors],
        ["end-to-end throughput", f"{end_to_end_rate:,.0f} msg/s"],
        ["received", f"{result.received} of {result.count}"],
        *([f"latency p{p}", f"{result.percentile(p) * 1000:.2f} ms"] for p in (50, 95, 99)),
    ]  # fmt: skip
    title = f"{result.count} messages of {result.size} bytes"
    print_table(title, ["METRIC", "VALUE"], rows)
