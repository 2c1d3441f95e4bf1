"""RedisHealth: storage is healthy when Redis answers PING in time."""

from __future__ import annotations

import asyncio

from pubsubgo.adapters.redis.errors import translate_redis_errors
from pubsubgo.adapters.redis.scripts import RedisClient

#: Readiness probes want a quick answer: a PING slower than this counts as no answer.
PING_TIMEOUT_SECONDS = 1.0


class RedisHealth:
    """HealthCheck that PINGs Redis (every node, for a cluster client) with a short timeout.

    Args:
        client: the backend's client.
        timeout: seconds to wait for the answer.
    """

    def __init__(self, client: RedisClient, timeout: float = PING_TIMEOUT_SECONDS) -> None:
        self._client = client
        self._timeout = timeout

    async def ping(self) -> None:
        with translate_redis_errors("ping"):
            async with asyncio.timeout(self._timeout):
                await self._client.ping()
