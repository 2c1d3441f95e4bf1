"""Fixtures shared by every test: clocks, storage backends and a wired broker."""

from __future__ import annotations

import itertools
import os
import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from pubsubgo.adapters.memory import memory_storage
from pubsubgo.adapters.sqlite import open_sqlite_storage
from pubsubgo.containers import build_broker
from pubsubgo.core.groups import GroupSettings
from pubsubgo.ports.storage import Storage
from pubsubgo.runtime.clock import ManualClock
from pubsubgo.services.broker import Broker
from tests.postgres.servers import DURABLE, PostgresServer, debian_binary, drop_schema
from tests.postgres.servers import storage_on as postgres_storage_on
from tests.redis.servers import RedisClusterServers, RedisServer, storage_on

#: Every backend the contract suite runs against. A backend that needs a server is added with
#: its marker, e.g. ``pytest.param("redis", marks=pytest.mark.redis)``, and a fixture named
#: ``<backend>_storage``.
BACKENDS = [
    "memory",
    pytest.param("redis", marks=pytest.mark.redis),
    # The whole suite runs on the cluster too: every rule must hold when a topic's
    # partitions live on different shards.
    pytest.param("redis_cluster", marks=pytest.mark.redis),
    pytest.param("postgres", marks=pytest.mark.postgres),
    # One file per test, in the test's temporary directory.
    pytest.param("sqlite", marks=pytest.mark.sqlite),
]

#: The binaries the tests with each marker run, and the Debian package that installs them.
BINARIES = {
    "redis": (("redis-server", "redis-cli"), "redis-server"),
    "promtool": (("promtool",), "prometheus"),
    # Debian keeps these off PATH, in /usr/lib/postgresql/<version>/bin.
    "postgres": (("initdb", "pg_ctl", "pg_isready"), "postgresql"),
    "browser": (("chromium",), "chromium"),
}
#: Set (``.ci/run`` does) to make a missing binary stop the run instead of skipping the
#: tests that need it: CI installs them, so it can never pass by skipping.
REQUIRE_BINARIES = "PUBSUB_TEST_REQUIRE_SERVERS"

_names = itertools.count()


def missing_binaries() -> dict[str, str]:
    """For each marker whose binaries are not all on PATH, the line saying what to install."""
    missing = {}
    for marker, (binaries, package) in BINARIES.items():
        absent = [n for n in binaries if shutil.which(n) is None and debian_binary(n) is None]
        if absent:
            missing[marker] = f"{', '.join(absent)} not on PATH: apt-get install {package}"
    return missing


def pytest_report_header() -> list[str]:
    if os.environ.get(REQUIRE_BINARIES):
        return []
    return [f"skipping the tests marked {m}: {why}" for m, why in missing_binaries().items()]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Skip the tests whose binaries are missing, or stop if they are required."""
    for marker, why in missing_binaries().items():
        needing = [item for item in items if item.get_closest_marker(marker)]
        if needing and os.environ.get(REQUIRE_BINARIES):
            raise pytest.UsageError(f"{why} ({REQUIRE_BINARIES} is set: nothing may be skipped)")
        for item in needing:
            item.add_marker(pytest.mark.skip(reason=why))


@pytest.fixture(scope="session", autouse=True)
def _grpc_off_unless_asked() -> Iterator[None]:
    """Brokers built in the test process serve no gRPC unless a test sets a port: two apps
    (or two concurrent test runs) must never compete for, or share, the default port."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PUBSUB_GRPC_PORT", "0")
        yield


def unique(prefix: str) -> str:
    """A name no other test uses, so tests never see each other's topics."""
    return f"{prefix}-{next(_names)}"


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def memory_storage_backend() -> Storage:
    return memory_storage()


@pytest.fixture
async def sqlite_storage_backend(tmp_path: Path) -> AsyncIterator[Storage]:
    storage = await open_sqlite_storage(tmp_path / "pubsubgo.db")
    try:
        yield storage
    finally:
        await storage.aclose()


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    """A private redis-server for the whole session (never the shared one on 6379)."""
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    try:
        server.start()
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def redis_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisClusterServers]:
    """A private three-master Redis Cluster for the whole session."""
    cluster = RedisClusterServers(tmp_path_factory.mktemp("redis-cluster"))
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture
async def redis_storage_backend(redis_server: RedisServer) -> AsyncIterator[Storage]:
    redis_server.flush()
    async with storage_on(redis_server.url) as storage:
        yield storage


@pytest.fixture
async def redis_cluster_storage_backend(
    redis_cluster: RedisClusterServers,
) -> AsyncIterator[Storage]:
    redis_cluster.flush()
    async with storage_on(redis_cluster.url) as storage:
        yield storage


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """A private PostgreSQL for the whole session (never the shared one on 5432)."""
    server = PostgresServer()
    try:
        server.init()
        server.start()
        yield server
    finally:
        server.remove()


@pytest.fixture
def own_postgres() -> Iterator[PostgresServer]:
    """A durable PostgreSQL this test alone uses, so that stopping it disturbs nobody."""
    server = PostgresServer(DURABLE)
    try:
        server.init()
        server.start()
        yield server
    finally:
        server.remove()


@pytest.fixture
async def postgres_storage_backend(postgres_server: PostgresServer) -> AsyncIterator[Storage]:
    """The backend in a schema of this test's own, dropped afterwards."""
    schema = unique("test").replace("-", "_")
    async with postgres_storage_on(postgres_server.url, schema) as storage:
        yield storage
    await drop_schema(postgres_server.url, schema)


@pytest.fixture(params=BACKENDS)
def storage(request: pytest.FixtureRequest) -> Storage:
    backend: Storage = request.getfixturevalue(f"{request.param}_storage_backend")
    return backend


@pytest.fixture
def broker(storage: Storage, clock: ManualClock) -> Broker:
    return build_broker(storage, clock, group_settings=GroupSettings(3.0, 15.0))
