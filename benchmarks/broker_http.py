"""Load on the broker's REST API: publish batches, pull and ack.

Raw aiohttp with orjson and pre-encoded bodies rather than ``pubsubgo.client``: the client's
models and checks cost the generator CPU that a load test has better use for (the broker
does the same validation anyway).
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

import aiohttp
import orjson

from benchmarks.payloads import payload
from benchmarks.timing import Counted, Window

JSON = {"Content-Type": "application/json"}
#: A refused request is retried after this long, so that an error never becomes a busy loop.
ERROR_PAUSE_SECONDS = 0.01
#: How long a drain consumer waits for more before deciding the backlog is empty.
IDLE_SECONDS = 0.3
#: A pull long-polls this long for its first message (an empty answer ends the drain soon).
PULL_WAIT_SECONDS = 0.2


def session(connections: int) -> aiohttp.ClientSession:
    """A session with up to ``connections`` pooled connections."""
    connector = aiohttp.TCPConnector(limit=connections, force_close=False)
    return aiohttp.ClientSession(connector=connector, auto_decompress=False)


def publish_body(batch: int, size: int) -> bytes:
    """``{"messages": [...]}`` of ``batch`` messages of ``size`` bytes."""
    text = payload(size).decode()
    return orjson.dumps({"messages": [{"data": text} for _ in range(batch)]})


@dataclass(frozen=True, slots=True)
class RestPublish:
    """``connections`` concurrent loops posting batches to one topic, counted in ``window``;
    or, with ``total``, publishing exactly that many messages (to prepare a backlog)."""

    url: str
    topic: str
    connections: int
    batch: int
    size: int
    window: Window
    deadline_seconds: float
    total: int = 0

    async def run(self) -> Counted:
        done = Counted()
        body = publish_body(self.batch, self.size)
        target = f"{self.url}/v1/topics/{self.topic}/messages"
        budget = [self.total // self.batch] if self.total else None
        async with session(self.connections) as http:
            await self.window.opened()
            started = time.process_time()
            loops = (self._loop(http, target, body, done, budget) for _ in range(self.connections))
            await asyncio.gather(*loops)
            done.cpu_seconds = time.process_time() - started
        return done

    async def _loop(
        self,
        http: aiohttp.ClientSession,
        target: str,
        body: bytes,
        done: Counted,
        budget: list[int] | None,
    ) -> None:
        give_up = self.window.start_at + self.deadline_seconds
        while time.time() < give_up:
            if budget is None and not self.window.is_open(time.time()):
                return
            if budget is not None:
                if budget[0] <= 0:
                    return
                budget[0] -= 1
            async with http.post(target, data=body, headers=JSON) as response:
                await response.read()
                ok = response.status == 201
            now = time.time()
            if ok and (budget is not None or self.window.is_open(now)):
                done.add(self.batch, now)
            elif not ok:
                done.errors += 1
                await asyncio.sleep(ERROR_PAUSE_SECONDS)


@dataclass(frozen=True, slots=True)
class PullConsume:
    """``connections`` loops that pull up to ``batch`` messages and ack them, until the
    subscription's backlog stays empty for IDLE_SECONDS."""

    url: str
    subscription: str
    connections: int
    batch: int
    window: Window
    deadline_seconds: float

    async def run(self) -> Counted:
        done = Counted()
        base = f"{self.url}/v1/subscriptions/{self.subscription}"
        ask = orjson.dumps({"max_messages": self.batch, "wait_seconds": PULL_WAIT_SECONDS})
        async with session(self.connections) as http:
            await self.window.opened()
            started = time.process_time()
            loops = (self._loop(http, base, ask, done) for _ in range(self.connections))
            await asyncio.gather(*loops)
            done.cpu_seconds = time.process_time() - started
        return done

    async def _loop(
        self, http: aiohttp.ClientSession, base: str, ask: bytes, done: Counted
    ) -> None:
        give_up = self.window.start_at + self.deadline_seconds
        idle_since = time.time()
        while time.time() < give_up and time.time() - idle_since < IDLE_SECONDS:
            async with http.post(f"{base}/pull", data=ask, headers=JSON) as response:
                answer = orjson.loads(await response.read())
            if response.status != 200:
                done.errors += 1
                await asyncio.sleep(ERROR_PAUSE_SECONDS)
                continue
            ack_ids = [m["ack_id"] for m in answer["messages"]]
            if not ack_ids:
                continue
            if not done.count:
                done.first = time.time()
            body = orjson.dumps({"ack_ids": ack_ids})
            async with http.post(f"{base}/ack", data=body, headers=JSON) as response:
                acked = orjson.loads(await response.read()).get("acked", 0)
            idle_since = time.time()
            done.add(acked, idle_since)
