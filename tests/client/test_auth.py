"""The client and the CLI against a broker with bearer tokens on."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from pubsubgo.client import Client, Forbidden, Unauthorized
from tests.broker_process import BrokerProcess, unique
from tests.cli.conftest import clean_env, run_cli

pytestmark = pytest.mark.e2e

ADMIN = "admin-token-long-enough-1234"
READER = "reader-token-long-enough-5678"
TOKENS = [
    {"name": "ops", "token": ADMIN, "permissions": [{"action": "admin", "pattern": "*"}]},
    {"name": "reader", "token": READER,
     "permissions": [{"action": "subscribe", "pattern": "*"}]},
]  # fmt: skip
#: pubsub-cli's exit code for 401 and 403 (docs/cli.md).
EXIT_AUTH = 6


@pytest.fixture(scope="module")
def secured(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BrokerProcess]:
    settings = {"PUBSUB_AUTH_ENABLED": "true", "PUBSUB_AUTH_TOKENS": json.dumps(TOKENS)}
    broker = BrokerProcess(Path(tmp_path_factory.mktemp("secured")), settings=settings)
    broker.start()
    try:
        yield broker
    finally:
        broker.stop()


async def test_an_unknown_token_is_unauthorized(secured: BrokerProcess) -> None:
    async with Client(secured.url, token="not-a-token-of-this-broker") as client:
        with pytest.raises(Unauthorized) as caught:
            await client.topics.list()
    assert caught.value.status == 401
    assert caught.value.code == "unauthenticated"


async def test_a_token_without_publish_permission_is_forbidden(secured: BrokerProcess) -> None:
    topic = unique("secured")
    async with Client(secured.url, token=ADMIN) as admin:
        await admin.topics.create(topic)
    async with Client(secured.url, token=READER) as reader:
        with pytest.raises(Forbidden) as caught:
            await reader.publish(topic, b"not allowed")
    assert caught.value.code == "permission_denied"


async def test_a_token_with_the_permission_publishes(secured: BrokerProcess) -> None:
    topic = unique("secured")
    async with Client(secured.url, token=ADMIN) as admin:
        await admin.topics.create(topic)
        message_id = await admin.publish(topic, b"allowed")
    assert message_id


def test_the_cli_reports_a_missing_token_in_one_line(secured: BrokerProcess) -> None:
    result = run_cli("--server", secured.url, "topics", "list", env=clean_env())

    assert result.returncode == EXIT_AUTH
    assert "unauthenticated" in result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_the_cli_passes_its_token(secured: BrokerProcess) -> None:
    result = run_cli("--server", secured.url, "--token", ADMIN, "topics", "list")

    assert result.returncode == 0, result.stderr
