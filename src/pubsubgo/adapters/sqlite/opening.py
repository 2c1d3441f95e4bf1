"""open_database: the file checked, its schema in place and the counters read, at start.

A file that is not a pubsubgo database (another application's, or not SQLite at all), a
damaged one (torn, truncated, overwritten) or one written by a newer version stops the
broker with one line naming the file and what is wrong, never an empty broker in its place.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Literal

from pubsubgo.adapters.sqlite.database import ACK_EPOCH_SHIFT, Database
from pubsubgo.adapters.sqlite.schema import APPLICATION_ID, SCHEMA_VERSION, TABLE_NAMES, TABLES
from pubsubgo.core.errors import BackendUnavailable

#: ``normal``: a commit is safe from a crash of the broker, not from one of the machine;
#: ``full``: each commit is fsynced first (docs/sqlite.md).
Synchronous = Literal["normal", "full"]
#: How long a statement waits for a lock held by another connection (an operator's
#: ``sqlite3`` shell reading the file, a backup) before failing.
BUSY_TIMEOUT_MS = 5000
#: Page cache of the connection, in KiB (a negative cache_size is in KiB).
CACHE_KIB = 65536
#: The WAL is truncated to at most this after a checkpoint.
WAL_SIZE_LIMIT_BYTES = 64 * 1024 * 1024
#: Every SQLite database file starts with these bytes.
SQLITE_MAGIC = b"SQLite format 3\x00"


class StorageUnusable(BackendUnavailable):
    """Raised at start when the database file cannot be used as it is."""

    code = "storage_unusable"

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(
            f"sqlite storage {path} cannot be used: {reason}; move it away (or restore a"
            " backup) to start with an empty one"
        )


def open_database(path: Path, synchronous: Synchronous) -> Database:
    """Open (creating if need be) and check the database at ``path``.

    Raises:
        StorageUnusable: the file is damaged, another application's, or of a newer schema.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    _check_header(path)
    connection = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    try:
        _configure(connection, synchronous)
        _check_integrity(path, connection)
        _prepare_schema(path, connection)
        return _with_counters(connection)
    except sqlite3.DatabaseError as error:
        connection.close()
        raise StorageUnusable(path, str(error)) from error
    except BaseException:
        connection.close()
        raise


def _check_header(path: Path) -> None:
    """A file that exists and has bytes must start as every SQLite file does. (An empty
    file is what ``sqlite3.connect`` leaves before the first write: a new database.)"""
    try:
        with path.open("rb") as file:
            head = file.read(len(SQLITE_MAGIC))
    except FileNotFoundError:
        return
    except OSError as error:
        raise StorageUnusable(path, error.strerror or str(error)) from error
    if head and head != SQLITE_MAGIC:
        raise StorageUnusable(path, "it is not a SQLite database")


def _configure(connection: sqlite3.Connection, synchronous: Synchronous) -> None:
    mode = connection.execute("PRAGMA journal_mode = WAL").fetchone()[0]
    if mode != "wal":
        raise sqlite3.DatabaseError(f"it cannot use write-ahead logging (journal mode {mode})")
    connection.execute(f"PRAGMA synchronous = {synchronous.upper()}")
    connection.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    connection.execute(f"PRAGMA cache_size = -{CACHE_KIB}")
    connection.execute(f"PRAGMA journal_size_limit = {WAL_SIZE_LIMIT_BYTES}")
    connection.execute("PRAGMA temp_store = MEMORY")


def _check_integrity(path: Path, connection: sqlite3.Connection) -> None:
    """``quick_check``: every page and b-tree is well formed (it reads the whole file once,
    which takes about a second per GiB)."""
    [verdict] = connection.execute("PRAGMA quick_check(1)").fetchone()
    if verdict != "ok":
        raise StorageUnusable(path, f"it is damaged ({verdict})")


def _prepare_schema(path: Path, connection: sqlite3.Connection) -> None:
    """Create the schema in a new file (one transaction: a crash leaves none of it); check
    the version and tables of an existing one."""
    version = connection.execute("PRAGMA user_version").fetchone()[0]
    application = connection.execute("PRAGMA application_id").fetchone()[0]
    tables = {
        name
        for (name,) in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
    }
    if version == 0 and application == 0 and not tables:
        connection.execute("BEGIN IMMEDIATE")
        for statement in TABLES:
            connection.execute(statement)
        connection.execute(f"PRAGMA application_id = {APPLICATION_ID}")
        connection.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        connection.execute("COMMIT")
        return
    if application != APPLICATION_ID:
        raise StorageUnusable(path, "it is another application's SQLite database")
    if version != SCHEMA_VERSION:
        newer = "a newer" if version > SCHEMA_VERSION else "an unknown"
        raise StorageUnusable(
            path, f"it has {newer} schema (version {version}; this broker reads {SCHEMA_VERSION})"
        )
    missing = TABLE_NAMES - tables
    if missing:
        raise StorageUnusable(path, f"it is damaged (tables missing: {', '.join(sorted(missing))})")


def _with_counters(connection: sqlite3.Connection) -> Database:
    """The database with its counters: sequence numbers continue after the highest ever
    handed out, and this start gets the next ack id epoch."""
    meta = dict(connection.execute("SELECT name, value FROM meta"))
    if not {"epoch", "seq_high"} <= meta.keys():
        raise sqlite3.DatabaseError("it is damaged (its counters are missing)")
    [newest] = connection.execute("SELECT MAX(seq) FROM messages").fetchone()
    epoch = meta["epoch"] + 1
    connection.execute("UPDATE meta SET value = ? WHERE name = 'epoch'", (epoch,))
    next_seq = max(meta["seq_high"], newest or 0) + 1
    return Database(connection, next_seq=next_seq, next_ack=(epoch << ACK_EPOCH_SHIFT) + 1)
