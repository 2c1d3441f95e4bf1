"""Contract: attribute filters select messages; seek moves a subscription."""

from __future__ import annotations

import pytest

from pubsubgo.core.errors import InvalidArgument, InvalidFilter
from pubsubgo.runtime.clock import ManualClock
from pubsubgo.services.broker import Broker
from tests.contract.helpers import new_subscription, new_topic, payloads, publish, pull

MESSAGES = {
    "eu-order": {"region": "eu", "kind": "order"},
    "us-order": {"region": "us", "kind": "order"},
    "eu-refund": {"region": "eu-west", "kind": "refund"},
    "bare": {},
}


class TestFilters:
    @pytest.mark.parametrize(
        ("expression", "expected"),
        [
            ('attributes.region = "eu"', ["eu-order"]),
            ('attributes.region != "eu"', ["us-order", "eu-refund", "bare"]),
            ('hasPrefix(attributes.region, "eu")', ["eu-order", "eu-refund"]),
            ("attributes:kind", ["eu-order", "us-order", "eu-refund"]),
            ('attributes.kind = "order" AND attributes.region = "us"', ["us-order"]),
            ('attributes.region = "us" OR attributes.kind = "refund"', ["us-order", "eu-refund"]),
            ("NOT attributes:kind", ["bare"]),
            (
                '(attributes.region = "eu" OR attributes.region = "us")'
                ' AND attributes.kind = "order"',
                ["eu-order", "us-order"],
            ),
        ],
    )
    async def test_only_matching_messages_are_delivered(
        self, broker: Broker, expression: str, expected: list[str]
    ) -> None:
        topic = await new_topic(broker)
        subscription = await new_subscription(broker, topic, filter=expression)
        for payload, attributes in MESSAGES.items():
            await publish(broker, topic, payload, attributes=attributes)

        assert payloads(await pull(broker, subscription)) == expected

    async def test_non_matching_messages_are_acked_silently(
        self, broker: Broker, clock: ManualClock
    ) -> None:
        topic = await new_topic(broker)
        subscription = await new_subscription(broker, topic, filter="attributes:wanted")
        await publish(broker, topic, "skip", "skip-too")

        assert await pull(broker, subscription) == []
        clock.advance(3600)
        await broker.run_duties()
        assert (await broker.subscriptions.describe(subscription)).stats.backlog == 0

    async def test_a_bad_filter_is_refused_with_its_position(self, broker: Broker) -> None:
        topic = await new_topic(broker)

        with pytest.raises(InvalidFilter) as caught:
            await new_subscription(broker, topic, filter='attributes.a = "x" AND')

        assert caught.value.position == len('attributes.a = "x" AND')


class TestSeek:
    async def test_seek_to_earliest_delivers_acked_messages_again(self, broker: Broker) -> None:
        topic = await new_topic(broker)
        subscription = await new_subscription(broker, topic)
        await publish(broker, topic, "a", "b")
        delivered = await pull(broker, subscription)
        await broker.acks.ack(subscription, [d.ack_id for d in delivered])

        await broker.subscriptions.seek(subscription, position="earliest")

        assert payloads(await pull(broker, subscription)) == ["a", "b"]

    async def test_seek_to_latest_skips_the_backlog_and_what_was_in_flight(
        self, broker: Broker
    ) -> None:
        topic = await new_topic(broker)
        subscription = await new_subscription(broker, topic)
        await publish(broker, topic, "a", "b", "c")
        [held] = await pull(broker, subscription, 1)

        await broker.subscriptions.seek(subscription, position="latest")
        await publish(broker, topic, "d")

        assert payloads(await pull(broker, subscription)) == ["d"]
        assert (await broker.acks.ack(subscription, [held.ack_id])).count == 0

    async def test_seek_to_a_timestamp_starts_at_the_first_message_published_then(
        self, broker: Broker, clock: ManualClock
    ) -> None:
        topic = await new_topic(broker)
        subscription = await new_subscription(broker, topic)
        await publish(broker, topic, "old")
        clock.advance(10)
        cut = clock.now()
        await publish(broker, topic, "new")
        clock.advance(10)
        await publish(broker, topic, "newer")
        await pull(broker, subscription)

        await broker.subscriptions.seek(subscription, timestamp=cut)

        assert payloads(await pull(broker, subscription)) == ["new", "newer"]

    @pytest.mark.parametrize(
        ("position", "timestamp"), [(None, None), ("latest", 1.0), ("middle", None)]
    )
    async def test_seek_needs_exactly_one_valid_target(
        self, broker: Broker, position: str | None, timestamp: float | None
    ) -> None:
        topic = await new_topic(broker)
        subscription = await new_subscription(broker, topic)

        with pytest.raises(InvalidArgument):
            await broker.subscriptions.seek(subscription, position=position, timestamp=timestamp)
