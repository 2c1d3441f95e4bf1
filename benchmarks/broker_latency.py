"""Steady-rate latency on the broker: a publisher on a fixed schedule (REST or WebSocket,
one message per request or frame, stamped when sent) and a WebSocket consumer that times
each pushed message against its stamp."""

from __future__ import annotations

import asyncio
import functools
import time
from dataclasses import dataclass

import aiohttp
import orjson

from benchmarks.broker_http import JSON, session
from benchmarks.broker_ws import connect, subscribe
from benchmarks.loops import WATCH_SECONDS, LatencyTally, cpu_into, every, fixed_schedule, stop
from benchmarks.payloads import stamped
from benchmarks.timing import Counted, Latencies, Window


@dataclass(frozen=True, slots=True)
class RestLatencyPublisher:
    """Publishes ``rate`` single messages a second over REST, each stamped with the time it
    is sent, on a fixed schedule from the window's start (a late send does not delay the
    next ones), ``count`` in all."""

    url: str
    topic: str
    rate: float
    count: int
    size: int
    window: Window
    deadline_seconds: float
    #: Sends in flight at once at most; more means the broker has fallen far behind.
    max_in_flight: int = 256

    async def run(self) -> Counted:
        done = Counted()
        target = f"{self.url}/v1/topics/{self.topic}/messages"
        slots = asyncio.Semaphore(self.max_in_flight)
        async with session(64) as http:
            await self.window.opened()
            with cpu_into(done):
                async with asyncio.TaskGroup() as group:
                    async for _ in fixed_schedule(self.window.start_at, self.rate, self.count):
                        await slots.acquire()
                        group.create_task(self._send(http, target, slots, done))
        return done

    async def _send(
        self, http: aiohttp.ClientSession, target: str, slots: asyncio.Semaphore, done: Counted
    ) -> None:
        try:
            body = orjson.dumps({"messages": [{"data": stamped(self.size).decode()}]})
            async with http.post(target, data=body, headers=JSON) as response:
                await response.read()
            if response.status == 201:
                done.add(1, time.time())
            else:
                done.errors += 1
        finally:
            slots.release()


@dataclass(frozen=True, slots=True)
class WsLatencyPublisher:
    """Publishes ``rate`` single messages a second over one socket, each in its own frame
    stamped when sent, on a fixed schedule from the window's start, ``count`` in all. The
    answers are read by another task: a send never waits for the previous one's."""

    url: str
    topic: str
    rate: float
    count: int
    size: int
    window: Window
    deadline_seconds: float
    #: Frames awaiting their answer at most; more means the broker has fallen far behind.
    max_in_flight: int = 256

    async def run(self) -> Counted:
        done = Counted()
        slots = asyncio.Semaphore(self.max_in_flight)
        async with session(1) as http:
            ws = await connect(http, self.url)
            reader = asyncio.create_task(self._answers(ws, slots, done))
            await self.window.opened()
            try:
                with cpu_into(done):
                    try:
                        async with asyncio.timeout(self.deadline_seconds):
                            await self._send_all(ws, slots)
                            await reader
                    finally:
                        if not reader.done():
                            await stop(reader)
            finally:
                await ws.close()
        return done

    async def _send_all(
        self, ws: aiohttp.ClientWebSocketResponse, slots: asyncio.Semaphore
    ) -> None:
        async for _ in fixed_schedule(self.window.start_at, self.rate, self.count):
            await slots.acquire()
            message = {"data": stamped(self.size).decode()}
            frame = {"type": "publish", "topic": self.topic, "messages": [message]}
            await ws.send_str(orjson.dumps(frame).decode())

    async def _answers(
        self, ws: aiohttp.ClientWebSocketResponse, slots: asyncio.Semaphore, done: Counted
    ) -> None:
        async for message in ws:
            if message.type is not aiohttp.WSMsgType.TEXT:
                return
            slots.release()
            if message.data.startswith('{"type":"published"'):
                done.add(1, time.time())
            else:
                done.errors += 1
            if done.count + done.errors >= self.count:
                return


@dataclass(frozen=True, slots=True)
class WsLatencyConsumer:
    """One socket subscribed to a subscription: for each pushed message, the time since
    its publisher stamped it. Acks go out every WATCH_SECONDS in one frame (a frame per
    ack works too: the broker merges those that queue up, docs/api.md). Stops after
    ``count`` messages or the deadline; messages stamped before ``warm_up_until`` are
    acked but not counted."""

    url: str
    subscription: str
    count: int
    warm_up_until: float
    window: Window
    deadline_seconds: float

    async def run(self) -> Latencies:
        found = Latencies()
        async with session(1) as http:
            ws = await connect(http, self.url)
            await subscribe(ws, self.subscription, 1000)
            tally = LatencyTally(found, self.count, self.warm_up_until)
            with cpu_into(found):
                pending: list[str] = []
                flusher = asyncio.create_task(
                    every(WATCH_SECONDS, functools.partial(_send_acks, ws, pending))
                )
                try:
                    async with asyncio.timeout(
                        self.window.start_at + self.deadline_seconds - time.time()
                    ):
                        await self._receive(ws, tally, pending)
                except TimeoutError:
                    found.errors += 1  # fewer messages than expected arrived in time
                finally:
                    await stop(flusher)
            await ws.close()
        return found

    async def _receive(
        self, ws: aiohttp.ClientWebSocketResponse, tally: LatencyTally, pending: list[str]
    ) -> None:
        async for message in ws:
            if message.type is not aiohttp.WSMsgType.TEXT:
                break
            frame = orjson.loads(message.data)
            if frame["type"] != "message":
                continue
            tally.sample(frame["data"])
            pending.append(frame["ack_id"])
            tally.arrived()
            if tally.complete:
                return


async def _send_acks(ws: aiohttp.ClientWebSocketResponse, pending: list[str]) -> None:
    """Ack what arrived since the last time in one frame."""
    if pending:
        frame = orjson.dumps({"type": "ack", "ack_ids": pending[:]}).decode()
        pending.clear()
        await ws.send_str(frame)
