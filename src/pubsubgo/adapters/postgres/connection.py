"""PostgresConnection: PostgreSQL is up when it answers in time; closing stops the backend."""

from __future__ import annotations

import asyncio

from pubsubgo.adapters.postgres.database import Database
from pubsubgo.adapters.postgres.signal import PostgresSignal
from pubsubgo.core.errors import BackendUnavailable

#: Readiness probes want a quick answer: slower than this counts as no answer.
PING_TIMEOUT_SECONDS = 1.0


class PostgresConnection:
    """StorageConnection that runs ``SELECT 1`` with a short timeout; ``aclose`` stops the
    signal's listener and closes the pool (both the backend's own).

    Args:
        db: the backend's database.
        signal: the backend's signal.
        timeout: seconds to wait for the answer.
    """

    def __init__(
        self, db: Database, signal: PostgresSignal, timeout: float = PING_TIMEOUT_SECONDS
    ) -> None:
        self._db = db
        self._signal = signal
        self._timeout = timeout

    async def ping(self) -> None:
        try:
            async with asyncio.timeout(self._timeout):
                await self._db.fetch("ping", "SELECT 1")
        except TimeoutError as error:
            raise BackendUnavailable("postgres ping timed out") from error

    async def aclose(self) -> None:
        await self._signal.aclose()
        await self._db.close()
