"""The SQLite backend: every storage port in one file, for one broker process.

``await open_sqlite_storage(path)`` checks (or creates) the file and gives the ports;
``await storage.aclose()`` closes it. docs/sqlite.md describes the schema, the
transactions, the durability of each ``synchronous`` mode and the lock.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from pubsubgo.adapters.memory.signal import InMemorySignal
from pubsubgo.adapters.sqlite.checkpoint import Checkpointer
from pubsubgo.adapters.sqlite.connection import SqliteConnection
from pubsubgo.adapters.sqlite.deliveries import SqliteDeliveryQueue
from pubsubgo.adapters.sqlite.groups import SqliteGroupStore
from pubsubgo.adapters.sqlite.in_flight import SqliteInFlightLedger
from pubsubgo.adapters.sqlite.lock import FileLock
from pubsubgo.adapters.sqlite.message_log import SqliteMessageLog
from pubsubgo.adapters.sqlite.opening import StorageUnusable, Synchronous, open_database
from pubsubgo.adapters.sqlite.subscriptions import SqliteSubscriptionRegistry
from pubsubgo.adapters.sqlite.topics import SqliteTopicRegistry
from pubsubgo.adapters.sqlite.writer import SqliteWriter
from pubsubgo.ports.storage import Storage

__all__ = ["StorageUnusable", "Synchronous", "open_sqlite_storage"]


async def open_sqlite_storage(path: Path, synchronous: Synchronous = "normal") -> Storage:
    """Every storage port on the database at ``path`` (created, with its directory, if
    missing).

    Takes the file's lock first, then checks the file (which reads all of it once: see
    ``opening.py``), off the event loop.

    Raises:
        BackendUnavailable: another process holds the file.
        StorageUnusable: the file is damaged, another application's or of a newer schema,
            or it (or its directory) cannot be made.
    """
    lock = FileLock(path.with_name(path.name + ".lock"))
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        lock.acquire(str(path))
    except OSError as error:
        raise StorageUnusable(path, _reason(error), "choose a directory it can write") from error
    try:
        database = await asyncio.to_thread(open_database, path, synchronous)
    except BaseException:
        lock.release()
        raise
    writer = SqliteWriter(database, fsync_durable_only=synchronous == "full")
    checkpointer = Checkpointer(path)
    return Storage(
        topics=SqliteTopicRegistry(writer, database),
        messages=SqliteMessageLog(writer),
        subscriptions=SqliteSubscriptionRegistry(writer, database),
        deliveries=SqliteDeliveryQueue(writer),
        in_flight=SqliteInFlightLedger(writer),
        groups=SqliteGroupStore(writer),
        # Waiters are woken in this process: it is the only one writing the file.
        signal=InMemorySignal(),
        connection=SqliteConnection(writer, checkpointer, lock),
    )


def _reason(error: OSError) -> str:
    """Why the file's directory or lock could not be made, for the one-line message."""
    where = f" ({error.filename})" if error.filename else ""
    return f"{(error.strerror or str(error)).lower()}{where}"
