"""Fixtures of the client tests: one broker subprocess per session, a client per test."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest

from pubsubgo.client import Client
from tests.broker_process import BrokerProcess, unique


@pytest.fixture(scope="session")
def broker_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BrokerProcess]:
    process = BrokerProcess(tmp_path_factory.mktemp("client-broker"))
    process.start()
    try:
        yield process
    finally:
        process.stop()


@pytest.fixture
async def client(broker_server: BrokerProcess) -> AsyncIterator[Client]:
    async with Client(broker_server.url) as opened:
        yield opened


@pytest.fixture
async def topic(client: Client) -> str:
    """A fresh topic with one partition."""
    name = unique("topic")
    await client.topics.create(name)
    return name


@pytest.fixture
async def subscription(client: Client, topic: str) -> str:
    """A fresh subscription of ``topic`` (starting at the latest message)."""
    name = unique("sub")
    await client.subscriptions.create(name, topic)
    return name
