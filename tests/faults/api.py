"""The few REST calls the fault tests make, on a plain aiohttp session."""

from __future__ import annotations

from typing import Any

import aiohttp

from tests.broker_process import unique


async def call(http: aiohttp.ClientSession, method: str, url: str, **kwargs: Any) -> Any:
    """The JSON answer of a request that must succeed (None for an empty one)."""
    async with http.request(method, url, **kwargs) as response:
        assert response.status < 300, f"{method} {url}: {response.status} {await response.text()}"
        return await response.json() if response.content_length != 0 else None


async def topic_and_subscription(
    http: aiohttp.ClientSession, url: str, **subscription: Any
) -> tuple[str, str]:
    """A fresh topic, and a subscription of it from its start with ``subscription`` fields."""
    topic, sub = unique("topic"), unique("sub")
    await call(http, "POST", f"{url}/v1/topics", json={"name": topic})
    body = {"name": sub, "topic": topic, "start": "earliest", **subscription}
    await call(http, "POST", f"{url}/v1/subscriptions", json=body)
    return topic, sub


async def publish(http: aiohttp.ClientSession, url: str, topic: str, texts: list[str]) -> list[str]:
    """Publish one message per text; their ids."""
    body = {"messages": [{"data": text} for text in texts]}
    answer = await call(http, "POST", f"{url}/v1/topics/{topic}/messages", json=body)
    ids: list[str] = answer["ids"]
    return ids


async def described(http: aiohttp.ClientSession, url: str, sub: str) -> dict[str, Any]:
    found: dict[str, Any] = await call(http, "GET", f"{url}/v1/subscriptions/{sub}")
    return found
