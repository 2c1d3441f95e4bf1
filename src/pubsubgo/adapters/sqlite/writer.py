"""SqliteWriter: the one thread that owns the database connection.

Every port method turns into one *operation*: a plain function of the ``Database`` that
runs on this thread and issues all of its statements there, so a port call costs one hop
between the event loop and the thread however many statements it needs (``aiosqlite``
would hop once per statement). The thread also commits in groups: it takes every operation
waiting when it gets to them, runs each inside a savepoint of one transaction and commits
that transaction once, so concurrent publishes share a commit (and, with
``synchronous=full``, an fsync). An operation that raises rolls back to its savepoint
alone: each operation is atomic, and none is answered before its commit.

With ``synchronous=full``, a group of operations none of which is *durable* (a pull's
bookkeeping, a nack, an extend: losing one to a power cut only delivers a message again,
which at-least-once allows) commits without an fsync of its own; the next fsynced commit
carries its pages with it, as the log is written in order.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import sqlite3
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from pubsubgo.adapters.sqlite.database import Database
from pubsubgo.core.errors import BackendUnavailable, PubSubError

logger = logging.getLogger(__name__)

T = TypeVar("T")
#: An operation: what one port call does, run on the writer thread.
Operation = Callable[[Database], T]
#: At most this many operations share a transaction, so that the first of a long queue is
#: not kept waiting for the commit of all the others.
MAX_GROUP = 64


@dataclass(slots=True)
class _Job:
    operation: Operation[Any]
    future: asyncio.Future[Any]
    loop: asyncio.AbstractEventLoop
    durable: bool


#: What an operation came to: ``(future, ok, result or error)``.
_Outcome = tuple["asyncio.Future[Any]", bool, Any]


class SqliteWriter:
    """Runs operations on a dedicated thread, in group-committed transactions.

    Args:
        database: the opened database; from now on only the thread touches it.
        fsync_durable_only: the database is in ``synchronous=full``, to be relaxed to
            ``normal`` for groups of operations that are not durable.
    """

    def __init__(self, database: Database, fsync_durable_only: bool = False) -> None:
        self._database = database
        self._relaxes = fsync_durable_only
        self._synced = True
        self._jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._closed = False
        self._thread = threading.Thread(target=self._serve, name="pubsubgo-sqlite", daemon=True)
        self._thread.start()

    async def run(self, operation: Operation[T], *, durable: bool = True) -> T:
        """Run ``operation`` in a transaction on the writer thread; its result once committed.

        Args:
            operation: what to do.
            durable: whether its commit must survive a crash of the machine (with
                ``synchronous=full``); False for what only repeats a delivery if lost.

        Raises:
            BackendUnavailable: the database failed (disk full, I/O error) or is closed.
            PubSubError: whatever the operation raised (nothing of it was written).
        """
        if self._closed:
            raise BackendUnavailable("sqlite storage is closed")
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        self._jobs.put(_Job(operation, future, loop, durable))
        return await future

    async def aclose(self) -> None:
        """Finish the operations already queued, then close the database. Idempotent."""
        if self._closed:
            return
        self._closed = True
        self._jobs.put(None)
        await asyncio.to_thread(self._thread.join)

    def _serve(self) -> None:
        try:
            stop = False
            while not stop:
                jobs, stop = self._next_batch()
                if jobs:
                    _resolve(jobs, self._commit(jobs))
        finally:
            self._database.close()

    def _next_batch(self) -> tuple[list[_Job], bool]:
        """The next group: one job waited for and those queued behind it; True to stop."""
        first = self._jobs.get()
        if first is None:
            return [], True
        jobs = [first]
        while len(jobs) < MAX_GROUP:
            try:
                job = self._jobs.get_nowait()
            except queue.Empty:
                break
            if job is None:
                return jobs, True
            jobs.append(job)
        return jobs, False

    def _commit(self, jobs: list[_Job]) -> list[_Outcome]:
        """Run the jobs in one transaction; every job fails if the commit does. Never raises:
        the thread must outlive any failure, or every later caller would wait for ever."""
        connection = self._database.connection
        try:
            if self._relaxes:
                self._sync(any(job.durable for job in jobs))
            connection.execute("BEGIN IMMEDIATE")
            outcomes = [self._attempt(job) for job in jobs]
            connection.execute("COMMIT")
        except Exception as error:
            self._database.rolled_back()
            with contextlib.suppress(sqlite3.Error):
                if connection.in_transaction:
                    connection.execute("ROLLBACK")
            if isinstance(error, sqlite3.Error):
                failure = _unavailable("commit", error)
                logger.error("%s", failure)
            else:
                failure = BackendUnavailable(f"sqlite commit failed: {error!r}")
                logger.exception("sqlite commit failed")
            return [(job.future, False, failure) for job in jobs]
        return outcomes

    def _sync(self, durable: bool) -> None:
        """Commit the next transaction with an fsync (``full``) or without (``normal``)."""
        if durable != self._synced:
            mode = "FULL" if durable else "NORMAL"
            self._database.connection.execute(f"PRAGMA synchronous = {mode}")
            self._synced = durable

    def _attempt(self, job: _Job) -> _Outcome:
        """Run one job in a savepoint; a failure undoes that job alone."""
        connection = self._database.connection
        connection.execute("SAVEPOINT operation")
        try:
            result = job.operation(self._database)
        except Exception as error:
            connection.execute("ROLLBACK TO operation")
            connection.execute("RELEASE operation")
            self._database.rolled_back()
            if isinstance(error, sqlite3.Error):
                error = _unavailable("operation", error)
            elif not isinstance(error, PubSubError):
                logger.exception("sqlite operation failed")
            return job.future, False, error
        connection.execute("RELEASE operation")
        return job.future, True, result


def _unavailable(what: str, error: sqlite3.Error) -> BackendUnavailable:
    failure = BackendUnavailable(f"sqlite {what} failed: {error}")
    failure.__cause__ = error
    return failure


def _resolve(jobs: list[_Job], outcomes: list[_Outcome]) -> None:
    """Hand the outcomes to their event loops: one wake-up per loop, not one per job."""
    by_loop: dict[asyncio.AbstractEventLoop, list[_Outcome]] = {}
    for job, outcome in zip(jobs, outcomes, strict=True):
        by_loop.setdefault(job.loop, []).append(outcome)
    for loop, found in by_loop.items():
        # A closed loop raises RuntimeError: nobody waits for these any more.
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(_settle, found)


def _settle(outcomes: list[_Outcome]) -> None:
    for future, ok, value in outcomes:
        if future.done():
            continue  # its caller was cancelled; the operation happened all the same
        if ok:
            future.set_result(value)
        else:
            future.set_exception(value)
