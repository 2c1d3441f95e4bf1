"""SyncClient: the blocking wrapper, outside and inside a running event loop."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from pubsubgo.client import NotFound, SyncClient
from tests.broker_process import BrokerProcess, unique

pytestmark = pytest.mark.e2e

#: How long a test waits for an id from a publisher's future.
ANSWER_DEADLINE_SECONDS = 5.0


@pytest.fixture
def sync_client(broker_server: BrokerProcess) -> Iterator[SyncClient]:
    with SyncClient(broker_server.url) as client:
        yield client


@pytest.fixture
def names(sync_client: SyncClient) -> tuple[str, str]:
    """A fresh topic and a subscription of it."""
    topic, subscription = unique("sync-topic"), unique("sync-sub")
    sync_client.topics.create(topic)
    sync_client.subscriptions.create(subscription, topic)
    return topic, subscription


def test_the_sync_client_publishes_and_pulls_without_any_event_loop(
    sync_client: SyncClient, names: tuple[str, str]
) -> None:
    topic, subscription = names
    message_id = sync_client.publish(topic, "hello", key="k")
    (message,) = sync_client.pull(subscription, wait_seconds=ANSWER_DEADLINE_SECONDS)
    assert (message.id, message.text, message.key) == (message_id, "hello", "k")
    assert sync_client.ack(subscription, [message.ack_id]).count == 1
    assert topic in [t.name for t in sync_client.topics.list()]


def test_broker_errors_surface_as_the_same_exceptions(sync_client: SyncClient) -> None:
    with pytest.raises(NotFound):
        sync_client.topics.describe("no-such-topic")


async def test_the_sync_client_works_while_the_callers_event_loop_runs(
    broker_server: BrokerProcess,
) -> None:
    # Like a notebook cell: a loop is running in this thread, so asyncio.run would fail
    with SyncClient(broker_server.url) as client:
        topic = unique("notebook")
        assert client.topics.create(topic).name == topic
        assert client.ready() is True


def test_a_sync_stream_yields_messages_that_ack(
    sync_client: SyncClient, names: tuple[str, str]
) -> None:
    topic, subscription = names
    with sync_client.subscribe(subscription) as stream:
        ids = sync_client.publish_batch(topic, ["a", "b"])
        received = [next(stream), next(stream)]
        assert [m.id for m in received] == ids
        assert all(m.ack() for m in received)


def test_a_sync_publisher_batches_and_its_futures_give_the_ids(
    sync_client: SyncClient, names: tuple[str, str]
) -> None:
    topic, _ = names
    # A linger longer than the test: only the size limit and the close send batches, so
    # the count does not depend on how fast this thread hands messages over.
    with sync_client.publisher(topic, max_messages=10, linger_seconds=60) as publisher:
        futures = [publisher.publish(f"m{i}") for i in range(25)]
    ids = [future.result(timeout=ANSWER_DEADLINE_SECONDS) for future in futures]
    assert len(set(ids)) == 25
    assert publisher.stats.batches == 3
