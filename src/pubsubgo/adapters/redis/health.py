"""RedisConnection: Redis is up when it answers PING in time; closing stops the signal."""

from __future__ import annotations

import asyncio

from pubsubgo.adapters.redis.errors import translate_redis_errors
from pubsubgo.adapters.redis.scripts import RedisClient
from pubsubgo.adapters.redis.signal import RedisSignal

#: Readiness probes want a quick answer: a PING slower than this counts as no answer.
PING_TIMEOUT_SECONDS = 1.0


class RedisConnection:
    """StorageConnection that PINGs Redis (every node, for a cluster client) with a short
    timeout, and whose ``aclose`` stops the signal's listener; the client stays its owner's.

    Args:
        client: the backend's client.
        signal: the backend's signal, whose tasks closing stops.
        timeout: seconds to wait for the answer.
    """

    def __init__(
        self, client: RedisClient, signal: RedisSignal, timeout: float = PING_TIMEOUT_SECONDS
    ) -> None:
        self._client = client
        self._signal = signal
        self._timeout = timeout

    async def ping(self) -> None:
        with translate_redis_errors("ping"):
            async with asyncio.timeout(self._timeout):
                await self._client.ping()

    async def aclose(self) -> None:
        await self._signal.aclose()
