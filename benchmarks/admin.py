"""Setting up and tearing down the broker's topics and subscriptions over REST."""

from __future__ import annotations

from typing import Any

import aiohttp

#: Unacked messages one consumer (or all memberless pulls together) may hold: enough for
#: every pull and push window of a workload, so that the limit never throttles it.
MAX_IN_FLIGHT = 100_000


async def _call(method: str, url: str, body: dict[str, Any] | None, expect: int) -> None:
    timeout = aiohttp.ClientTimeout(total=30)
    async with (
        aiohttp.ClientSession(timeout=timeout) as http,
        http.request(method, url, json=body) as response,
    ):
        if response.status != expect:
            raise RuntimeError(f"{method} {url}: {response.status} {await response.text()}")


async def create_topic(base: str, name: str, partitions: int) -> None:
    await _call("POST", f"{base}/v1/topics", {"name": name, "partitions": partitions}, 201)


async def create_subscription(base: str, name: str, topic: str) -> None:
    body = {"name": name, "topic": topic, "start": "earliest", "max_in_flight": MAX_IN_FLIGHT}
    await _call("POST", f"{base}/v1/subscriptions", body, 201)


async def delete_topic(base: str, name: str) -> None:
    """Delete the topic and its subscriptions (its messages leave Redis with it)."""
    await _call("DELETE", f"{base}/v1/topics/{name}?force=true", None, 204)
