"""SqliteConnection: the database answers when the writer thread runs a query in time."""

from __future__ import annotations

import asyncio

from pubsubgo.adapters.sqlite.checkpoint import Checkpointer
from pubsubgo.adapters.sqlite.database import Database
from pubsubgo.adapters.sqlite.lock import FileLock
from pubsubgo.adapters.sqlite.writer import SqliteWriter
from pubsubgo.core.errors import BackendUnavailable

#: Readiness probes want a quick answer: the writer busy for longer than this counts as no
#: answer (a checkpoint or a huge delete holding it).
PING_TIMEOUT_SECONDS = 1.0


class SqliteConnection:
    """StorageConnection of the SQLite backend; closing stops the checkpoints and the writer
    thread, closes the file and lets go of its lock.

    Args:
        writer: the backend's writer thread.
        checkpointer: the backend's checkpoint thread.
        lock: the lock on the file, released last.
        timeout: seconds ``ping`` waits.
    """

    def __init__(
        self,
        writer: SqliteWriter,
        checkpointer: Checkpointer,
        lock: FileLock,
        timeout: float = PING_TIMEOUT_SECONDS,
    ) -> None:
        self._writer = writer
        self._checkpointer = checkpointer
        self._lock = lock
        self._timeout = timeout

    async def ping(self) -> None:
        try:
            async with asyncio.timeout(self._timeout):
                await self._writer.run(_select_one)
        except TimeoutError:
            raise BackendUnavailable("sqlite did not answer in time") from None

    async def aclose(self) -> None:
        await asyncio.to_thread(self._checkpointer.close)
        # The writer's connection is then the last one: closing it checkpoints what is left
        # and removes the log.
        await self._writer.aclose()
        self._lock.release()


def _select_one(db: Database) -> None:
    db.connection.execute("SELECT 1").fetchone()
