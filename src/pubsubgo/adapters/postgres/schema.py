"""The backend's schema, created and upgraded at start: versioned, idempotent, and safe
when several broker processes start at once (they take turns under an advisory lock)."""

from __future__ import annotations

import logging
from importlib import resources

import asyncpg

from pubsubgo.core.errors import BackendUnavailable

logger = logging.getLogger(__name__)

#: Each schema version and the files (in ``sql/``) that make it, applied in order, each
#: version in one transaction. A new version is a new entry: applied files never change.
MIGRATIONS: tuple[tuple[int, tuple[str, ...]], ...] = (
    (1, ("tables.sql", "messages.sql", "claims.sql", "ledger.sql", "registry.sql")),
)
#: The newest version this code knows.
SCHEMA_VERSION = MIGRATIONS[-1][0]


def quoted(schema: str) -> str:
    """``schema`` as an SQL identifier."""
    return '"' + schema.replace('"', '""') + '"'


async def migrate(connection: asyncpg.Connection, schema: str) -> int:
    """Bring ``schema`` to ``SCHEMA_VERSION``; returns the version it was at.

    Raises:
        BackendUnavailable: the schema is newer than this code (a downgrade).
    """
    # A session-level advisory lock per schema: brokers starting together wait here, and
    # each one after the first finds the work done.
    lock = "SELECT pg_advisory_lock(hashtextextended('pubsubgo schema ' || $1, 0))"
    await connection.execute(lock, schema)
    try:
        name = quoted(schema)
        await connection.execute(f"CREATE SCHEMA IF NOT EXISTS {name}")
        await connection.execute(
            f"CREATE TABLE IF NOT EXISTS {name}.schema_version"
            " (version int PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())"
        )
        found = await connection.fetchval(
            f"SELECT coalesce(max(version), 0) FROM {name}.schema_version"
        )
        if found > SCHEMA_VERSION:
            raise BackendUnavailable(
                f"postgres schema {schema!r} is at version {found}; this broker knows"
                f" {SCHEMA_VERSION} at most (a newer broker upgraded it)"
            )
        for version, files in MIGRATIONS:
            if version > found:
                await _apply(connection, name, version, files)
        return int(found)
    finally:
        unlock = "SELECT pg_advisory_unlock(hashtextextended('pubsubgo schema ' || $1, 0))"
        await connection.execute(unlock, schema)


async def _apply(
    connection: asyncpg.Connection, name: str, version: int, files: tuple[str, ...]
) -> None:
    logger.info("postgres schema %s: applying version %d", name, version)
    async with connection.transaction():
        await connection.execute(f"SET LOCAL search_path = {name}")
        for file in files:
            await connection.execute(_read(file))
        await connection.execute(
            f"INSERT INTO {name}.schema_version (version) VALUES ($1)", version
        )


def _read(file: str) -> str:
    return (resources.files(__package__) / "sql" / file).read_text(encoding="utf-8")
