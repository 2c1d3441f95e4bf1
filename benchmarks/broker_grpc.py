"""Load on the broker's gRPC API: Publish batches (or single messages), StreamingPull
drained with acks on the stream, and a steady single-message latency run (generated
stubs over ``grpc.aio``, one channel per job)."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Any

from grpc import aio

from benchmarks.loops import (
    IDLE_SECONDS,
    WATCH_SECONDS,
    LatencyTally,
    cpu_into,
    fixed_schedule,
    publish_in_window,
    run_in_window,
    stop,
)
from benchmarks.payloads import payload, stamped
from benchmarks.timing import Counted, Latencies, Window
from pubsubgo.adapters.grpc.generated import pubsub_pb2 as pb
from pubsubgo.adapters.grpc.generated import pubsub_pb2_grpc


def _stub(channel: aio.Channel) -> Any:
    return pubsub_pb2_grpc.PubSubStub(channel)


@dataclass(frozen=True, slots=True)
class GrpcPublish:
    """``connections`` concurrent loops calling Publish with ``batch`` messages, counted in
    ``window``; or, with ``total``, publishing exactly that many (to prepare a backlog)."""

    target: str
    topic: str
    connections: int
    batch: int
    size: int
    window: Window
    deadline_seconds: float
    total: int = 0

    async def run(self) -> Counted:
        done = Counted()
        message = pb.OutgoingMessage(data=payload(self.size))
        request = pb.PublishRequest(topic=self.topic, messages=[message] * self.batch)
        async with aio.insecure_channel(self.target) as channel:
            publish = _stub(channel).Publish

            async def send() -> bool:
                try:
                    await publish(request)
                except aio.AioRpcError:
                    return False
                return True

            await publish_in_window(
                self.window, self.deadline_seconds, self.batch, send, done,
                loops=self.connections, total=self.total,
            )  # fmt: skip
        return done


@dataclass(frozen=True, slots=True)
class GrpcConsume:
    """One StreamingPull of ``subscription`` with ``max_in_flight``, acking on the stream
    in requests of ``ack_batch`` ids (sooner when the stream goes quiet), until nothing came
    for IDLE_SECONDS; counts what the broker confirms."""

    target: str
    subscription: str
    max_in_flight: int
    ack_batch: int
    window: Window
    deadline_seconds: float

    async def run(self) -> Counted:
        done = Counted()
        async with aio.insecure_channel(self.target) as channel:
            await run_in_window(self.window, done, [self._consume(_stub(channel), done)])
        return done

    async def _consume(self, stub: Any, done: Counted) -> None:
        stream = stub.StreamingPull()
        first = pb.StreamingPullRequest(
            subscription=self.subscription, max_in_flight=self.max_in_flight
        )
        await stream.write(first)
        answers: asyncio.Queue[pb.StreamingPullResponse] = asyncio.Queue()
        reader = asyncio.create_task(_read_into(stream, answers))
        acks = _StreamAcks(stream, self.ack_batch, done)
        give_up = self.window.start_at + self.deadline_seconds
        try:
            while time.time() < give_up and not acks.drained:
                try:
                    answer = await asyncio.wait_for(answers.get(), WATCH_SECONDS)
                except TimeoutError:
                    await acks.flush()  # quiet: send what is pending
                    continue
                await acks.received(answer)
        finally:
            stream.cancel()
            await stop(reader)


async def _read_into(stream: Any, answers: asyncio.Queue[pb.StreamingPullResponse]) -> None:
    """Read every answer of ``stream`` (reads are never cancelled: that ends the call)."""
    while (answer := await stream.read()) is not aio.EOF:
        answers.put_nowait(answer)


class _StreamAcks:
    """Ack ids of one stream, sent in requests of ``batch``; counts what is confirmed."""

    def __init__(self, stream: Any, batch: int, done: Counted) -> None:
        self.stream = stream
        self.batch = batch
        self.done = done
        self.pending: list[str] = []
        self.sent = self.confirmed = 0
        self.last_seen = time.time()

    async def received(self, answer: pb.StreamingPullResponse) -> None:
        self.last_seen = time.time()
        if answer.HasField("settled"):
            self.confirmed += 1
            self.done.add(answer.settled.acked, self.last_seen)
        if answer.received_messages:
            if not self.done.first:
                self.done.first = self.last_seen
            self.pending += [m.ack_id for m in answer.received_messages]
        if len(self.pending) >= self.batch:
            await self.flush()

    async def flush(self) -> None:
        if self.pending:
            ids, self.pending = self.pending, []
            self.sent += 1
            await self.stream.write(pb.StreamingPullRequest(ack_ids=ids, request_id=self.sent))

    @property
    def drained(self) -> bool:
        """Nothing pending, every ack confirmed, and quiet for IDLE_SECONDS."""
        quiet = not self.pending and self.confirmed == self.sent and bool(self.done.first)
        return quiet and time.time() - self.last_seen > IDLE_SECONDS


@dataclass(frozen=True, slots=True)
class GrpcLatencyPublisher:
    """Publishes ``rate`` single messages a second with unary Publish calls, each stamped
    when sent, on a fixed schedule from the window's start, ``count`` in all."""

    target: str
    topic: str
    rate: float
    count: int
    size: int
    window: Window
    deadline_seconds: float
    #: Calls in flight at once at most; more means the broker has fallen far behind.
    max_in_flight: int = 256

    async def run(self) -> Counted:
        done = Counted()
        slots = asyncio.Semaphore(self.max_in_flight)
        async with aio.insecure_channel(self.target) as channel:
            publish = _stub(channel).Publish
            await self.window.opened()
            with cpu_into(done):
                async with asyncio.TaskGroup() as group:
                    async for _ in fixed_schedule(self.window.start_at, self.rate, self.count):
                        await slots.acquire()
                        group.create_task(self._send(publish, slots, done))
        return done

    async def _send(self, publish: Any, slots: asyncio.Semaphore, done: Counted) -> None:
        try:
            message = pb.OutgoingMessage(data=stamped(self.size))
            await publish(pb.PublishRequest(topic=self.topic, messages=[message]))
            done.add(1, time.time())
        except aio.AioRpcError:
            done.errors += 1
        finally:
            slots.release()


