"""A broker on a SQLite file that a test can close and open again, as a restart does."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from pubsubgo.adapters.sqlite import open_sqlite_storage
from pubsubgo.containers import build_broker
from pubsubgo.core.groups import GroupSettings
from pubsubgo.ports.storage import Storage
from pubsubgo.runtime.clock import ManualClock
from pubsubgo.services.broker import Broker


class Restartable:
    """A broker on ``path``; ``restart`` closes its storage and opens the file again."""

    def __init__(self, path: Path, clock: ManualClock) -> None:
        self.path = path
        self.clock = clock
        self.storage: Storage | None = None
        self.broker: Broker | None = None

    @property
    def running(self) -> Broker:
        """The broker now running."""
        assert self.broker is not None, "not started"
        return self.broker

    async def start(self) -> Broker:
        self.storage = await open_sqlite_storage(self.path)
        self.broker = build_broker(
            self.storage, self.clock, group_settings=GroupSettings(3.0, 15.0)
        )
        return self.broker

    async def stop(self) -> None:
        if self.storage is not None:
            await self.storage.aclose()
        self.storage = self.broker = None

    async def restart(self) -> Broker:
        await self.stop()
        return await self.start()


@pytest.fixture
async def restartable(tmp_path: Path, clock: ManualClock) -> AsyncIterator[Restartable]:
    running = Restartable(tmp_path / "data" / "pubsubgo.db", clock)
    await running.start()
    try:
        yield running
    finally:
        await running.stop()
