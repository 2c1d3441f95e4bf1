"""Subscribing over the WebSocket: settle, flow control, auto-extend, reconnection."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from pubsubgo.client import (
    Client,
    MessageStream,
    NotFound,
    ReconnectPolicy,
    ServerUnreachable,
    StreamMessage,
)
from pubsubgo.client.models import RetryPolicy, SubscriptionDescription
from tests.broker_process import BrokerProcess, eventually, unique

pytestmark = pytest.mark.e2e

#: How long a test waits for a message the broker should push at once (or after a sweep).
DELIVERY_DEADLINE_SECONDS = 10.0
#: The ack deadline of the auto-extend tests, and how long their slow handler works: past
#: the deadline plus the broker's redelivery sweep (every second), so that without
#: extensions the delivery is surely taken back before the handler acks.
SHORT_DEADLINE_SECONDS = 2.0
SLOW_HANDLER_SECONDS = 3.5
#: Reconnect quickly in tests: the restarted broker is back within a second or two.
FAST_RECONNECT = ReconnectPolicy(initial_delay_seconds=0.05, max_delay_seconds=0.5)


async def next_message(stream: MessageStream) -> StreamMessage:
    """The stream's next message; fails if none comes within the deadline."""
    async with asyncio.timeout(DELIVERY_DEADLINE_SECONDS):
        return await anext(stream)


class TestSubscribe:
    async def test_published_messages_arrive_and_their_ack_is_confirmed(
        self, client: Client, topic: str, subscription: str
    ) -> None:
        async with client.subscribe(subscription) as stream:
            ids = await client.publish_batch(topic, ["a", "b"])
            first, second = await next_message(stream), await next_message(stream)
            assert [first.id, second.id] == ids
            assert (first.text, first.subscription, first.delivery_attempt) == (
                "a", subscription, 1,
            )  # fmt: skip
            assert await first.ack() is True
            assert await second.ack() is True
            # A second ack of the same delivery is refused: it is settled already
            assert await first.ack() is False
        assert stream.member_id is not None

    async def test_iterating_without_a_context_manager_connects_on_first_use(
        self, client: Client, topic: str, subscription: str
    ) -> None:
        stream = client.subscribe(subscription)
        await client.publish(topic, "lazy")
        assert (await next_message(stream)).text == "lazy"
        await stream.aclose()
        with pytest.raises(StopAsyncIteration):
            await anext(stream)

    async def test_a_nacked_message_is_delivered_again_with_its_next_attempt(
        self, client: Client, topic: str, subscription: str
    ) -> None:
        async with client.subscribe(subscription) as stream:
            await client.publish(topic, "again")
            first = await next_message(stream)
            assert await first.nack(delay=0) is True
            second = await next_message(stream)
            assert (second.id, second.delivery_attempt) == (first.id, 2)
            await second.ack()

    async def test_subscribing_to_a_missing_subscription_raises_not_found(
        self, client: Client
    ) -> None:
        with pytest.raises(NotFound) as raised:
            async with client.subscribe("no-such-subscription"):
                pass
        assert raised.value.code == "subscription_not_found"

    async def test_at_most_max_in_flight_messages_are_unacked_at_once(
        self, client: Client, topic: str, subscription: str
    ) -> None:
        async with client.subscribe(subscription, max_in_flight=2) as stream:
            # Given five messages and a window of two
            await client.publish_batch(topic, [str(i) for i in range(5)])
            held = [await next_message(stream), await next_message(stream)]

            # Then the broker holds the other three back (its backlog counts every unacked
            # message, in flight or not)
            async def held_back() -> SubscriptionDescription | None:
                found = await client.subscriptions.describe(subscription)
                return found if found.in_flight == 2 and found.backlog >= 3 else None

            await eventually(held_back, "two in flight and three held back")
            # When one is acked, then the next one comes
            await held[0].ack()
            assert (await next_message(stream)).text == "2"


class TestAutoExtend:
    @pytest.fixture
    async def short_deadline(self, client: Client, topic: str) -> str:
        name = unique("slow")
        await client.subscriptions.create(
            name, topic, ack_deadline_seconds=SHORT_DEADLINE_SECONDS,
            retry_policy=RetryPolicy(0, 0),  # redelivered as soon as it is taken back
        )  # fmt: skip
        return name

    async def test_a_slow_handlers_message_is_extended_and_never_redelivered(
        self, client: Client, topic: str, short_deadline: str
    ) -> None:
        async with client.subscribe(short_deadline, auto_extend=True) as stream:
            await client.publish(topic, "slow work")
            message = await next_message(stream)
            # The handler's work, past the ack deadline: what is tested is that time passing
            await asyncio.sleep(SLOW_HANDLER_SECONDS)
            # The ack is confirmed: the broker still held this delivery, never took it back
            assert await message.ack() is True
            described = await client.subscriptions.describe(short_deadline)
            assert (described.in_flight, described.backlog) == (0, 0)

    async def test_without_auto_extend_the_same_message_is_redelivered(
        self, client: Client, topic: str, short_deadline: str
    ) -> None:
        async with client.subscribe(short_deadline) as stream:
            await client.publish(topic, "slow work")
            first = await next_message(stream)
            # While the handler holds it past the deadline, the broker takes it back and
            # delivers it again; then the late ack is refused
            second = await next_message(stream)
            assert (second.id, second.delivery_attempt) == (first.id, 2)
            assert await first.ack() is False
            assert await second.ack() is True


@pytest.fixture
def restartable(tmp_path: Path) -> Iterator[BrokerProcess]:
    """A broker of this test alone, which the test may kill and start again."""
    broker = BrokerProcess(tmp_path)
    broker.start()
    try:
        yield broker
    finally:
        broker.stop()


async def provision(client: Client, topic: str, subscription: str) -> None:
    """Create the topic and subscription (a restarted memory broker starts empty)."""
    await client.topics.create(topic)
    await client.subscriptions.create(subscription, topic)


class TestReconnect:
    async def test_the_stream_resumes_after_the_broker_is_killed_and_restarted(
        self, restartable: BrokerProcess
    ) -> None:
        topic, subscription = unique("orders"), unique("billing")
        async with Client(restartable.url) as client:
            await provision(client, topic, subscription)
            async with client.subscribe(subscription, reconnect=FAST_RECONNECT) as stream:
                await client.publish(topic, "before")
                assert await (await next_message(stream)).ack()
                # When the broker dies and a new one starts on the same port (in a thread:
                # the client's loop keeps running meanwhile, as it would in production)
                await asyncio.to_thread(restartable.kill)
                await asyncio.to_thread(restartable.start)
                await provision(client, topic, subscription)
                # Then messages published afterwards arrive on the same iterator
                await client.publish_batch(topic, ["after-1", "after-2"])
                first, second = await next_message(stream), await next_message(stream)
                assert [first.text, second.text] == ["after-1", "after-2"]
                assert await first.ack()

    async def test_without_reconnection_a_lost_connection_raises_server_unreachable(
        self, restartable: BrokerProcess
    ) -> None:
        topic, subscription = unique("orders"), unique("billing")
        async with Client(restartable.url) as client:
            await provision(client, topic, subscription)
            async with client.subscribe(subscription, reconnect=None) as stream:
                await asyncio.to_thread(restartable.kill)
                with pytest.raises(ServerUnreachable):
                    await next_message(stream)
