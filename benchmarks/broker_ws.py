"""Load on the broker's WebSocket: publish frames, and pushed messages (in batch frames)
acked in batches (raw aiohttp sockets, orjson)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import aiohttp
import orjson

from benchmarks.broker_http import session
from benchmarks.loops import IDLE_SECONDS, WATCH_SECONDS, run_in_window, stop
from benchmarks.payloads import payload
from benchmarks.timing import Counted, Window

#: Publish frames a socket keeps in flight: the broker serves a socket's frames one after
#: the other, so a small window hides the round trip without queueing much.
PUBLISH_WINDOW = 4


async def connect(http: aiohttp.ClientSession, url: str) -> aiohttp.ClientWebSocketResponse:
    return await http.ws_connect(f"{url}/v1/ws", max_msg_size=0, autoping=True)


async def subscribe(
    ws: aiohttp.ClientWebSocketResponse,
    subscription: str,
    max_in_flight: int,
    batch: bool = False,
    wait: float = 10.0,
) -> None:
    """Subscribe on ``ws``, waiting up to ``wait`` seconds for the answer; with ``batch``,
    pushed messages come in ``messages`` frames."""
    frame: dict[str, Any] = {
        "type": "subscribe", "subscription": subscription, "max_in_flight": max_in_flight
    }  # fmt: skip
    if batch:
        frame["batch"] = True
    await ws.send_str(orjson.dumps(frame).decode())
    answer = orjson.loads((await ws.receive(timeout=wait)).data)
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
            sockets = [await connect(http, self.url) for _ in range(self.connections)]
            loops = (self._loop(ws, frame.decode(), done) for ws in sockets)
            await run_in_window(self.window, done, loops)
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
    """``connections`` sockets subscribed to one subscription, receiving batch frames and
    acking the messages in frames of ``ack_batch``, until the backlog stays empty for
    IDLE_SECONDS (``batch_frames=False``: a frame per pushed message)."""

    url: str
    subscription: str
    connections: int
    max_in_flight: int
    ack_batch: int
    window: Window
    deadline_seconds: float
    batch_frames: bool = True

    async def run(self) -> Counted:
        done = Counted()
        async with session(self.connections) as http:
            sockets = [await connect(http, self.url) for _ in range(self.connections)]
            await run_in_window(self.window, done, (self._consume(ws, done) for ws in sockets))
        return done

    async def _consume(self, ws: aiohttp.ClientWebSocketResponse, done: Counted) -> None:
        acker = _Acker(ws, self.ack_batch, done)

        async def on_frame(text: str) -> None:
            frame = orjson.loads(text)
            kind = frame["type"]
            if kind == "messages":
                for message in frame["messages"]:
                    await acker.received(message["ack_id"])
            elif kind == "message":
                await acker.received(frame["ack_id"])
            elif kind == "acked":
                acker.confirm(frame)
            elif kind == "error":
                done.errors += 1

        await subscribe(ws, self.subscription, self.max_in_flight, self.batch_frames)
        watcher = asyncio.create_task(
            _watch(ws, acker, self.window.start_at + self.deadline_seconds)
        )
        try:
            await _read(ws, on_frame)
        finally:
            await stop(watcher)
