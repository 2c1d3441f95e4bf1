"""Checkpointer: copies the write-ahead log into the database file, on its own thread.

The writer only appends its commits to the log (its connection has
``wal_autocheckpoint = 0``): SQLite's automatic checkpoint would run inside a commit,
making that commit, and every operation waiting behind it, wait for thousands of page
writes and two fsyncs. Here a thread with a connection of its own runs a PASSIVE
checkpoint every ``interval`` seconds, which copies committed pages without holding the
writer up. A PASSIVE checkpoint cannot let the log start over while commits keep coming,
so once the log holds ``restart_frames`` pages a RESTART checkpoint follows: it holds the
next commit back only while it copies what the PASSIVE one left, and SQLite then reuses the
log from its start (truncated to ``journal_size_limit``).

Checkpoints do not change what is durable: a commit is in the log before it is answered.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from pathlib import Path

logger = logging.getLogger(__name__)

#: How often committed pages are copied into the database file.
CHECKPOINT_INTERVAL_SECONDS = 0.25
#: A log of this many pages (64 MiB of 4 KiB pages) starts over at the next checkpoint.
RESTART_FRAMES = 16384
#: How long a RESTART checkpoint waits for the writer to finish its transaction.
BUSY_TIMEOUT_MS = 5000


class Checkpointer:
    """Runs checkpoints of the database at ``path`` until ``close``.

    Args:
        path: the database (opened in WAL mode by the writer already).
        interval: seconds between checkpoints.
        restart_frames: the log size, in pages, from which the log is made to start over.
    """

    def __init__(
        self,
        path: Path,
        interval: float = CHECKPOINT_INTERVAL_SECONDS,
        restart_frames: int = RESTART_FRAMES,
    ) -> None:
        self._interval = interval
        self._restart_frames = restart_frames
        self._connection = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._connection.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._run, name="pubsubgo-sqlite-checkpoint", daemon=True
        )
        self._thread.start()

    def close(self) -> None:
        """Stop after the checkpoint under way, if any. Idempotent; blocks until stopped."""
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        try:
            while not self._stop.wait(self._interval):
                self._checkpoint()
        finally:
            self._connection.close()

    def _checkpoint(self) -> None:
        try:
            _, logged, _ = self._connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
            if logged >= self._restart_frames:
                self._connection.execute("PRAGMA wal_checkpoint(RESTART)").fetchone()
        except sqlite3.Error as error:
            # The log keeps every commit meanwhile; the next round tries again.
            logger.warning("sqlite checkpoint failed: %s", error)
