"""Contract: who receives a message, when, how often, and in what order."""

from __future__ import annotations

import asyncio

import pytest

from pubsubgo.core.messages import Delivery, DeliveryMode, Priority
from pubsubgo.core.subscriptions import RetryPolicy, StartPosition
from pubsubgo.runtime.clock import ManualClock
from pubsubgo.services.broker import Broker
from tests.contract.helpers import new_subscription, new_topic, payloads, publish, pull


class TestFanOutAndLoadBalancing:
    async def test_every_subscription_receives_every_message(self, broker: Broker) -> None:
        topic = await new_topic(broker)
        first = await new_subscription(broker, topic)
        second = await new_subscription(broker, topic)

        await publish(broker, topic, "a", "b")

        assert payloads(await pull(broker, first)) == ["a", "b"]
        assert payloads(await pull(broker, second)) == ["a", "b"]

    async def test_two_consumers_never_both_hold_one_message(self, broker: Broker) -> None:
        topic = await new_topic(broker, partitions=3)
        subscription = await new_subscription(broker, topic)
        await publish(broker, topic, *[str(i) for i in range(30)])

        one = await pull(broker, subscription, 10)
        other = await pull(broker, subscription, 100)

        assert len(one) == 10
        assert len(other) == 20
        assert not {d.message.id for d in one} & {d.message.id for d in other}

    async def test_a_consumer_never_holds_more_than_max_in_flight(self, broker: Broker) -> None:
        topic = await new_topic(broker)
        subscription = await new_subscription(broker, topic, max_in_flight=3)
        await publish(broker, topic, *[str(i) for i in range(10)])

        first = await pull(broker, subscription, 10)
        blocked = await pull(broker, subscription, 10)
        await broker.acks.ack(subscription, [first[0].ack_id])
        after_ack = await pull(broker, subscription, 10)

        assert len(first) == 3
        assert blocked == []
        assert len(after_ack) == 1


class TestStartPosition:
    async def test_latest_sees_only_messages_published_after_it(self, broker: Broker) -> None:
        topic = await new_topic(broker)
        await publish(broker, topic, "before")
        subscription = await new_subscription(broker, topic, start=StartPosition.LATEST)

        await publish(broker, topic, "after")

        assert payloads(await pull(broker, subscription)) == ["after"]

    async def test_earliest_sees_every_retained_message(self, broker: Broker) -> None:
        topic = await new_topic(broker)
        await publish(broker, topic, "before")
        subscription = await new_subscription(broker, topic, start=StartPosition.EARLIEST)

        await publish(broker, topic, "after")

        assert payloads(await pull(broker, subscription)) == ["before", "after"]


