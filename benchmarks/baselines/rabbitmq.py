"""Baseline: RabbitMQ through aio-pika, when a server answers on 127.0.0.1:5672.

A durable classic queue per run, persistent messages, publisher confirms awaited in
windows of ``batch`` concurrent publishes; consumers with a prefetch window acking with
``multiple`` every ``ack_batch`` messages (as the broker's consumers ack in batches).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass

import aio_pika
from aio_pika.abc import AbstractChannel, AbstractIncomingMessage, AbstractRobustConnection

from benchmarks.broker_http import IDLE_SECONDS
from benchmarks.payloads import latency_ms, payload, stamped
from benchmarks.timing import Counted, Latencies, Window

URL = "amqp://guest:guest@127.0.0.1:5672/"
PORT = 5672
#: Unacked deliveries a consumer may hold.
PREFETCH = 1000
#: How often a consumer checks whether it should flush its acks or stop.
WATCH_SECONDS = 0.005


async def _connect() -> AbstractRobustConnection:
    return await aio_pika.connect_robust(URL, timeout=5)


async def probe() -> str:
    """The server's version; raises if RabbitMQ does not accept guest/guest."""
    async with await _connect() as connection:
        transport = connection.transport
        assert transport is not None
        version = transport.connection.server_properties.get("version", "?")
        return version.decode() if isinstance(version, bytes) else str(version)


async def declare(queue: str) -> None:
    async with await _connect() as connection:
        channel = await connection.channel()
        await channel.declare_queue(queue, durable=True)


async def delete(queue: str) -> None:
    async with await _connect() as connection:
        channel = await connection.channel()
        with contextlib.suppress(Exception):  # already gone: nothing to clean up
            await channel.queue_delete(queue)


def _message(body: bytes) -> aio_pika.Message:
    return aio_pika.Message(body, delivery_mode=aio_pika.DeliveryMode.PERSISTENT)


@dataclass(frozen=True, slots=True)
class AmqpPublish:
    """Rounds of ``batch`` concurrent confirmed publishes, counted in ``window``; or
    exactly ``total`` messages."""

    queue: str
    batch: int
    size: int
    window: Window
    deadline_seconds: float
    total: int = 0

    async def run(self) -> Counted:
        done = Counted()
        body = payload(self.size)
        async with await _connect() as connection:
            channel = await connection.channel(publisher_confirms=True)
            await self.window.opened()
            started = time.process_time()
            await self._publish(channel, body, done)
            done.cpu_seconds = time.process_time() - started
        return done

    async def _publish(self, channel: AbstractChannel, body: bytes, done: Counted) -> None:
        give_up = self.window.start_at + self.deadline_seconds
        exchange = channel.default_exchange
        rounds = self.total // self.batch if self.total else None
        while time.time() < give_up:
            if rounds is None and not self.window.is_open(time.time()):
                return
            if rounds is not None:
                if rounds <= 0:
                    return
                rounds -= 1
            sends = (exchange.publish(_message(body), self.queue) for _ in range(self.batch))
            await asyncio.gather(*sends)
            now = time.time()
            if rounds is not None or self.window.is_open(now):
                done.add(self.batch, now)


class _Acks:
    """Acks a consumer's deliveries with ``multiple`` every ``batch`` of them."""

    def __init__(self, batch: int, done: Counted) -> None:
        self.batch = batch
        self.done = done
        self.unacked = 0
        self.last: AbstractIncomingMessage | None = None
        self.last_seen = time.time()

    async def received(self, message: AbstractIncomingMessage) -> None:
        self.last_seen = time.time()
        if not self.done.first:
            self.done.first = self.last_seen
        self.last = message
        self.unacked += 1
        if self.unacked >= self.batch:
            await self.flush()

    async def flush(self) -> None:
        if self.last is not None and self.unacked:
            count, self.unacked = self.unacked, 0
            await self.last.ack(multiple=True)
            self.done.add(count, time.time())


@dataclass(frozen=True, slots=True)
class AmqpConsume:
    """basic.consume with a prefetch window, acking in batches, until drained."""

    queue: str
    ack_batch: int
    window: Window
    deadline_seconds: float

    async def run(self) -> Counted:
        done = Counted()
        acks = _Acks(self.ack_batch, done)
        async with await _connect() as connection:
            channel = await connection.channel()
            await channel.set_qos(prefetch_count=PREFETCH)
            queue = await channel.declare_queue(self.queue, durable=True, passive=True)
            await self.window.opened()
            started = time.process_time()
            tag = await queue.consume(acks.received)
            await self._watch(acks)
            await queue.cancel(tag)
            done.cpu_seconds = time.process_time() - started
        return done

    async def _watch(self, acks: _Acks) -> None:
        give_up = self.window.start_at + self.deadline_seconds
        while time.time() < give_up:
            await asyncio.sleep(WATCH_SECONDS)
            if time.time() - acks.last_seen > WATCH_SECONDS:
                await acks.flush()
                if time.time() - acks.last_seen > IDLE_SECONDS:
                    return


@dataclass(frozen=True, slots=True)
class AmqpLatencyPublisher:
    """``rate`` stamped, confirmed publishes a second on a fixed schedule."""

    queue: str
    rate: float
    count: int
    size: int
    window: Window
    deadline_seconds: float

    async def run(self) -> Counted:
        done = Counted()
        async with await _connect() as connection, asyncio.TaskGroup() as group:
            exchange = (await connection.channel(publisher_confirms=True)).default_exchange
            await self.window.opened()
            started = time.process_time()
            for index in range(self.count):
                delay = self.window.start_at + index / self.rate - time.time()
                if delay > 0:
                    await asyncio.sleep(delay)
                group.create_task(exchange.publish(_message(stamped(self.size)), self.queue))
                done.add(1, time.time())
            done.cpu_seconds = time.process_time() - started
        return done


@dataclass(frozen=True, slots=True)
class AmqpLatencyConsumer:
    """basic.consume: the latency of each delivery; acks (``multiple``) every
    WATCH_SECONDS, as the broker's latency consumer does."""

    queue: str
    count: int
    warm_up_until: float
    window: Window
    deadline_seconds: float

    async def run(self) -> Latencies:
        found = Latencies()
        finished = asyncio.Event()
        warm_up_ns = self.warm_up_until * 1e9
        acks = _Acks(PREFETCH, Counted())

        async def handle(message: AbstractIncomingMessage) -> None:
            if int(message.body[:20]) >= warm_up_ns:
                found.values_ms.append(latency_ms(message.body))
            await acks.received(message)
            if acks.done.count + acks.unacked >= self.count:
                finished.set()

        async with await _connect() as connection:
            channel = await connection.channel()
            await channel.set_qos(prefetch_count=PREFETCH)
            queue = await channel.declare_queue(self.queue, durable=True, passive=True)
            await queue.consume(handle)
            flusher = asyncio.create_task(_flush_every(acks))
            started = time.process_time()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(
                    self.window.start_at + self.deadline_seconds - time.time()
                ):
                    await finished.wait()
            flusher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await flusher
            found.cpu_seconds = time.process_time() - started
        return found


async def _flush_every(acks: _Acks) -> None:
    while True:
        await asyncio.sleep(WATCH_SECONDS)
        await acks.flush()
