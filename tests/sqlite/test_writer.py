"""SQLite: operations that share a commit stay atomic one by one."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from pubsubgo.adapters.sqlite.database import Database
from pubsubgo.adapters.sqlite.opening import open_database
from pubsubgo.adapters.sqlite.writer import SqliteWriter
from pubsubgo.core.errors import BackendUnavailable, TopicFull

pytestmark = pytest.mark.sqlite

#: How long the test waits for the writer thread to reach its blocked operation.
BLOCK_SECONDS = 5.0


@pytest.fixture
async def writer(tmp_path: Path) -> AsyncIterator[SqliteWriter]:
    running = SqliteWriter(open_database(tmp_path / "pubsubgo.db", "normal"))
    try:
        yield running
    finally:
        await running.aclose()


def _add_topic(name: str) -> Callable[[Database], None]:
    def add(db: Database) -> None:
        db.connection.execute("INSERT INTO topics (name, definition) VALUES (?, ?)", (name, b"{}"))

    return add


def _add_topic_then_fail(db: Database) -> None:
    _add_topic("half-done")(db)
    raise TopicFull("half-done", 1)


def _topic_names(db: Database) -> list[str]:
    return [name for (name,) in db.connection.execute("SELECT name FROM topics ORDER BY name")]


async def test_a_failing_operation_undoes_itself_alone_within_a_shared_commit(
    writer: SqliteWriter,
) -> None:
    # Given the writer busy, so that the next operations queue up and share one commit
    started, release = threading.Event(), threading.Event()

    def block(db: Database) -> None:
        started.set()
        release.wait(BLOCK_SECONDS)

    blocked = asyncio.create_task(writer.run(block))
    assert await asyncio.to_thread(started.wait, BLOCK_SECONDS)
    # When one of three queued operations writes and then fails
    results = [
        asyncio.create_task(writer.run(_add_topic("before"))),
        asyncio.create_task(writer.run(_add_topic_then_fail)),
        asyncio.create_task(writer.run(_add_topic("after"))),
    ]
    await asyncio.sleep(0)  # let them all queue
    release.set()
    await blocked
    outcomes = await asyncio.gather(*results, return_exceptions=True)
    # Then its caller gets its error, and only its writes are gone
    assert outcomes[0] is None
    assert outcomes[2] is None
    assert isinstance(outcomes[1], TopicFull)
    assert await writer.run(_topic_names) == ["after", "before"]


async def test_a_database_error_is_storage_unavailable(writer: SqliteWriter) -> None:
    def broken(db: Database) -> None:
        db.connection.execute("INSERT INTO no_such_table VALUES (1)")

    with pytest.raises(BackendUnavailable, match="no such table: no_such_table"):
        await writer.run(broken)
    assert await writer.run(_topic_names) == []  # the writer goes on


async def test_a_closed_writer_refuses_new_operations(writer: SqliteWriter) -> None:
    await writer.aclose()

    with pytest.raises(BackendUnavailable, match="closed"):
        await writer.run(_topic_names)


def _synchronous(db: Database) -> int:
    level: int = db.connection.execute("PRAGMA synchronous").fetchone()[0]
    return level


async def test_with_full_sync_only_durable_operations_wait_for_an_fsync(tmp_path: Path) -> None:
    # Given a database in synchronous=full, whose writer relaxes what need not be durable
    writer = SqliteWriter(open_database(tmp_path / "pubsubgo.db", "full"), True)
    try:
        # When a pull's kind of operation runs, then a publish's
        relaxed = await writer.run(_synchronous, durable=False)
        synced = await writer.run(_synchronous)
    finally:
        await writer.aclose()
    # Then the first commits without an fsync (normal, 1), the second with one (full, 2)
    assert (relaxed, synced) == (1, 2)
