"""open_database: the file checked, its schema in place and the counters read, at start.

A file that is not a pubsubgo database (another application's, or not SQLite at all), a
damaged one (torn, truncated, emptied, overwritten) or one written by a newer version stops
the broker with one line naming the file and what is wrong, never an empty broker in its
place. A new database is built beside its path and renamed into place once complete, so
the path never holds a half-made one: a file there is always one that had data.
"""

from __future__ import annotations

import os
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
#: Prepared statements the connection keeps: more than the backend has (their text varies
#: only with table names), so none is compiled twice.
STATEMENTS = 256
#: The WAL is truncated to at most this after a checkpoint.
WAL_SIZE_LIMIT_BYTES = 64 * 1024 * 1024
#: The oldest SQLite with what the backend uses: ``RETURNING`` (3.35) and ``json_each``.
OLDEST_SQLITE = (3, 35, 0)
#: Every SQLite database file starts with these bytes.
SQLITE_MAGIC = b"SQLite format 3\x00"
#: The files SQLite keeps beside a database in WAL mode.
_SIDE_FILES = ("-wal", "-shm", "-journal")


#: What the operator can do about a file that cannot be read.
_MOVE_IT_AWAY = "move it away (or restore a backup) to start with an empty one"
#: ... and about one that cannot be made.
_WRITABLE = "choose a directory it can write"


class StorageUnusable(BackendUnavailable):
    """Raised at start when the database file cannot be used as it is."""

    code = "storage_unusable"

    def __init__(self, path: Path, reason: str, hint: str = _MOVE_IT_AWAY) -> None:
        super().__init__(f"sqlite storage {path} cannot be used: {reason}; {hint}")


def open_database(path: Path, synchronous: Synchronous) -> Database:
    """Open (creating if need be) and check the database at ``path``.

    Raises:
        StorageUnusable: the file is damaged, another application's, or of a newer schema.
        BackendUnavailable: this Python's SQLite is too old.
    """
    if sqlite3.sqlite_version_info < OLDEST_SQLITE:
        raise BackendUnavailable(
            f"the sqlite backend needs SQLite {'.'.join(map(str, OLDEST_SQLITE))} or newer;"
            f" this Python has {sqlite3.sqlite_version}"
        )
    if not _check_header(path):
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            _create(path)
        except (OSError, sqlite3.Error) as error:
            raise StorageUnusable(path, f"it cannot be created ({error})", _WRITABLE) from error
    connection = sqlite3.connect(
        path, isolation_level=None, check_same_thread=False, cached_statements=STATEMENTS
    )
    try:
        _configure(connection, synchronous)
        _check_integrity(path, connection)
        _check_schema(path, connection)
        return _with_counters(connection)
    except sqlite3.DatabaseError as error:
        connection.close()
        raise StorageUnusable(path, str(error)) from error
    except BaseException:
        connection.close()
        raise


def _check_header(path: Path) -> bool:
    """False when there is no file; raises unless it starts as every SQLite file does."""
    try:
        with path.open("rb") as file:
            head = file.read(len(SQLITE_MAGIC))
    except FileNotFoundError:
        return False
    except OSError as error:
        raise StorageUnusable(path, error.strerror or str(error)) from error
    if not head:
        raise StorageUnusable(path, "it is empty (0 bytes)")
    if head != SQLITE_MAGIC:
        raise StorageUnusable(path, "it is not a SQLite database")
    return True


def _create(path: Path) -> None:
    """Build an empty database at ``<path>.new`` and rename it to ``path``."""
    building = path.with_name(path.name + ".new")
    for leftover in (building, *(building.with_name(building.name + s) for s in _SIDE_FILES)):
        leftover.unlink(missing_ok=True)  # a start that died while building
    connection = sqlite3.connect(building, isolation_level=None)
    try:
        connection.execute("PRAGMA journal_mode = WAL")
        connection.execute("PRAGMA synchronous = FULL")
        connection.execute("BEGIN IMMEDIATE")
        for statement in TABLES:
            connection.execute(statement)
        connection.execute(f"PRAGMA application_id = {APPLICATION_ID}")
        connection.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        connection.execute("COMMIT")
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        connection.close()
    os.replace(building, path)
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)  # the rename itself survives a crash
    finally:
        os.close(directory)


def _configure(connection: sqlite3.Connection, synchronous: Synchronous) -> None:
    mode = connection.execute("PRAGMA journal_mode = WAL").fetchone()[0]
    if mode != "wal":
        raise sqlite3.DatabaseError(f"it cannot use write-ahead logging (journal mode {mode})")
    connection.execute(f"PRAGMA synchronous = {synchronous.upper()}")
    connection.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    connection.execute(f"PRAGMA cache_size = -{CACHE_KIB}")
    connection.execute(f"PRAGMA journal_size_limit = {WAL_SIZE_LIMIT_BYTES}")
    # The Checkpointer's thread copies the log into the file; commits never do.
    connection.execute("PRAGMA wal_autocheckpoint = 0")
    connection.execute("PRAGMA temp_store = MEMORY")


def _check_integrity(path: Path, connection: sqlite3.Connection) -> None:
    """``quick_check``: every page and b-tree is well formed (it reads the whole file once,
    which takes about a second per GiB)."""
    [verdict] = connection.execute("PRAGMA quick_check(1)").fetchone()
    if verdict != "ok":
        # SQLite's verdict spans lines and names the schema ("*** in database main ***").
        reason = " ".join(verdict.replace("*** in database main ***", "").split())
        raise StorageUnusable(path, f"it is damaged ({reason})")


def _check_schema(path: Path, connection: sqlite3.Connection) -> None:
    """A pubsubgo database of this schema version, with every table."""
    version = connection.execute("PRAGMA user_version").fetchone()[0]
    application = connection.execute("PRAGMA application_id").fetchone()[0]
    tables = {
        name
        for (name,) in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
    }
    if application != APPLICATION_ID:
        raise StorageUnusable(path, "it is another application's SQLite database")
    if version != SCHEMA_VERSION:
        newer = "a newer" if version > SCHEMA_VERSION else "an unknown"
        raise StorageUnusable(
            path,
            f"it has {newer} schema (version {version}; this broker reads {SCHEMA_VERSION})",
            "run the pubsubgo version that wrote it",
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
