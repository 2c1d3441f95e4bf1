"""The PostgreSQL backend: every storage port on asyncpg, for many broker processes
sharing one database.

``await postgres_storage(url)`` creates or upgrades the schema and gives the ports;
``await storage.aclose()`` stops the backend's listener and closes its pool
(``docs/postgres.md`` says more).
"""

from __future__ import annotations

import asyncio
import logging

import asyncpg

from pubsubgo.adapters.postgres.backlog import BacklogBounds
from pubsubgo.adapters.postgres.connection import PostgresConnection
from pubsubgo.adapters.postgres.database import (
    CONNECT_TIMEOUT_SECONDS,
    POOL_SIZE,
    STATEMENT_TIMEOUT_SECONDS,
    PoolOptions,
    create_database,
)
from pubsubgo.adapters.postgres.definitions import Definitions
from pubsubgo.adapters.postgres.deliveries import PostgresDeliveryQueue
from pubsubgo.adapters.postgres.errors import translate_pg_errors
from pubsubgo.adapters.postgres.groups import PostgresGroupStore
from pubsubgo.adapters.postgres.in_flight import PostgresInFlightLedger
from pubsubgo.adapters.postgres.message_log import PostgresMessageLog
from pubsubgo.adapters.postgres.schema import migrate
from pubsubgo.adapters.postgres.signal import PostgresSignal
from pubsubgo.adapters.postgres.subscriptions import PostgresSubscriptionRegistry
from pubsubgo.adapters.postgres.topics import PostgresTopicRegistry
from pubsubgo.core.errors import BackendUnavailable
from pubsubgo.ports.storage import Storage

__all__ = ["DEFAULT_SCHEMA", "postgres_storage"]

logger = logging.getLogger(__name__)

#: The schema the backend's tables and functions live in.
DEFAULT_SCHEMA = "pubsubgo"
#: Seconds a process reuses a topic or subscription definition it read.
DEFINITION_TTL_SECONDS = 1.0
#: Between attempts to reach PostgreSQL at start.
START_RETRY_SECONDS = 0.5


async def postgres_storage(
    url: str,
    *,
    schema: str = DEFAULT_SCHEMA,
    pool_size: int = POOL_SIZE,
    statement_timeout: float = STATEMENT_TIMEOUT_SECONDS,
    connect_timeout: float = CONNECT_TIMEOUT_SECONDS,
    definition_ttl: float = DEFINITION_TTL_SECONDS,
    start_timeout: float = 0.0,
) -> Storage:
    """Every storage port on the database at ``url``, its schema brought up to date first.

    Args:
        url: a libpq URL, ``postgresql://user:password@host:5432/database``.
        schema: where the tables and functions live (created if missing).
        pool_size: connections at most.
        statement_timeout: seconds a statement may run.
        connect_timeout: seconds a connection attempt may take.
        definition_ttl: seconds topic and subscription definitions are cached.
        start_timeout: how long to keep trying to reach PostgreSQL at start (0: once).

    Raises:
        BackendUnavailable: PostgreSQL could not be reached (within ``start_timeout``), or
            its schema is newer than this code.
    """
    options = PoolOptions(pool_size, statement_timeout, connect_timeout)
    await _migrate(url, schema, options, start_timeout)
    db = await create_database(url, schema, options)

    async def connect() -> asyncpg.Connection:
        return await asyncpg.connect(url, **options.connect_arguments(schema))

    signal = PostgresSignal(db, connect)
    definitions = Definitions(db, definition_ttl)
    bounds = BacklogBounds(db, definition_ttl)
    return Storage(
        topics=PostgresTopicRegistry(db, definitions),
        messages=PostgresMessageLog(db, definitions, bounds),
        subscriptions=PostgresSubscriptionRegistry(db, definitions, bounds),
        deliveries=PostgresDeliveryQueue(db, definitions),
        in_flight=PostgresInFlightLedger(db),
        groups=PostgresGroupStore(db),
        signal=signal,
        connection=PostgresConnection(db, signal),
    )


async def _migrate(url: str, schema: str, options: PoolOptions, start_timeout: float) -> None:
    """Bring the schema up to date, retrying until ``start_timeout`` while PostgreSQL is away
    (it may start at the same time as the broker)."""
    loop = asyncio.get_running_loop()
    give_up = loop.time() + start_timeout
    while True:
        try:
            with translate_pg_errors("schema upgrade"):
                connection = await asyncpg.connect(url, timeout=options.connect_timeout)
                try:
                    await migrate(connection, schema)
                finally:
                    await connection.close()
            return
        except BackendUnavailable as error:
            if loop.time() >= give_up:
                raise
            logger.warning("waiting for postgres: %s", error)
            await asyncio.sleep(START_RETRY_SECONDS)
