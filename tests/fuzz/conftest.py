"""The real app, with auth on, served on a real local port from a thread of its own (so that
synchronous clients, as schemathesis's, can call it): once on the memory backend and once
on a private Redis."""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Iterator

import pytest
from aiohttp import web

from pubsubgo.adapters.wire.keys import BROKER
from pubsubgo.auth_config import AuthSettings, PermissionSettings, TokenSettings
from pubsubgo.config import MetricsSettings, RedisSettings, Settings, StorageSettings
from pubsubgo.containers import api_app, build_container
from pubsubgo.core.access import Action
from pubsubgo.core.topics import Topic
from tests.fuzz.strategies import DEAD_LETTER_TOPICS
from tests.redis.servers import RedisServer, running

#: The bearer token of the fuzzing client: admin on every name.
TOKEN = "fuzz-token-0123456789abcdef"
#: How long the server may take to start and to stop.
START_STOP_SECONDS = 10.0


def fuzz_settings(redis_url: str | None = None) -> Settings:
    """Auth on with one all-powerful token; no metrics listener of its own; the Redis
    backend at ``redis_url`` when given."""
    admin = TokenSettings(
        name="fuzzer",
        token=TOKEN,
        permissions=[PermissionSettings(action=Action.ADMIN, pattern="*")],
    )
    storage = StorageSettings(backend="redis" if redis_url else "memory")
    return Settings(
        auth=AuthSettings(enabled=True, tokens=[admin]),
        metrics=MetricsSettings(port=0),
        storage=storage,
        redis=RedisSettings(url=redis_url or RedisSettings().url),
    )


class ThreadedServer:
    """The app on 127.0.0.1 in a thread running its own event loop."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port: int = probe.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._runner: web.AppRunner | None = None

    def start(self) -> None:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(START_STOP_SECONDS)

    def stop(self) -> None:
        if self._runner is not None:
            done = asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop)
            done.result(START_STOP_SECONDS)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(START_STOP_SECONDS)
        self._loop.close()

    def reset(self) -> None:
        """Back to the state the server started in: no topics but the dead-letter ones, which
        are empty; so that a sequence of calls meets the same answers each time it runs."""
        done = asyncio.run_coroutine_threadsafe(self._reset(), self._loop)
        done.result(START_STOP_SECONDS)

    async def _start(self) -> None:
        app = api_app(build_container(self.settings))
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()
        await self._reset()

    async def _reset(self) -> None:
        assert self._runner is not None
        broker = self._runner.app[BROKER]
        for topic in await broker.topics.list():
            await broker.topics.delete(topic.name, force=True)
        for name in DEAD_LETTER_TOPICS:
            await broker.topics.create(Topic(name))


@pytest.fixture(scope="session")
def fuzz_redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    """A Redis of the fuzz runs alone: no other test's flush reaches their state."""
    with running(RedisServer(tmp_path_factory.mktemp("fuzz-redis"))) as server:
        yield server


def _serving(settings: Settings) -> Iterator[ThreadedServer]:
    server = ThreadedServer(settings)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def memory_app() -> Iterator[ThreadedServer]:
    """The app on the memory backend."""
    yield from _serving(fuzz_settings())


@pytest.fixture(scope="session")
def redis_app(fuzz_redis: RedisServer) -> Iterator[ThreadedServer]:
    """The app on a private Redis."""
    yield from _serving(fuzz_settings(fuzz_redis.url))
