"""FileLock: one broker process per database file.

An exclusive ``flock`` on ``<database>.lock`` beside the file, taken at start and held for
the life of the process; the kernel drops it when the process dies, even by SIGKILL, so a
crash never leaves a stale lock behind. A second broker on the same file fails at start
with a line naming the first one's pid, rather than waiting on SQLite's locks or sharing
a file whose in-process state (wake-ups, counters) it could not see.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from pathlib import Path

from pubsubgo.core.errors import BackendUnavailable


class FileLock:
    """An exclusive, non-blocking lock on ``path`` (created if missing, never deleted:
    deleting a lock file races with the next process taking it)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    def acquire(self, owner: str) -> None:
        """Take the lock and write this process's pid in the file.

        Args:
            owner: what the lock protects, for the message.

        Raises:
            BackendUnavailable: another process holds it.
        """
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 32).decode(errors="replace").strip() or "unknown"
            os.close(fd)
            raise BackendUnavailable(
                f"sqlite storage {owner} is in use by another broker process (pid {holder}):"
                " one process owns a database file"
            ) from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd

    def release(self) -> None:
        """Let go of the lock. Idempotent."""
        fd, self._fd = self._fd, None
        if fd is not None:
            with contextlib.suppress(OSError):
                fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)
