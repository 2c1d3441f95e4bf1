"""Fixtures for the HTTP and WebSocket edges: a container over the shared storage and clock,
the app on a test server, and small helpers that keep tests about behaviour."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from dependency_injector import providers
from pytest_aiohttp import AiohttpClient

from pubsubgo.adapters.wire.keys import BROKER
from pubsubgo.config import (
    BrokerSettings,
    GroupSettingsModel,
    MetricsSettings,
    ServerSettings,
    Settings,
)
from pubsubgo.containers import Container, api_app, build_container
from pubsubgo.ports.storage import Storage
from pubsubgo.runtime.clock import ManualClock
from pubsubgo.services.broker import Broker
from tests.conftest import unique

Client = TestClient[web.Request, web.Application]

#: How long a test waits for something that should happen "at once" before failing.
DEADLINE_SECONDS = 5.0


@pytest.fixture
def settings() -> Settings:
    """Fast background duties and heartbeats, so tests see them within their deadline."""
    return Settings(
        server=ServerSettings(allowed_origins=["http://allowed.example"]),
        broker=BrokerSettings(duty_interval_seconds=0.05),
        groups=GroupSettingsModel(heartbeat_interval_seconds=0.1, session_timeout_seconds=15),
        # /metrics on the API port only: tests must not all bind the metrics port.
        metrics=MetricsSettings(port=0),
    )


@pytest.fixture
def storage(memory_storage_backend: Storage) -> Storage:
    """The edges run over the memory backend only: they translate, they do not store, and
    the contract suite already runs every storage rule on every backend. (Overrides the
    backend-parametrized fixture of ``tests/conftest.py``.)"""
    return memory_storage_backend


#: The backends of tests whose behaviour reaches storage: a module runs on both by asking
#: for ``on_every_backend`` in its own ``storage`` fixture.
MEMORY_AND_REDIS = ["memory", pytest.param("redis", marks=pytest.mark.redis)]


@pytest.fixture(params=MEMORY_AND_REDIS)
def on_every_backend(request: pytest.FixtureRequest) -> Storage:
    """The memory backend, then a private Redis."""
    backend: Storage = request.getfixturevalue(f"{request.param}_storage_backend")
    return backend


@pytest.fixture
def container(settings: Settings, storage: Storage, clock: ManualClock) -> Container:
    """The production container, with the test's storage and hand-driven clock."""
    built = build_container(settings)
    built.storage.override(providers.Object(storage))
    built.clock.override(providers.Object(clock))
    return built


@pytest.fixture
async def client(aiohttp_client: AiohttpClient, container: Container) -> Client:
    """The app on a test server, started (resources and background runner running)."""
    return await aiohttp_client(api_app(container))


@pytest.fixture
def app_broker(client: Client) -> Broker:
    """The broker the running app uses."""
    return client.app[BROKER]


async def eventually(
    check: Callable[[], Awaitable[bool]], what: str, deadline: float = DEADLINE_SECONDS
) -> None:
    """Wait until ``check()`` is true, polling, or fail after ``deadline`` seconds."""
    loop = asyncio.get_running_loop()
    give_up = loop.time() + deadline
    while not await check():
        if loop.time() > give_up:
            pytest.fail(f"timed out waiting for {what}")
        await asyncio.sleep(0.01)


async def create_topic(client: Client, **fields: Any) -> str:
    """Create a topic with a fresh name over HTTP; returns the name."""
    name = unique("topic")
    response = await client.post("/v1/topics", json={"name": name, **fields})
    assert response.status == 201, await response.text()
    return name


async def create_subscription(client: Client, topic: str, **fields: Any) -> str:
    """Create a subscription from ``earliest`` (unless told otherwise); returns the name."""
    name = unique("sub")
    body = {"name": name, "topic": topic, "start": "earliest", **fields}
    response = await client.post("/v1/subscriptions", json=body)
    assert response.status == 201, await response.text()
    return name


async def publish(client: Client, topic: str, *texts: str, **fields: Any) -> list[str]:
    """Publish one message per text over HTTP; returns the ids."""
    messages = [{"data": text, **fields} for text in texts]
    response = await client.post(f"/v1/topics/{topic}/messages", json={"messages": messages})
    assert response.status == 201, await response.text()
    ids: list[str] = (await response.json())["ids"]
    return ids


async def pull(client: Client, subscription: str, **fields: Any) -> list[dict[str, Any]]:
    """Pull over HTTP; returns the messages."""
    response = await client.post(f"/v1/subscriptions/{subscription}/pull", json=fields)
    assert response.status == 200, await response.text()
    messages: list[dict[str, Any]] = (await response.json())["messages"]
    return messages
