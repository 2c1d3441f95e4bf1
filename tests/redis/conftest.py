"""Fixtures of the Redis-only tests: a broker on the session's server, and a server of their
own when they kill it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from pubsubgo.adapters.redis import build_client, redis_storage
from pubsubgo.containers import build_broker
from pubsubgo.runtime.clock import ManualClock
from pubsubgo.services.broker import Broker
from tests.redis.servers import AOF_ALWAYS, EPHEMERAL, RedisServer


@pytest.fixture
def own_server(tmp_path: Path) -> Iterator[RedisServer]:
    """A server this test alone uses, so that stopping it disturbs nobody."""
    server = RedisServer(tmp_path, EPHEMERAL)
    try:
        server.start()
        yield server
    finally:
        server.kill()


@pytest.fixture
def aof_server(tmp_path: Path) -> Iterator[RedisServer]:
    """A server of this test alone that fsyncs its AOF before answering (appendfsync always)."""
    server = RedisServer(tmp_path, AOF_ALWAYS)
    try:
        server.start()
        yield server
    finally:
        server.kill()


@pytest.fixture
async def redis_broker(redis_server: RedisServer) -> AsyncIterator[Broker]:
    """A broker on the session's single-node server, with a hand-driven clock."""
    client = build_client(redis_server.url)
    storage = redis_storage(client)
    try:
        yield build_broker(storage, ManualClock())
    finally:
        await storage.aclose()
        await client.aclose()
