"""Steady-rate latency on the broker: a publisher on a fixed schedule (REST or WebSocket,
one message per request or frame, stamped when sent) and a WebSocket consumer that times
each pushed message against its stamp."""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass

import aiohttp
import orjson

from benchmarks.broker_http import JSON, session
from benchmarks.broker_ws import WATCH_SECONDS, connect, subscribe
from benchmarks.payloads import latency_ms, stamped
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
            started = time.process_time()
            async with asyncio.TaskGroup() as group:
                for index in range(self.count):
                    await _sleep_until(self.window.start_at + index / self.rate)
                    await slots.acquire()
                    group.create_task(self._send(http, target, slots, done))
            done.cpu_seconds = time.process_time() - started
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
            started = time.process_time()
            try:
                async with asyncio.timeout(self.deadline_seconds):
                    await self._send_all(ws, slots)
                    await reader
            finally:
                if not reader.done():
                    reader.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await reader
                done.cpu_seconds = time.process_time() - started
                await ws.close()
        return done

    async def _send_all(
        self, ws: aiohttp.ClientWebSocketResponse, slots: asyncio.Semaphore
    ) -> None:
        for index in range(self.count):
            delay = self.window.start_at + index / self.rate - time.time()
            if delay > 0:
                await asyncio.sleep(delay)
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
            started = time.process_time()
            pending: list[str] = []
            flusher = asyncio.create_task(_flush_acks(ws, pending))
            try:
                async with asyncio.timeout(
                    self.window.start_at + self.deadline_seconds - time.time()
                ):
                    await self._receive(ws, found, pending)
            except TimeoutError:
                found.errors += 1  # fewer messages than expected arrived in time
            finally:
                flusher.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await flusher
            found.cpu_seconds = time.process_time() - started
            await ws.close()
        return found

    async def _receive(
        self, ws: aiohttp.ClientWebSocketResponse, found: Latencies, pending: list[str]
    ) -> None:
        seen = 0
        warm_up_ns = self.warm_up_until * 1e9
        async for message in ws:
            if message.type is not aiohttp.WSMsgType.TEXT:
                break
            frame = orjson.loads(message.data)
            if frame["type"] != "message":
                continue
            data = frame["data"]
            if int(data[:20]) >= warm_up_ns:
                found.values_ms.append(latency_ms(data))
            pending.append(frame["ack_id"])
            seen += 1
            if seen >= self.count:
                return


async def _flush_acks(ws: aiohttp.ClientWebSocketResponse, pending: list[str]) -> None:
    """Every WATCH_SECONDS, ack what arrived meanwhile in one frame."""
    while True:
        await asyncio.sleep(WATCH_SECONDS)
        if pending:
            frame = orjson.dumps({"type": "ack", "ack_ids": pending[:]}).decode()
            pending.clear()
            await ws.send_str(frame)


async def _sleep_until(instant: float) -> None:
    delay = instant - time.time()
    if delay > 0:
        await asyncio.sleep(delay)
