"""The stream over both kinds of push frames: one ``message`` frame per message, or a
``messages`` frame per pull; its users see one message at a time either way."""

from __future__ import annotations

import asyncio

import pytest

from pubsubgo.client import Client, MessageStream, StreamMessage
from tests.broker_process import eventually

pytestmark = pytest.mark.e2e

#: How long a test waits for what the broker should push at once.
DELIVERY_DEADLINE_SECONDS = 10.0


async def take(stream: MessageStream, count: int) -> list[StreamMessage]:
    """The stream's next ``count`` messages; fails if they do not come within the deadline."""
    async with asyncio.timeout(DELIVERY_DEADLINE_SECONDS):
        return [await anext(stream) for _ in range(count)]


@pytest.mark.parametrize("batch_frames", [True, False], ids=["batch frames", "message frames"])
class TestEitherFrameKind:
    async def test_every_message_arrives_once_in_order_and_concurrent_acks_are_confirmed(
        self, client: Client, topic: str, subscription: str, batch_frames: bool
    ) -> None:
        # Given a stream and 60 messages published while it is subscribed
        async with client.subscribe(subscription, batch_frames=batch_frames) as stream:
            texts = [f"m{i}" for i in range(60)]
            ids = await client.publish_batch(topic, texts)
            # When every message is acked at once, each by its own ack()
            received = await take(stream, 60)
            acked = await asyncio.gather(*(m.ack() for m in received))
        # Then
        assert [m.id for m in received] == ids
        assert [m.text for m in received] == texts
        assert all(acked)
        assert (await client.subscriptions.describe(subscription)).backlog == 0

    async def test_flow_control_holds_and_resumes_with_acks(
        self, client: Client, topic: str, subscription: str, batch_frames: bool
    ) -> None:
        # Given a stream allowing four unsettled messages and ten published
        stream = client.subscribe(subscription, max_in_flight=4, batch_frames=batch_frames)
        async with stream:
            await client.publish_batch(topic, [f"m{i}" for i in range(10)])
            first = await take(stream, 4)

            async def four_in_flight() -> bool | None:
                found = await client.subscriptions.describe(subscription)
                return True if found.in_flight == 4 else None

            await eventually(four_in_flight, "four deliveries in flight")
            assert (await client.subscriptions.describe(subscription)).in_flight == 4
            # When they are acked, the next ones come
            assert all(await asyncio.gather(*(m.ack() for m in first)))
            rest = await take(stream, 4)
            assert all(await asyncio.gather(*(m.ack() for m in rest)))
            last = await take(stream, 2)
            assert all(await asyncio.gather(*(m.ack() for m in last)))
        # Then each came once, in order
        assert [m.text for m in [*first, *rest, *last]] == [f"m{i}" for i in range(10)]