class TestRedelivery:
    async def test_an_unacked_message_returns_after_its_deadline_with_attempt_two(
        self, broker: Broker, clock: ManualClock
    ) -> None:
        topic = await new_topic(broker)
        retry = RetryPolicy(minimum_backoff_seconds=1, maximum_backoff_seconds=10)
        subscription = await new_subscription(
            broker, topic, ack_deadline_seconds=10, retry_policy=retry
        )
        await publish(broker, topic, "work")
        [first] = await pull(broker, subscription)

        clock.advance(9)
        await broker.run_duties()
        assert await pull(broker, subscription) == []
        clock.advance(2)
        await broker.run_duties()
        assert await pull(broker, subscription) == []  # still inside the 1 s backoff
        clock.advance(1)

        [second] = await pull(broker, subscription)
        assert first.delivery_attempt == 1
        assert second.delivery_attempt == 2
        assert second.message.id == first.message.id
        assert second.ack_id != first.ack_id

    async def test_backoff_doubles_after_each_failure_up_to_the_maximum(
        self, broker: Broker, clock: ManualClock
    ) -> None:
        topic = await new_topic(broker)
        retry = RetryPolicy(minimum_backoff_seconds=1, maximum_backoff_seconds=5)
        subscription = await new_subscription(broker, topic, retry_policy=retry)
        await publish(broker, topic, "flaky")

        [delivery] = await pull(broker, subscription)
        waits = []
        for _ in range(5):
            await broker.acks.nack(subscription, [delivery.ack_id])
            waited, delivery = await _wait_for_redelivery(broker, subscription, clock)
            waits.append(waited)

        assert waits == [1, 2, 4, 5, 5]
        assert delivery.delivery_attempt == 6

    async def test_a_nack_with_a_delay_waits_that_long(
        self, broker: Broker, clock: ManualClock
    ) -> None:
        topic = await new_topic(broker)
        subscription = await new_subscription(broker, topic)
        await publish(broker, topic, "later")
        [delivery] = await pull(broker, subscription)

        result = await broker.acks.nack(subscription, [delivery.ack_id], delay_seconds=7)

        waited, again = await _wait_for_redelivery(broker, subscription, clock)
        assert result.count == 1
        assert waited == 7
        assert again.delivery_attempt == 2

    async def test_extend_keeps_a_slow_message_from_redelivery(
        self, broker: Broker, clock: ManualClock
    ) -> None:
        topic = await new_topic(broker)
        subscription = await new_subscription(broker, topic, ack_deadline_seconds=10)
        await publish(broker, topic, "slow")
        [delivery] = await pull(broker, subscription)

        clock.advance(8)
        await broker.acks.extend(subscription, [delivery.ack_id], 30)
        clock.advance(20)
        await broker.run_duties()

        assert await pull(broker, subscription) == []
        assert (await broker.acks.ack(subscription, [delivery.ack_id])).count == 1

    async def test_an_acked_message_is_never_delivered_again(
        self, broker: Broker, clock: ManualClock
    ) -> None:
        topic = await new_topic(broker)
        subscription = await new_subscription(broker, topic, ack_deadline_seconds=10)
        await publish(broker, topic, "done")
        [delivery] = await pull(broker, subscription)

        result = await broker.acks.ack(subscription, [delivery.ack_id])
        clock.advance(3600)
        await broker.run_duties()

        assert result.count == 1
        assert await pull(broker, subscription) == []

    async def test_unknown_and_repeated_ack_ids_are_reported(self, broker: Broker) -> None:
        topic = await new_topic(broker)
        subscription = await new_subscription(broker, topic)
        await publish(broker, topic, "x")
        [delivery] = await pull(broker, subscription)
        await broker.acks.ack(subscription, [delivery.ack_id])

        result = await broker.acks.ack(subscription, [delivery.ack_id, "bogus"])  # type: ignore[list-item]

        assert result.count == 0
        assert result.unknown == (delivery.ack_id, "bogus")


class TestDeliveryModes:
    async def test_at_most_once_is_never_redelivered(
        self, broker: Broker, clock: ManualClock
    ) -> None:
        topic = await new_topic(broker)
        subscription = await new_subscription(broker, topic, ack_deadline_seconds=10)
        await publish(broker, topic, "fire", delivery_mode=DeliveryMode.AT_MOST_ONCE)

        [delivery] = await pull(broker, subscription)
        clock.advance(600)
        await broker.run_duties()

        assert delivery.message.data == b"fire"
        assert await pull(broker, subscription) == []

    async def test_an_exactly_once_ack_after_the_deadline_is_refused_and_redelivered(
        self, broker: Broker, clock: ManualClock
    ) -> None:
        topic = await new_topic(broker)
        retry = RetryPolicy(minimum_backoff_seconds=0, maximum_backoff_seconds=0)
        subscription = await new_subscription(
            broker, topic, ack_deadline_seconds=10, retry_policy=retry
        )
        await publish(
            broker, topic, "pay", delivery_mode=DeliveryMode.EXACTLY_ONCE, dedup_id="pay-1"
        )
        [late] = await pull(broker, subscription)

        clock.advance(11)
        refused = await broker.acks.ack(subscription, [late.ack_id])
        await broker.run_duties()
        [again] = await pull(broker, subscription)
        confirmed = await broker.acks.ack(subscription, [again.ack_id])

        assert refused.count == 0
        assert refused.unknown == (late.ack_id,)
        assert again.delivery_attempt == 2
        assert confirmed.count == 1

    async def test_an_exactly_once_ack_inside_the_deadline_is_confirmed(
        self, broker: Broker, clock: ManualClock
    ) -> None:
        topic = await new_topic(broker)
        subscription = await new_subscription(broker, topic, ack_deadline_seconds=10)
        await publish(broker, topic, "pay", delivery_mode=DeliveryMode.EXACTLY_ONCE, dedup_id="p")
        [delivery] = await pull(broker, subscription)

        clock.advance(9)

        assert (await broker.acks.ack(subscription, [delivery.ack_id])).count == 1