@dataclass(frozen=True, slots=True)
class GrpcLatencyConsumer:
    """One StreamingPull: for each message, the time since its publisher stamped it; acks
    go out on the stream every WATCH_SECONDS. Stops after ``count`` or the deadline;
    messages stamped before ``warm_up_until`` are acked but not counted."""

    target: str
    subscription: str
    count: int
    warm_up_until: float
    window: Window
    deadline_seconds: float

    async def run(self) -> Latencies:
        found = Latencies()
        tally = LatencyTally(found, self.count, self.warm_up_until)
        async with aio.insecure_channel(self.target) as channel:
            stream = _stub(channel).StreamingPull()
            await stream.write(pb.StreamingPullRequest(subscription=self.subscription))
            answers: asyncio.Queue[pb.StreamingPullResponse] = asyncio.Queue()
            reader = asyncio.create_task(_read_into(stream, answers))
            acks = _StreamAcks(stream, 1000, Counted())
            with cpu_into(found):
                try:
                    await self._receive(answers, tally, acks)
                finally:
                    stream.cancel()
                    await stop(reader)
        if not tally.complete:
            found.errors += 1  # fewer messages than expected arrived in time
        return found

    async def _receive(
        self,
        answers: asyncio.Queue[pb.StreamingPullResponse],
        tally: LatencyTally,
        acks: _StreamAcks,
    ) -> None:
        give_up = self.window.start_at + self.deadline_seconds
        while time.time() < give_up and not tally.complete:
            try:
                answer = await asyncio.wait_for(answers.get(), WATCH_SECONDS)
            except TimeoutError:
                await acks.flush()
                continue
            for message in answer.received_messages:
                tally.sample(message.message.data)
                tally.arrived()
            await acks.received(answer)
