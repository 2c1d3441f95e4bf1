"""End to end: ``pubsubgo-server --data-dir DIR``, durable across restarts with no other
service, and refusing with one line a directory it cannot use."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from pubsubgo.adapters.sqlite.opening import open_database
from tests.e2e.conftest import (
    STOP_DEADLINE_SECONDS,
    RunningServer,
    free_port,
    start_server,
    wait_until_healthy,
)

pytestmark = [pytest.mark.e2e, pytest.mark.sqlite]


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
async def durable(tmp_path: Path, data_dir: Path) -> AsyncIterator[RunningServer]:
    running = start_server(tmp_path, "--data-dir", str(data_dir))
    try:
        await wait_until_healthy(running)
        yield running
    finally:
        running.stop()


def _refused(workdir: Path, *args: str, **settings: str) -> subprocess.CompletedProcess[str]:
    """Run the server (with ``settings`` as its only PUBSUB_ variables) where it must refuse
    to start; its exit code and output."""
    executable = shutil.which("pubsubgo-server")
    assert executable is not None, "pubsubgo-server is not on PATH"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PUBSUB_")}
    command = [executable, "--host", "127.0.0.1", "--port", str(free_port()), *args]
    env |= {"PUBSUB_METRICS_ENABLED": "false", **settings}
    return subprocess.run(
        command, cwd=workdir, env=env, capture_output=True, text=True, timeout=STOP_DEADLINE_SECONDS
    )


async def test_messages_published_before_a_restart_are_delivered_after_it(
    tmp_path: Path, data_dir: Path, durable: RunningServer
) -> None:
    async with aiohttp.ClientSession() as http:
        # Given a topic, a subscription and a published message
        url = durable.url
        assert (await http.post(f"{url}/v1/topics", json={"name": "orders"})).status == 201
        sub = {"name": "billing", "topic": "orders", "start": "earliest"}
        assert (await http.post(f"{url}/v1/subscriptions", json=sub)).status == 201
        body = {"messages": [{"data": "kept", "key": "customer-1"}]}
        published = await http.post(f"{url}/v1/topics/orders/messages", json=body)
        [id_] = (await published.json())["ids"]
        # When the server stops and a new one starts on the same directory
        code, log = durable.stop()
        assert code == 0, log
        assert "(storage: sqlite)" in log
        again = start_server(tmp_path, "--data-dir", str(data_dir))
        try:
            await wait_until_healthy(again)
            pulled = await http.post(f"{again.url}/v1/subscriptions/billing/pull", json={})
            # Then the message is delivered, as it was published
            [message] = (await pulled.json())["messages"]
        finally:
            again.stop()
    assert (message["id"], message["data"], message["key"]) == (id_, "kept", "customer-1")
    assert (data_dir / "pubsubgo.db").is_file()


async def test_a_second_server_on_the_same_directory_is_refused_in_one_line(
    tmp_path: Path, data_dir: Path, durable: RunningServer
) -> None:
    done = _refused(tmp_path, "--data-dir", str(data_dir))

    assert done.returncode == 1
    assert done.stderr.splitlines() == [
        f"cannot open storage: sqlite storage {data_dir / 'pubsubgo.db'} is in use by another"
        f" broker process (pid {durable.process.pid}): one process owns a database file"
    ]


@pytest.fixture
def damaged(data_dir: Path) -> Path:
    """A broker's database, of a few hundred pages, whose second half was overwritten."""
    path = data_dir / "pubsubgo.db"
    database = open_database(path, "normal")
    with database.connection as connection:
        rows = [(f"t{i}", os.urandom(4000)) for i in range(300)]
        connection.executemany("INSERT INTO topics (name, definition) VALUES (?, ?)", rows)
    database.close()
    size = path.stat().st_size
    with path.open("r+b") as file:
        file.seek(size // 2)
        file.write(b"\x5a" * (size - size // 2))
    return path


def test_a_damaged_database_stops_the_server_in_one_line(
    tmp_path: Path, data_dir: Path, damaged: Path
) -> None:
    before = damaged.read_bytes()

    done = _refused(tmp_path, "--data-dir", str(data_dir))

    assert done.returncode == 1
    [line] = done.stderr.splitlines()
    assert line.startswith(f"cannot open storage: sqlite storage {damaged} cannot be used: ")
    assert line.endswith("move it away (or restore a backup) to start with an empty one")
    assert damaged.read_bytes() == before  # left for the operator, not replaced by an empty one


def test_an_empty_database_file_stops_the_server_rather_than_starting_empty(
    tmp_path: Path,
) -> None:
    # Given a file emptied by accident (a new database is never left empty at its path)
    path = tmp_path / "broker.db"
    path.touch()

    done = _refused(tmp_path, PUBSUB_STORAGE_BACKEND="sqlite", PUBSUB_SQLITE_PATH=str(path))

    assert done.returncode == 1
    assert done.stderr.splitlines() == [
        f"cannot open storage: sqlite storage {path} cannot be used: it is empty (0 bytes);"
        " move it away (or restore a backup) to start with an empty one"
    ]


async def test_a_broker_on_memory_says_at_start_how_to_keep_its_state(
    server: RunningServer,
) -> None:
    code, log = server.stop()

    assert code == 0, log
    assert "(storage: memory)" in log
    assert "nothing is kept when the broker stops; --data-dir DIR keeps everything" in log
