"""Idle long polls: many REST pulls waiting on one subscription, each timing the message
that wakes it against the stamp its publisher put in it."""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass

import aiohttp
import orjson

from benchmarks.broker_http import JSON, session
from benchmarks.loops import ERROR_PAUSE_SECONDS, cpu_into
from benchmarks.payloads import latency_ms
from benchmarks.timing import Latencies


@dataclass(frozen=True, slots=True)
class IdlePollers:
    """``polls`` concurrent loops of ``POST /pull`` (one message, ``wait_seconds``) from
    ``start_at`` to ``stop_at`` (wall clock); each message one of them receives is timed
    and acked. Polls still waiting at ``stop_at`` are abandoned (their connections close)."""

    url: str
    subscription: str
    polls: int
    wait_seconds: float
    start_at: float
    stop_at: float

    @property
    def deadline_seconds(self) -> float:
        return self.stop_at - time.time() + 5

    async def run(self) -> Latencies:
        found = Latencies()
        base = f"{self.url}/v1/subscriptions/{self.subscription}"
        body = orjson.dumps({"max_messages": 1, "wait_seconds": self.wait_seconds})
        timeout = aiohttp.ClientTimeout(total=self.wait_seconds + 30)
        async with session(self.polls) as http:
            await asyncio.sleep(max(0.0, self.start_at - time.time()))
            with cpu_into(found):
                loops = [
                    asyncio.create_task(self._loop(http, base, body, timeout, found))
                    for _ in range(self.polls)
                ]
                await asyncio.sleep(max(0.0, self.stop_at - time.time()))
                for loop in loops:
                    loop.cancel()
                await asyncio.gather(*loops, return_exceptions=True)
        return found

    async def _loop(
        self,
        http: aiohttp.ClientSession,
        base: str,
        body: bytes,
        limit: aiohttp.ClientTimeout,
        found: Latencies,
    ) -> None:
        while True:
            try:
                async with http.post(
                    f"{base}/pull", data=body, headers=JSON, timeout=limit
                ) as response:
                    answer = await response.read()
                if response.status != 200:
                    raise RuntimeError(response.status)
            except (aiohttp.ClientError, RuntimeError, TimeoutError):
                found.errors += 1
                await asyncio.sleep(ERROR_PAUSE_SECONDS)
                continue
            for message in orjson.loads(answer).get("messages", []):
                found.values_ms.append(latency_ms(message["data"]))
                ack = orjson.dumps({"ack_ids": [message["ack_id"]]})
                with contextlib.suppress(aiohttp.ClientError):
                    async with http.post(f"{base}/ack", data=ack, headers=JSON) as done:
                        await done.read()
