"""Fixtures of the CLI tests: one broker per session, ``pubsub-cli`` run as a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from pubsubgo.client import SyncClient
from tests.broker_process import BrokerProcess, unique

#: How long one CLI run may take (a subprocess start costs about half a second).
CLI_DEADLINE_SECONDS = 30.0

Result = subprocess.CompletedProcess[str]


def cli_command() -> list[str]:
    """``pubsub-cli`` as this interpreter runs it."""
    return [sys.executable, "-m", "pubsubgo.cli.main"]


def clean_env(**extra: str) -> dict[str, str]:
    """The environment without the developer's PUBSUB_ variables, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PUBSUB_")}
    return env | extra


def run_cli(*args: str, stdin: str = "", env: dict[str, str] | None = None) -> Result:
    """Run ``pubsub-cli ARGS`` to its end (stdin is ``stdin``, never the terminal)."""
    return subprocess.run(
        [*cli_command(), *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env or clean_env(),
        timeout=CLI_DEADLINE_SECONDS,
    )


@dataclass(frozen=True)
class Cli:
    """Runs ``pubsub-cli --server <broker> ARGS`` and returns the finished process."""

    url: str

    def __call__(self, *args: str, stdin: str = "", env: dict[str, str] | None = None) -> Result:
        return run_cli("--server", self.url, *args, stdin=stdin, env=env)


def assert_one_line_error(result: Result, code: int, *fragments: str) -> None:
    """The run failed with ``code`` and said why in one ``error:`` line, no traceback."""
    assert result.returncode == code, (result.returncode, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr + result.stdout
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: "), lines[0]
    for fragment in fragments:
        assert fragment in lines[0]


@pytest.fixture(scope="session")
def broker_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BrokerProcess]:
    process = BrokerProcess(tmp_path_factory.mktemp("cli-broker"))
    process.start()
    try:
        yield process
    finally:
        process.stop()


@pytest.fixture(scope="session")
def cli(broker_server: BrokerProcess) -> Cli:
    return Cli(broker_server.url)


@pytest.fixture(scope="session")
def admin(broker_server: BrokerProcess) -> Iterator[SyncClient]:
    """A client to arrange what a test needs without a CLI run per step."""
    with SyncClient(broker_server.url) as client:
        yield client


@pytest.fixture
def topic(admin: SyncClient) -> str:
    name = unique("topic")
    admin.topics.create(name)
    return name


@pytest.fixture
def subscription(admin: SyncClient, topic: str) -> str:
    name = unique("sub")
    admin.subscriptions.create(name, topic)
    return name
