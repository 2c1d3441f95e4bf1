"""The Python client and ``pubsub-cli --grpc`` against a ``pubsubgo-server`` process."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from pubsubgo.client import GrpcClient, NotFound
from tests.broker_process import BrokerProcess, free_port, unique
from tests.cli.conftest import run_cli


@pytest.fixture(scope="module")
def grpc_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A broker process with gRPC on a free port: its ``host:port``."""
    port = free_port()
    process = BrokerProcess(
        tmp_path_factory.mktemp("grpc-broker"), settings={"PUBSUB_GRPC_PORT": str(port)}
    )
    process.start()
    try:
        yield f"127.0.0.1:{port}"
    finally:
        process.stop()


@pytest.fixture
async def client(grpc_server: str) -> AsyncIterator[GrpcClient]:
    async with GrpcClient(grpc_server) as opened:
        yield opened


@pytest.mark.e2e
class TestGrpcClient:
    async def test_admin_publish_pull_and_a_stream(self, client: GrpcClient) -> None:
        topic, sub = unique("topic"), unique("sub")
        created = await client.topics.create(topic, partitions=2, overflow="drop_oldest")
        assert (created.partitions, created.overflow) == (2, "drop_oldest")
        await client.subscriptions.create(sub, topic, start="earliest")
        ids = await client.publish_batch(topic, [b"one", "two"])
        assert len(ids) == 2
        fetched = await client.topics.get_message(topic, ids[0])
        assert fetched.data == b"one"
        described = await client.subscriptions.describe(sub)
        assert described.backlog == 2
        # A stream receives both; acking them empties the backlog
        async with client.subscribe(sub, max_in_flight=10) as stream:
            received = [await anext(stream), await anext(stream)]
            assert sorted(m.data for m in received) == [b"one", b"two"]
            assert stream.member_id
            assert all([await m.ack() for m in received])
        assert (await client.subscriptions.describe(sub)).backlog == 0
        # Pull and ack work too
        await client.publish(topic, "three", attributes={"k": "v"})
        [pulled] = await client.pull(sub, wait_seconds=2)
        assert (pulled.data, pulled.attributes) == (b"three", {"k": "v"})
        assert (await client.ack(sub, [pulled.ack_id])).count == 1

    async def test_a_refusal_is_the_client_exception_with_the_brokers_code(
        self, client: GrpcClient
    ) -> None:
        with pytest.raises(NotFound) as refused:
            await client.topics.describe(unique("missing"))
        assert refused.value.code == "topic_not_found"


@pytest.mark.e2e
def test_pubsub_cli_speaks_grpc(grpc_server: str, tmp_path: Path) -> None:
    topic, sub = unique("topic"), unique("sub")

    def cli(*args: str) -> str:
        done = run_cli("--grpc", "--server", grpc_server, *args)
        assert done.returncode == 0, done.stderr
        return done.stdout

    cli("topics", "create", topic)
    cli("subscriptions", "create", sub, "--topic", topic, "--start", "earliest")
    [message_id] = cli("publish", topic, "hello over grpc").split()
    consumed = json.loads(cli("consume", sub, "--max", "1", "--json"))
    assert (consumed["id"], consumed["data"]) == (message_id, "hello over grpc")
    missing = run_cli("--grpc", "--server", grpc_server, "topics", "describe", unique("nope"))
    assert missing.returncode == 4  # not found, as over REST
    assert missing.stderr.startswith("error: topic")
