"""The real app, with auth on and the memory backend, served on a real local port from a
thread of its own, so that synchronous clients (schemathesis uses requests) can call it."""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Iterator

import pytest
from aiohttp import web

from pubsubgo.adapters.wire.keys import BROKER
from pubsubgo.auth_config import AuthSettings, PermissionSettings, TokenSettings
from pubsubgo.config import MetricsSettings, Settings
from pubsubgo.containers import api_app, build_container
from pubsubgo.core.access import Action
from pubsubgo.core.topics import Topic
from tests.fuzz.strategies import DEAD_LETTER_TOPICS

#: The bearer token of the fuzzing client: admin on every name.
TOKEN = "fuzz-token-0123456789abcdef"
#: How long the server may take to start and to stop.
START_STOP_SECONDS = 10.0


def fuzz_settings() -> Settings:
    """Auth on with one all-powerful token; no metrics listener of its own."""
    admin = TokenSettings(
        name="fuzzer",
        token=TOKEN,
        permissions=[PermissionSettings(action=Action.ADMIN, pattern="*")],
    )
    return Settings(
        auth=AuthSettings(enabled=True, tokens=[admin]),
        metrics=MetricsSettings(port=0),
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

    async def _start(self) -> None:
        app = api_app(build_container(self.settings))
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()
        for name in DEAD_LETTER_TOPICS:
            await app[BROKER].topics.create(Topic(name))


@pytest.fixture(scope="session")
def fuzzed_server() -> Iterator[ThreadedServer]:
    server = ThreadedServer(fuzz_settings())
    server.start()
    try:
        yield server
    finally:
        server.stop()
