"""Load on the broker's REST API: publish batches, pull and ack.

Raw aiohttp with orjson and pre-encoded bodies rather than ``pubsubgo.client``: the client's
models and checks cost the generator CPU that a load test has better use for (the broker
does the same validation anyway).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import aiohttp
import orjson

from benchmarks.loops import ERROR_PAUSE_SECONDS, drain, publish_in_window, run_in_window
from benchmarks.payloads import payload
from benchmarks.timing import Counted, Window

JSON = {"Content-Type": "application/json"}
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
        async with session(self.connections) as http:

            async def send() -> bool:
                async with http.post(target, data=body, headers=JSON) as response:
                    await response.read()
                    return response.status == 201

            await publish_in_window(
                self.window,
                self.deadline_seconds,
                self.batch,
                send,
                done,
                loops=self.connections,
                total=self.total,
            )
        return done


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

            async def pull() -> list[str] | None:
                async with http.post(f"{base}/pull", data=ask, headers=JSON) as response:
                    answer = orjson.loads(await response.read())
                if response.status != 200:
                    done.errors += 1
                    await asyncio.sleep(ERROR_PAUSE_SECONDS)
                    return None
                return [m["ack_id"] for m in answer["messages"]] or None

            async def ack(ack_ids: list[str]) -> int:
                body = orjson.dumps({"ack_ids": ack_ids})
                async with http.post(f"{base}/ack", data=body, headers=JSON) as response:
                    return int(orjson.loads(await response.read()).get("acked", 0))

            loops = (
                drain(self.window, self.deadline_seconds, done, pull, ack)
                for _ in range(self.connections)
            )
            await run_in_window(self.window, done, loops)
        return done
