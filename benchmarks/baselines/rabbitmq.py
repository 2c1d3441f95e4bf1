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
from aio_pika.abc import AbstractIncomingMessage, AbstractRobustConnection

from benchmarks.loops import (
    IDLE_SECONDS,
    WATCH_SECONDS,
    LatencyTally,
    Rounds,
    cpu_into,
    every,
    fixed_schedule,
    publish_rounds,
    stop,
)
from benchmarks.payloads import payload, stamped
from benchmarks.timing import Counted, Latencies, Window

URL = "amqp://guest:guest@127.0.0.1:5672/"
PORT = 5672
#: Unacked deliveries a consumer may hold.
PREFETCH = 1000


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
            exchange = (await connection.channel(publisher_confirms=True)).default_exchange

            async def send() -> bool:
                sends = (exchange.publish(_message(body), self.queue) for _ in range(self.batch))
                await asyncio.gather(*sends)
                return True

            rounds = Rounds.of(self.total, self.batch)
            await self.window.opened()
            with cpu_into(done):
                await publish_rounds(
                    self.window, self.deadline_seconds, self.batch, send, done, rounds
                )
        return done


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
            with cpu_into(done):
                tag = await queue.consume(acks.received)
                await self._watch(acks)
                await queue.cancel(tag)
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
            with cpu_into(done):
                async for _ in fixed_schedule(self.window.start_at, self.rate, self.count):
                    group.create_task(exchange.publish(_message(stamped(self.size)), self.queue))
                    done.add(1, time.time())
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
        tally = LatencyTally(found, self.count, self.warm_up_until)
        acks = _Acks(PREFETCH, Counted())

        async def handle(message: AbstractIncomingMessage) -> None:
            tally.sample(message.body)
            await acks.received(message)
            if acks.done.count + acks.unacked >= self.count:
                tally.finished.set()

        async with await _connect() as connection:
            channel = await connection.channel()
            await channel.set_qos(prefetch_count=PREFETCH)
            queue = await channel.declare_queue(self.queue, durable=True, passive=True)
            await queue.consume(handle)
            flusher = asyncio.create_task(every(WATCH_SECONDS, acks.flush))
            with cpu_into(found):
                await tally.wait(self.window.start_at + self.deadline_seconds)
                await stop(flusher)
        return found
