"""Database: the backend's connection pool, every call bounded and its failures translated."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

import asyncpg

from pubsubgo.adapters.postgres.errors import CONNECTION_ERRORS, Refusal, translate_pg_errors

#: Connections to PostgreSQL at most, per broker process.
POOL_SIZE = 16
#: Longest a statement may run (PostgreSQL's statement_timeout)...
STATEMENT_TIMEOUT_SECONDS = 5.0
#: ...and the client gives up this much later, for a server that stopped answering.
CLIENT_MARGIN_SECONDS = 0.5
#: Longest a connection attempt may take.
CONNECT_TIMEOUT_SECONDS = 2.0
#: Idle connections are closed after this long (a restarted server leaves them stale).
IDLE_SECONDS = 60.0
#: How long closing waits for connections in use before cutting them.
CLOSE_SECONDS = 2.0


@dataclass(frozen=True, slots=True)
class PoolOptions:
    """How the backend talks to PostgreSQL."""

    pool_size: int = POOL_SIZE
    statement_timeout: float = STATEMENT_TIMEOUT_SECONDS
    connect_timeout: float = CONNECT_TIMEOUT_SECONDS

    def connect_arguments(self, schema: str) -> dict[str, Any]:
        """asyncpg's arguments for a connection working in ``schema``."""
        return {
            "timeout": self.connect_timeout,
            "command_timeout": self.statement_timeout + CLIENT_MARGIN_SECONDS,
            "server_settings": {
                "search_path": schema,
                "statement_timeout": str(int(self.statement_timeout * 1000)),
                "application_name": "pubsubgo",
            },
        }


class Database:
    """Runs the backend's statements on a pool.

    Every call waits at most ``connect_timeout`` for a connection and ``statement_timeout``
    for its answer; failures become ``BackendUnavailable`` (or the refusal's domain error).
    A failure of the connection itself expires the pool's other connections, so that after
    a server restart one call fails, not one per pooled connection.

    Args:
        pool: the backend's pool (its ``search_path`` is the backend's schema).
        options: the pool's timeouts.
    """

    def __init__(self, pool: asyncpg.Pool, options: PoolOptions) -> None:
        self.pool = pool
        self.options = options
        self._closed = False

    async def fetch(
        self, operation: str, query: str, *args: Any, refusal: Refusal | None = None
    ) -> list[asyncpg.Record]:
        """The rows of ``query``."""
        with translate_pg_errors(operation, refusal):
            try:
                async with self.pool.acquire(timeout=self.options.connect_timeout) as connection:
                    rows: list[asyncpg.Record] = await connection.fetch(query, *args)
                    return rows
            except CONNECTION_ERRORS:
                await self.pool.expire_connections()
                raise

    async def fetchval(
        self, operation: str, query: str, *args: Any, refusal: Refusal | None = None
    ) -> Any:
        """The first column of the first row of ``query`` (None without rows)."""
        rows = await self.fetch(operation, query, *args, refusal=refusal)
        return rows[0][0] if rows else None

    async def close(self) -> None:
        """Close the pool, giving connections in use a moment to come back. Idempotent."""
        if self._closed:
            return
        self._closed = True
        try:
            async with asyncio.timeout(CLOSE_SECONDS):
                await self.pool.close()
        except TimeoutError:
            self.pool.terminate()


async def create_database(url: str, schema: str, options: PoolOptions) -> Database:
    """A pool for ``url`` working in ``schema``; it connects on first use."""
    pool = await asyncpg.create_pool(
        url,
        min_size=0,
        max_size=options.pool_size,
        max_inactive_connection_lifetime=IDLE_SECONDS,
        **options.connect_arguments(schema),
    )
    return Database(pool, options)
