"""Publishing, pulling and settling with the client against a real broker."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from types import SimpleNamespace

import aiohttp
import pytest

from pubsubgo.client import (
    Client,
    ClientClosed,
    NotFound,
    OutgoingMessage,
    ReceivedMessage,
)
from tests.broker_process import BrokerProcess, eventually

pytestmark = pytest.mark.e2e

#: How long a test waits for an id or a message the broker should give at once.
ANSWER_DEADLINE_SECONDS = 5.0


class TestPublish:
    async def test_a_batch_is_stored_in_order_and_each_id_is_returned(
        self, client: Client, topic: str, subscription: str
    ) -> None:
        ids = await client.publish_batch(topic, [b"one", "two", OutgoingMessage("three")])
        assert len(set(ids)) == 3
        pulled = await client.pull(subscription, 10, wait_seconds=ANSWER_DEADLINE_SECONDS)
        assert [(m.id, m.text) for m in pulled] == list(
            zip(ids, ["one", "two", "three"], strict=True)
        )

    async def test_options_travel_with_the_message(
        self, client: Client, topic: str, subscription: str
    ) -> None:
        message_id = await client.publish(
            topic, b"\xff\x00binary", key="customer-1", attributes={"region": "eu"},
            priority="high", ttl_seconds=60,
        )  # fmt: skip
        (received,) = await client.pull(subscription, wait_seconds=ANSWER_DEADLINE_SECONDS)
        assert received.id == message_id
        assert received.data == b"\xff\x00binary"
        assert (received.key, dict(received.attributes), received.priority) == (
            "customer-1", {"region": "eu"}, "high",
        )  # fmt: skip
        assert received.expires_at is not None
        assert received.delivery_attempt == 1

    async def test_a_second_publish_with_the_same_dedup_id_returns_the_first_id(
        self, client: Client, topic: str
    ) -> None:
        first = await client.publish(topic, "once", dedup_id="order-42")
        assert await client.publish(topic, "twice", dedup_id="order-42") == first

    async def test_an_async_publish_is_accepted_and_stored_soon_after(
        self, client: Client, topic: str, subscription: str
    ) -> None:
        await client.publish(topic, "later", async_=True)  # a 202 carries no id
        assert await client.publish_batch(topic, ["a", "b"], async_=True) == 2
        pulled: list[ReceivedMessage] = []

        async def all_three() -> bool | None:
            pulled.extend(await client.pull(subscription, 10))
            return True if len(pulled) == 3 else None

        await eventually(all_three, "three async messages arriving")
        assert sorted(m.text for m in pulled) == ["a", "b", "later"]

    async def test_publishing_to_a_missing_topic_raises_not_found(self, client: Client) -> None:
        with pytest.raises(NotFound):
            await client.publish("no-such-topic", "lost")


class TestPullAndSettle:
    async def test_an_acked_message_is_settled_once(
        self, client: Client, topic: str, subscription: str
    ) -> None:
        await client.publish(topic, "pay")
        (message,) = await client.pull(subscription, wait_seconds=ANSWER_DEADLINE_SECONDS)
        assert (await client.ack(subscription, [message.ack_id])).count == 1
        again = await client.ack(subscription, [message.ack_id])
        assert (again.count, again.unknown) == (0, (message.ack_id,))

    async def test_a_nacked_message_comes_back_with_its_next_attempt(
        self, client: Client, topic: str, subscription: str
    ) -> None:
        await client.publish(topic, "retry me")
        (first,) = await client.pull(subscription, wait_seconds=ANSWER_DEADLINE_SECONDS)
        assert (await client.nack(subscription, [first.ack_id], delay_seconds=0)).count == 1
        (second,) = await client.pull(subscription, wait_seconds=ANSWER_DEADLINE_SECONDS)
        assert (second.id, second.delivery_attempt) == (first.id, 2)

    async def test_extend_moves_the_deadline_forward(
        self, client: Client, topic: str, subscription: str
    ) -> None:
        await client.publish(topic, "slow")
        (message,) = await client.pull(subscription, wait_seconds=ANSWER_DEADLINE_SECONDS)
        result = await client.extend(subscription, [message.ack_id], 120)
        assert result.count == 1
        described = await client.subscriptions.describe(subscription)
        assert described.in_flight == 1


@pytest.fixture
async def counted_client(broker_server: BrokerProcess) -> AsyncIterator[tuple[Client, list[str]]]:
    """A client whose session records the path of every request it sends."""
    paths: list[str] = []

    async def on_request_start(
        session: aiohttp.ClientSession,
        context: SimpleNamespace,
        params: aiohttp.TraceRequestStartParams,
    ) -> None:
        paths.append(params.url.path)

    tracing = aiohttp.TraceConfig()
    tracing.on_request_start.append(on_request_start)
    async with (
        aiohttp.ClientSession(trace_configs=[tracing]) as session,
        Client(broker_server.url, session=session) as client,
    ):
        yield client, paths


class TestPublisher:
    async def test_many_small_publishes_go_out_in_few_requests_and_every_id_comes_back(
        self, counted_client: tuple[Client, list[str]], topic: str
    ) -> None:
        client, paths = counted_client
        # When 250 messages are published through a publisher batching 100 at a time
        async with client.publisher(topic, max_messages=100) as publisher:
            futures = [await publisher.publish(f"m{i}") for i in range(250)]
        # Then three requests carried them, and each future holds its own id, in order
        publishes = [p for p in paths if p == f"/v1/topics/{topic}/messages"]
        assert len(publishes) == 3
        assert publisher.stats.batches == 3
        assert publisher.stats.messages == 250
        ids = [future.result() for future in futures]
        page = await client.topics.browse(topic, limit=1000)
        assert [m.id for m in page.messages] == ids
        assert [m.text for m in page.messages] == [f"m{i}" for i in range(250)]

    async def test_a_lone_message_is_sent_once_its_linger_time_is_over(
        self, client: Client, topic: str
    ) -> None:
        publisher = client.publisher(topic, linger_seconds=0.05)
        future = await publisher.publish("alone")
        # Nothing flushes: only the linger timer can send it
        async with asyncio.timeout(ANSWER_DEADLINE_SECONDS):
            message_id = await future
        assert (await client.topics.get_message(topic, message_id)).text == "alone"
        await publisher.aclose()

    async def test_a_batch_over_the_byte_limit_is_split(self, client: Client, topic: str) -> None:
        async with client.publisher(topic, max_bytes=1000, linger_seconds=60) as publisher:
            for _ in range(5):
                await publisher.publish(b"x" * 400)
        assert (publisher.stats.batches, publisher.stats.messages) == (3, 5)

    async def test_closing_a_publisher_sends_what_it_buffered(
        self, client: Client, topic: str
    ) -> None:
        publisher = client.publisher(topic, linger_seconds=60)
        futures = [await publisher.publish(f"{i}") for i in range(3)]
        assert not any(f.done() for f in futures)
        await publisher.aclose()
        assert all(f.done() and f.exception() is None for f in futures)
        with pytest.raises(ClientClosed):
            await publisher.publish("too late")

    async def test_a_failed_batch_fails_each_of_its_futures_with_the_brokers_error(
        self, client: Client
    ) -> None:
        async with client.publisher("no-such-topic") as publisher:
            futures = [await publisher.publish("x") for _ in range(3)]
        for future in futures:
            assert isinstance(future.exception(), NotFound)
        assert publisher.stats.errors == 3
