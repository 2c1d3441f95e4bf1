"""Fault tests start real broker processes: they are ``e2e`` tests."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.faults.broker import Broker

StartBroker = Callable[..., Broker]


@pytest.fixture
def start_broker(tmp_path: Path) -> Iterator[StartBroker]:
    """Start brokers with extra ``PUBSUB_*`` settings; every one is stopped at the end."""
    started: list[Broker] = []

    def start(**settings: str) -> Broker:
        broker = Broker(tmp_path, settings)
        started.append(broker)
        broker.start()
        return broker

    yield start
    for broker in started:
        broker.stop()
