"""PostgresSignal: wakes long polls in this process at once, and in others via LISTEN/NOTIFY."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import Callable, Coroutine
from typing import Any

import asyncpg

from pubsubgo.adapters.memory.signal import InMemorySignal
from pubsubgo.adapters.postgres.database import Database
from pubsubgo.adapters.postgres.errors import CONNECTION_ERRORS
from pubsubgo.core.errors import BackendUnavailable

logger = logging.getLogger(__name__)

#: The channel every broker process listens on; a payload is "<origin> <topic>\n<topic>...".
CHANNEL = "psg_wake"
#: After losing its connection, the listener waits this long before connecting again, so
#: that an outage costs one attempt per interval rather than a busy loop.
LISTEN_RETRY_SECONDS = 0.5
#: How often the listener checks that its connection still answers (a silent network
#: failure is not noticed otherwise).
LISTEN_CHECK_SECONDS = 5.0
#: At most one NOTIFY per this many seconds per process: each is a transaction that
#: takes a database-wide lock at commit, so under load wake-ups of other processes are
#: batched (local waiters are woken at once all the same).
NOTIFY_INTERVAL_SECONDS = 0.005
#: NOTIFY payloads must stay under 8000 bytes: topics per notification.
TOPICS_PER_NOTIFY = 24
_LISTEN_ERRORS: tuple[type[BaseException], ...] = (
    *CONNECTION_ERRORS,
    asyncpg.PostgresError,
    TimeoutError,
)

Connect = Callable[[], Coroutine[Any, Any, asyncpg.Connection]]


class PostgresSignal:
    """MessageSignal across broker processes.

    ``notify`` wakes this process's waiters directly, and other processes through one
    ``pg_notify`` for every topic notified meanwhile, sent in the background at most every
    NOTIFY_INTERVAL_SECONDS (never from a publish's own transaction: a notifying
    transaction holds a database-wide lock from commit to flush, which would serialise
    every publish). One listening connection per process, started by the first ``wait``,
    wakes the local waiters of what others notify. A lost notification costs latency only:
    long polls look again on their own (every 0.25 s). Call ``aclose`` to stop the
    listener.

    Args:
        db: the backend's database, for the notifications this process sends.
        connect: opens the listening connection.
    """

    def __init__(self, db: Database, connect: Connect) -> None:
        self._db = db
        self._connect = connect
        #: Tells this process's notifications apart when they come back.
        self.origin = secrets.token_hex(8)
        #: This process's waiters, woken directly.
        self._local = InMemorySignal()
        self._pending: set[str] = set()
        self._sender: asyncio.Task[None] | None = None
        self._listener: asyncio.Task[None] | None = None

    def notify(self, topic: str) -> None:
        self._local.notify(topic)
        self._pending.add(topic)
        if self._sender is None or self._sender.done():
            self._sender = asyncio.get_running_loop().create_task(self._send())

    async def wait(self, topic: str, within: float) -> bool:
        if self._listener is None or self._listener.done():
            self._listener = asyncio.get_running_loop().create_task(self._listen())
        return await self._local.wait(topic, within)

    async def aclose(self) -> None:
        """Stop the listener and the sender."""
        for task in (self._sender, self._listener):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        self._sender = self._listener = None

    async def _send(self) -> None:
        await asyncio.sleep(0)  # let the rest of this loop turn add its topics
        while self._pending:
            await self._send_pending()
            await asyncio.sleep(NOTIFY_INTERVAL_SECONDS)

    async def _send_pending(self) -> None:
        if self._pending:
            topics = sorted(self._pending)
            self._pending.clear()
            for first in range(0, len(topics), TOPICS_PER_NOTIFY):
                payload = self.origin + " " + "\n".join(topics[first : first + TOPICS_PER_NOTIFY])
                try:
                    await self._db.fetch("notify", "SELECT pg_notify($1, $2)", CHANNEL, payload)
                except BackendUnavailable as error:
                    logger.debug("could not send a wake-up: %s", error)

    async def _listen(self) -> None:
        while True:
            try:
                await self._listen_once()
            except _LISTEN_ERRORS as error:
                logger.debug("wake-up listener lost postgres: %s", error)
            except Exception:
                # Whatever went wrong, waiters still look again on their own: keep going.
                logger.exception("wake-up listener failed")
            await asyncio.sleep(LISTEN_RETRY_SECONDS)

    async def _listen_once(self) -> None:
        connection = await self._connect()
        try:
            await connection.add_listener(CHANNEL, self._on_notification)
            while not connection.is_closed():
                await asyncio.sleep(LISTEN_CHECK_SECONDS)
                async with asyncio.timeout(LISTEN_CHECK_SECONDS):
                    await connection.execute("SELECT 1")
        finally:
            with contextlib.suppress(*_LISTEN_ERRORS):
                await connection.close(timeout=1.0)

    def _on_notification(self, connection: Any, pid: int, channel: str, payload: object) -> None:
        origin, _, topics = str(payload).partition(" ")
        if origin != self.origin:
            for topic in topics.split("\n"):
                self._local.notify(topic)
