"""Load on the broker's WebSocket: publish frames, pushed messages acked in batches, and
pushed timestamped messages for latency (raw aiohttp sockets, orjson)."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import aiohttp
import orjson

from benchmarks.broker_http import IDLE_SECONDS, session
from benchmarks.payloads import latency_ms, payload, stamped
from benchmarks.timing import Counted, Latencies, Window

#: Publish frames a socket keeps in flight: the broker serves a socket's frames one after
#: the other, so a small window hides the round trip without queueing much.
PUBLISH_WINDOW = 4
#: How often a consumer checks whether it should flush its acks or stop.
WATCH_SECONDS = 0.005


async def _connect(http: aiohttp.ClientSession, url: str) -> aiohttp.ClientWebSocketResponse:
    return await http.ws_connect(f"{url}/v1/ws", max_msg_size=0, autoping=True)


async def _subscribe(
    ws: aiohttp.ClientWebSocketResponse, subscription: str, max_in_flight: int
) -> None:
    await ws.send_str(
        orjson.dumps(
            {"type": "subscribe", "subscription": subscription, "max_in_flight": max_in_flight}
        ).decode()
    )
    answer = orjson.loads((await ws.receive(timeout=10)).data)
    if answer.get("type") != "subscribed":
        raise RuntimeError(f"subscribe refused: {answer}")


@dataclass(frozen=True, slots=True)
class WsPublish:
    """``connections`` sockets publishing frames of ``batch`` messages, counted in
    ``window``; each keeps PUBLISH_WINDOW frames in flight."""

    url: str
    topic: str
    connections: int
    batch: int
    size: int
    window: Window
    deadline_seconds: float

    async def run(self) -> Counted:
        done = Counted()
        messages = [{"data": payload(self.size).decode()}] * self.batch
        frame = orjson.dumps({"type": "publish", "topic": self.topic, "messages": messages})
        async with session(self.connections) as http:
            sockets = [await _connect(http, self.url) for _ in range(self.connections)]
            await self.window.opened()
            started = time.process_time()
            await asyncio.gather(*(self._loop(ws, frame.decode(), done) for ws in sockets))
            done.cpu_seconds = time.process_time() - started
            for ws in sockets:
                await ws.close()
        return done

    async def _loop(self, ws: aiohttp.ClientWebSocketResponse, frame: str, done: Counted) -> None:
        give_up = self.window.start_at + self.deadline_seconds
        for _ in range(PUBLISH_WINDOW):
            await ws.send_str(frame)
        outstanding = PUBLISH_WINDOW
        while outstanding and time.time() < give_up:
            reply = await ws.receive(timeout=give_up - time.time())
            if reply.type is not aiohttp.WSMsgType.TEXT:
                break
            outstanding -= 1
            now = time.time()
            if reply.data.startswith('{"type":"published"'):
                if self.window.is_open(now):
                    done.add(self.batch, now)
            else:
                done.errors += 1
            if self.window.is_open(now):
                await ws.send_str(frame)
                outstanding += 1


class _Acker:
    """Collects a socket's ack ids and sends them in frames of ``batch``, or sooner when
    the socket goes quiet; counts what the broker confirms."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse, batch: int, done: Counted) -> None:
        self.ws = ws
        self.batch = batch
        self.done = done
        self.pending: list[str] = []
        self.sent = 0
        self.confirmed = 0
        self.last_seen = time.time()

    async def received(self, ack_id: str) -> None:
        self.last_seen = time.time()
        if not self.done.first:
            self.done.first = self.last_seen
        self.pending.append(ack_id)
        if len(self.pending) >= self.batch:
            await self.flush()

    async def flush(self) -> None:
        if self.pending:
            ids, self.pending = self.pending, []
            self.sent += 1
            frame = {"type": "ack", "ack_ids": ids, "request_id": self.sent}
            await self.ws.send_str(orjson.dumps(frame).decode())

    def confirm(self, answer: dict[str, Any]) -> None:
        self.confirmed += 1
        self.last_seen = time.time()
        self.done.add(int(answer.get("acked", 0)), self.last_seen)

    @property
    def quiet(self) -> bool:
        return not self.pending and self.confirmed == self.sent


async def _watch(ws: aiohttp.ClientWebSocketResponse, acker: _Acker, give_up: float) -> None:
    """Flush acks when the socket is briefly quiet; close it once it stayed quiet for
    IDLE_SECONDS (the backlog is drained) or at ``give_up``."""
    while True:
        await asyncio.sleep(WATCH_SECONDS)
        now = time.time()
        if now - acker.last_seen > WATCH_SECONDS:
            await acker.flush()
        if now > give_up or (acker.quiet and now - acker.last_seen > IDLE_SECONDS):
            await ws.close()
            return


async def _read(ws: aiohttp.ClientWebSocketResponse, on_frame: Callable[[str], Any]) -> None:
    async for message in ws:
        if message.type is aiohttp.WSMsgType.TEXT:
            await on_frame(message.data)


@dataclass(frozen=True, slots=True)
class WsConsume:
    """``connections`` sockets subscribed to one subscription, acking pushed messages in
    frames of ``ack_batch``, until the backlog stays empty for IDLE_SECONDS."""

    url: str
    subscription: str
    connections: int
    max_in_flight: int
    ack_batch: int
    window: Window
    deadline_seconds: float

    async def run(self) -> Counted:
        done = Counted()
        async with session(self.connections) as http:
            sockets = [await _connect(http, self.url) for _ in range(self.connections)]
            await self.window.opened()
            started = time.process_time()
            await asyncio.gather(*(self._consume(ws, done) for ws in sockets))
            done.cpu_seconds = time.process_time() - started
        return done

    async def _consume(self, ws: aiohttp.ClientWebSocketResponse, done: Counted) -> None:
        acker = _Acker(ws, self.ack_batch, done)

        async def on_frame(text: str) -> None:
            frame = orjson.loads(text)
            kind = frame["type"]
            if kind == "message":
                await acker.received(frame["ack_id"])
            elif kind == "acked":
                acker.confirm(frame)
            elif kind == "error":
                done.errors += 1

        await _subscribe(ws, self.subscription, self.max_in_flight)
        watcher = asyncio.create_task(
            _watch(ws, acker, self.window.start_at + self.deadline_seconds)
        )
        try:
            await _read(ws, on_frame)
        finally:
            watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watcher


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
            ws = await _connect(http, self.url)
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
    its publisher stamped it. Acks go out every WATCH_SECONDS, as a consumer that acks
    each message would spend the socket on ack round trips (docs/performance.md). Stops
    after ``count`` messages or the deadline; messages stamped before ``warm_up_until`` are
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
            ws = await _connect(http, self.url)
            await _subscribe(ws, self.subscription, 1000)
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
