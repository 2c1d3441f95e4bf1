"""Fixtures of the Redis-only tests: a server of their own when they kill it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

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
