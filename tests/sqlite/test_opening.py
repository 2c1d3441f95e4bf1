"""SQLite: one process per file, and a file that cannot be used is refused with one line."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from pubsubgo.adapters.sqlite import StorageUnusable, Synchronous, open_sqlite_storage
from pubsubgo.adapters.sqlite.opening import open_database
from pubsubgo.containers import build_broker
from pubsubgo.core.errors import BackendUnavailable
from pubsubgo.core.messages import PublishRequest
from pubsubgo.core.topics import Topic
from pubsubgo.runtime.clock import ManualClock

pytestmark = pytest.mark.sqlite


async def _database_with_messages(path: Path, count: int = 2000) -> None:
    """A database of ``count`` messages of 1 KiB (a few MiB: many pages to damage)."""
    storage = await open_sqlite_storage(path)
    broker = build_broker(storage, ManualClock())
    await broker.topics.create(Topic("orders", partitions=4))
    batch = [PublishRequest(data=os.urandom(1024)) for _ in range(100)]
    for _ in range(count // 100):
        await broker.publisher.publish("orders", batch)
    await storage.aclose()


class TestOneProcessPerFile:
    async def test_a_second_opener_is_refused_naming_the_holder(self, tmp_path: Path) -> None:
        path = tmp_path / "pubsubgo.db"
        first = await open_sqlite_storage(path)
        try:
            with pytest.raises(BackendUnavailable) as refused:
                await open_sqlite_storage(path)
        finally:
            await first.aclose()
        assert str(refused.value) == (
            f"sqlite storage {path} is in use by another broker process (pid {os.getpid()}):"
            " one process owns a database file"
        )

    async def test_the_file_is_free_again_once_closed(self, tmp_path: Path) -> None:
        path = tmp_path / "pubsubgo.db"
        await (await open_sqlite_storage(path)).aclose()

        again = await open_sqlite_storage(path)
        await again.connection.ping()
        await again.aclose()


class TestNewFiles:
    async def test_the_directory_and_the_file_are_created(self, tmp_path: Path) -> None:
        path = tmp_path / "a" / "b" / "pubsubgo.db"

        storage = await open_sqlite_storage(path)
        await storage.aclose()

        assert path.is_file()
        assert not path.with_name("pubsubgo.db.new").exists()

    @pytest.mark.parametrize(("mode", "level"), [("normal", 1), ("full", 2)])
    def test_the_synchronous_mode_is_applied(
        self, tmp_path: Path, mode: Synchronous, level: int
    ) -> None:
        # PRAGMA synchronous belongs to a connection: read it on the one the broker uses.
        database = open_database(tmp_path / "pubsubgo.db", mode)
        try:
            found = database.connection.execute("PRAGMA synchronous").fetchone()
            journal = database.connection.execute("PRAGMA journal_mode").fetchone()
        finally:
            database.close()
        assert found == (level,)
        assert journal == ("wal",)


def _truncate(path: Path) -> None:
    os.truncate(path, path.stat().st_size // 2)


def _overwrite_a_page(path: Path) -> None:
    with path.open("r+b") as file:
        file.seek(path.stat().st_size // 2)
        file.write(b"\xa5" * 4096)


def _overwrite_the_header(path: Path) -> None:
    with path.open("r+b") as file:
        file.write(b"\x00" * 100)


def _empty(path: Path) -> None:
    os.truncate(path, 0)


class TestDamagedFiles:
    @pytest.mark.parametrize(
        ("damage", "reason"),
        [
            (_truncate, "database disk image is malformed"),
            (_overwrite_a_page, "it is damaged (Page "),
            (_overwrite_the_header, "it is not a SQLite database"),
            (_empty, "it is empty (0 bytes)"),
        ],
    )
    async def test_a_damaged_file_is_refused_in_one_line(
        self, tmp_path: Path, damage: Callable[[Path], None], reason: str
    ) -> None:
        # Given a database with messages, then damaged
        path = tmp_path / "pubsubgo.db"
        await _database_with_messages(path)
        damage(path)
        # When it is opened, then it is refused, and left as it was for the operator
        size = path.stat().st_size
        with pytest.raises(StorageUnusable) as refused:
            await open_sqlite_storage(path)
        message = str(refused.value)
        assert message.startswith(f"sqlite storage {path} cannot be used: {reason}")
        assert message.endswith("move it away (or restore a backup) to start with an empty one")
        assert "\n" not in message
        assert path.stat().st_size == size

    async def test_another_applications_database_is_refused(self, tmp_path: Path) -> None:
        path = tmp_path / "other.db"
        with sqlite3.connect(path) as other:
            other.execute("CREATE TABLE invoices (id INTEGER PRIMARY KEY)")
        other.close()

        with pytest.raises(StorageUnusable, match="another application's SQLite database"):
            await open_sqlite_storage(path)

    async def test_a_newer_schema_is_refused_without_advice_to_discard_it(
        self, tmp_path: Path
    ) -> None:
        path = tmp_path / "pubsubgo.db"
        await (await open_sqlite_storage(path)).aclose()
        with sqlite3.connect(path) as newer:
            newer.execute("PRAGMA user_version = 99")
        newer.close()

        with pytest.raises(StorageUnusable) as refused:
            await open_sqlite_storage(path)

        assert str(refused.value) == (
            f"sqlite storage {path} cannot be used: it has a newer schema (version 99; this"
            " broker reads 1); run the pubsubgo version that wrote it"
        )

    async def test_a_refused_file_leaves_the_lock_free(self, tmp_path: Path) -> None:
        path = tmp_path / "pubsubgo.db"
        path.write_bytes(b"not a database at all")
        with pytest.raises(StorageUnusable):
            await open_sqlite_storage(path)

        path.unlink()
        storage = await open_sqlite_storage(path)
        await storage.aclose()


async def test_a_path_that_cannot_be_made_is_refused_in_one_line(tmp_path: Path) -> None:
    # Given a path whose directory would have to be made where a file is
    blocker = tmp_path / "data"
    blocker.write_text("a file, not a directory")
    path = blocker / "pubsubgo.db"

    with pytest.raises(StorageUnusable) as refused:
        await open_sqlite_storage(path)

    message = str(refused.value)
    assert message.startswith(f"sqlite storage {path} cannot be used: ")
    assert message.endswith("choose a directory it can write")
    assert "\n" not in message