class TestTimeRules:
    async def test_an_expired_message_is_never_delivered(
        self, broker: Broker, clock: ManualClock
    ) -> None:
        topic = await new_topic(broker)
        subscription = await new_subscription(broker, topic)
        await publish(broker, topic, "stale", ttl_seconds=5)
        await publish(broker, topic, "fresh")

        clock.advance(6)

        assert payloads(await pull(broker, subscription)) == ["fresh"]
        assert (await broker.subscriptions.describe(subscription)).stats.in_flight == 1

    async def test_an_expired_message_is_not_redelivered_either(
        self, broker: Broker, clock: ManualClock
    ) -> None:
        topic = await new_topic(broker)
        subscription = await new_subscription(broker, topic, ack_deadline_seconds=10)
        await publish(broker, topic, "brief", ttl_seconds=15)
        [delivery] = await pull(broker, subscription)

        await broker.acks.nack(subscription, [delivery.ack_id], delay_seconds=20)
        clock.advance(21)

        assert await pull(broker, subscription) == []

    async def test_a_delayed_message_waits_until_it_is_due(
        self, broker: Broker, clock: ManualClock
    ) -> None:
        topic = await new_topic(broker)
        subscription = await new_subscription(broker, topic)
        await publish(broker, topic, "later", delay_seconds=30)
        await publish(broker, topic, "now")

        early = payloads(await pull(broker, subscription))
        clock.advance(30)
        due = payloads(await pull(broker, subscription))

        assert early == ["now"]
        assert due == ["later"]


class TestPriority:
    async def test_higher_priority_is_delivered_first(self, broker: Broker) -> None:
        topic = await new_topic(broker)
        subscription = await new_subscription(broker, topic)
        for priority in (Priority.LOW, Priority.NORMAL, Priority.CRITICAL, Priority.HIGH):
            await publish(broker, topic, priority.value, priority=priority)

        delivered = payloads(await pull(broker, subscription))

        assert delivered == ["critical", "high", "normal", "low"]

    async def test_publish_order_holds_within_one_priority(self, broker: Broker) -> None:
        topic = await new_topic(broker)
        subscription = await new_subscription(broker, topic)
        await publish(broker, topic, "h1", "h2", priority=Priority.HIGH)
        await publish(broker, topic, "n1")
        await publish(broker, topic, "h3", priority=Priority.HIGH)

        assert payloads(await pull(broker, subscription)) == ["h1", "h2", "h3", "n1"]


class TestLongPoll:
    async def test_a_waiting_pull_returns_as_soon_as_a_message_arrives(
        self, broker: Broker
    ) -> None:
        topic = await new_topic(broker)
        subscription = await new_subscription(broker, topic)

        waiting = asyncio.create_task(pull(broker, subscription, wait_seconds=10))
        await asyncio.sleep(0)  # let the pull start waiting
        await publish(broker, topic, "wake")
        delivered = await asyncio.wait_for(waiting, timeout=2)

        assert payloads(delivered) == ["wake"]

    async def test_a_waiting_pull_gives_up_empty_after_its_wait(self, broker: Broker) -> None:
        topic = await new_topic(broker)
        subscription = await new_subscription(broker, topic)

        assert await pull(broker, subscription, wait_seconds=0.05) == []


async def _wait_for_redelivery(
    broker: Broker, subscription: str, clock: ManualClock
) -> tuple[int, Delivery]:
    """Advance the clock a second at a time until the subscription delivers again."""
    for waited in range(1, 120):
        clock.advance(1)
        found = await broker.subscriber.pull(subscription, 1)
        if found:
            return waited, found[0]
    pytest.fail("never redelivered")
