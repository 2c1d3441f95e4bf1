"""Baseline: NATS JetStream through nats-py, when a server answers on 127.0.0.1:4222.

A file-stored stream per run. Publishing uses ``publish_async`` (acks awaited in a window,
the fastest nats-py offers); consuming a durable pull consumer's ``fetch`` + ``ack``;
latency a push consumer with manual acks.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass

import nats
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.errors import TimeoutError as NatsTimeout
from nats.js.api import ConsumerConfig, PubAck, StorageType

from benchmarks.loops import LatencyTally, cpu_into, drain, fixed_schedule
from benchmarks.payloads import payload, stamped
from benchmarks.timing import Counted, Latencies, Window

URL = "nats://127.0.0.1:4222"
PORT = 4222
#: Publishes awaiting their ack at most, per connection (nats-py's default is 4000).
MAX_PENDING = 4000
#: Unacked messages a consumer may hold: enough for every fetch in flight.
MAX_ACK_PENDING = 50_000
#: How long a fetch waits for messages (s).
FETCH_TIMEOUT_SECONDS = 0.2


async def _connect() -> Client:
    return await nats.connect(URL, connect_timeout=5, max_reconnect_attempts=0)


async def probe() -> str:
    """The server's version, once JetStream has answered; raises if it does not."""
    nc = await _connect()
    try:
        await nc.jetstream().account_info()
        version = nc.connected_server_version
        return f"{version.major}.{version.minor}.{version.patch}"
    finally:
        await nc.close()


async def create_stream(name: str, subject: str) -> None:
    nc = await _connect()
    try:
        await nc.jetstream().add_stream(name=name, subjects=[subject], storage=StorageType.FILE)
    finally:
        await nc.close()


async def delete_stream(name: str) -> None:
    nc = await _connect()
    try:
        with contextlib.suppress(Exception):  # already gone: nothing to clean up
            await nc.jetstream().delete_stream(name)
    finally:
        await nc.close()


@dataclass(frozen=True, slots=True)
class JsPublish:
    """``publish_async`` in a loop, counted in ``window``; or exactly ``total``."""

    subject: str
    size: int
    window: Window
    deadline_seconds: float
    total: int = 0

    async def run(self) -> Counted:
        done = Counted()
        data = payload(self.size)
        nc = await _connect()
        try:
            js = nc.jetstream(publish_async_max_pending=MAX_PENDING)
            await self.window.opened()
            with cpu_into(done):
                await self._publish(js, data, done)
        finally:
            await nc.close()
        return done

    async def _publish(self, js: nats.js.JetStreamContext, data: bytes, done: Counted) -> None:
        give_up = self.window.start_at + self.deadline_seconds

        def counted(future: asyncio.Future[PubAck]) -> None:
            now = time.time()
            if future.cancelled() or future.exception() is not None:
                done.errors += 1
            elif self.total or self.window.is_open(now):
                done.add(1, now)

        sent = 0
        # One deadline around the whole loop: a wait_stall per publish would cost a Task per
        # message in nats-py (asyncio.wait_for), a sixth of the rate measured without it.
        async with asyncio.timeout(max(0.1, give_up - time.time())):
            while sent < self.total if self.total else self.window.is_open(time.time()):
                future = await js.publish_async(self.subject, data)
                future.add_done_callback(counted)
                sent += 1
            await js.publish_async_completed()


@dataclass(frozen=True, slots=True)
class JsConsume:
    """A durable pull consumer: fetch up to ``batch``, ack each, until drained."""

    subject: str
    stream: str
    durable: str
    batch: int
    window: Window
    deadline_seconds: float

    async def run(self) -> Counted:
        done = Counted()
        nc = await _connect()
        try:
            js = nc.jetstream()
            config = ConsumerConfig(max_ack_pending=MAX_ACK_PENDING)
            sub = await js.pull_subscribe(
                self.subject, durable=self.durable, stream=self.stream, config=config
            )

            async def fetch() -> list[Msg] | None:
                try:
                    return await sub.fetch(self.batch, timeout=FETCH_TIMEOUT_SECONDS)
                except NatsTimeout:
                    return None

            async def ack(messages: list[Msg]) -> int:
                for message in messages:
                    await message.ack()
                await nc.flush()  # the acks have reached the server
                return len(messages)

            await self.window.opened()
            with cpu_into(done):
                await drain(self.window, self.deadline_seconds, done, fetch, ack)
        finally:
            await nc.close()
        return done


@dataclass(frozen=True, slots=True)
class JsLatencyPublisher:
    """``rate`` stamped ``publish_async`` a second on a fixed schedule, ``count`` in all."""

    subject: str
    rate: float
    count: int
    size: int
    window: Window
    deadline_seconds: float

    async def run(self) -> Counted:
        done = Counted()
        nc = await _connect()
        try:
            js = nc.jetstream(publish_async_max_pending=MAX_PENDING)
            await self.window.opened()
            with cpu_into(done):
                async for _ in fixed_schedule(self.window.start_at, self.rate, self.count):
                    await js.publish_async(self.subject, stamped(self.size))
                    done.add(1, time.time())
                async with asyncio.timeout(self.deadline_seconds):
                    await js.publish_async_completed()
        finally:
            await nc.close()
        return done


@dataclass(frozen=True, slots=True)
class JsLatencyConsumer:
    """A push consumer with manual acks: the latency of each message, then its ack."""

    subject: str
    stream: str
    count: int
    warm_up_until: float
    window: Window
    deadline_seconds: float

    async def run(self) -> Latencies:
        found = Latencies()
        tally = LatencyTally(found, self.count, self.warm_up_until)

        async def handle(message: Msg) -> None:
            tally.sample(message.data)
            await message.ack()
            tally.arrived()

        nc = await _connect()
        try:
            js = nc.jetstream()
            await js.subscribe(self.subject, stream=self.stream, cb=handle, manual_ack=True)
            with cpu_into(found):
                await tally.wait(self.window.start_at + self.deadline_seconds)
        finally:
            await nc.close()
        return found
