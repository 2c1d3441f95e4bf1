"""Fixtures of the PostgreSQL-only tests: a server of their own when they stop it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.postgres.servers import DURABLE, PostgresServer


@pytest.fixture
def own_postgres() -> Iterator[PostgresServer]:
    """A durable server this test alone uses, so that stopping it disturbs nobody."""
    server = PostgresServer(DURABLE)
    try:
        server.init()
        server.start()
        yield server
    finally:
        server.remove()
