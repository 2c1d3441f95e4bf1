"""Contract: exhausted messages go to the dead-letter topic and can be redriven."""

from __future__ import annotations

import pytest

from pubsubgo.core.errors import InvalidSetting
from pubsubgo.core.messages import MessageId
from pubsubgo.core.subscriptions import RetryPolicy, Subscription
from pubsubgo.runtime.clock import ManualClock
from pubsubgo.services.broker import Broker
from tests.contract.helpers import new_subscription, new_topic, payloads, publish, pull

NO_BACKOFF = RetryPolicy(minimum_backoff_seconds=0, maximum_backoff_seconds=0)


async def _fail_every_attempt(broker: Broker, subscription: str, attempts: int) -> None:
    for _ in range(attempts):
        [delivery] = await pull(broker, subscription)
        await broker.acks.nack(subscription, [delivery.ack_id])


class TestDeadLettering:
    async def test_the_last_failed_attempt_moves_the_message_with_its_history(
        self, broker: Broker
    ) -> None:
        topic = await new_topic(broker)
        dead = await new_topic(broker)
        watcher = await new_subscription(broker, dead)
        subscription = await new_subscription(
            broker, topic, max_delivery_attempts=3, dead_letter_topic=dead, retry_policy=NO_BACKOFF
        )
        [original] = await publish(broker, topic, "poison", attributes={"app": "billing"})

        await _fail_every_attempt(broker, subscription, 3)

        [letter] = await pull(broker, watcher)
        assert letter.message.data == b"poison"
        assert letter.message.attributes == {
            "app": "billing",
            "x-dead-letter-reason": "max_delivery_attempts_exceeded",
            "x-original-topic": topic,
            "x-original-subscription": subscription,
            "x-original-id": original,
            "x-delivery-attempts": "3",
        }
        assert await pull(broker, subscription) == []
        assert (await broker.subscriptions.describe(subscription)).stats.backlog == 0

    async def test_missing_the_deadline_counts_as_a_failed_attempt(
        self, broker: Broker, clock: ManualClock
    ) -> None:
        topic = await new_topic(broker)
        dead = await new_topic(broker)
        watcher = await new_subscription(broker, dead)
        subscription = await new_subscription(
            broker,
            topic,
            ack_deadline_seconds=5,
            max_delivery_attempts=2,
            dead_letter_topic=dead,
            retry_policy=NO_BACKOFF,
        )
        await publish(broker, topic, "ignored")

        for _ in range(2):
            assert len(await pull(broker, subscription)) == 1
            clock.advance(6)
            await broker.run_duties()

        assert payloads(await pull(broker, watcher)) == ["ignored"]

    async def test_max_attempts_without_a_dead_letter_topic_is_refused(self) -> None:
        with pytest.raises(InvalidSetting, match="dead_letter_topic"):
            Subscription("s", "t", max_delivery_attempts=3)

    async def test_a_dead_letter_topic_must_exist(self, broker: Broker) -> None:
        topic = await new_topic(broker)
        with pytest.raises(InvalidSetting, match="does not exist"):
            await new_subscription(broker, topic, max_delivery_attempts=1, dead_letter_topic="nope")


class TestRedrive:
    async def test_redrive_returns_dead_letters_to_that_subscription_alone(
        self, broker: Broker
    ) -> None:
        topic = await new_topic(broker)
        dead = await new_topic(broker)
        failing = await new_subscription(
            broker, topic, max_delivery_attempts=1, dead_letter_topic=dead, retry_policy=NO_BACKOFF
        )
        bystander = await new_subscription(broker, topic)
        await publish(broker, topic, "retry-me")
        assert payloads(await pull(broker, bystander)) == ["retry-me"]
        await _fail_every_attempt(broker, failing, 1)

        moved = await broker.subscriptions.redrive(failing)

        [again] = await pull(broker, failing)
        assert moved == 1
        assert again.message.data == b"retry-me"
        assert again.delivery_attempt == 1
        assert await pull(broker, bystander) == []
        assert (await broker.topics.describe(dead)).stats.messages == 0

    async def test_redrive_leaves_other_subscriptions_dead_letters_alone(
        self, broker: Broker
    ) -> None:
        topic = await new_topic(broker)
        dead = await new_topic(broker)
        settings = {"max_delivery_attempts": 1, "dead_letter_topic": dead}
        one = await new_subscription(broker, topic, retry_policy=NO_BACKOFF, **settings)
        two = await new_subscription(broker, topic, retry_policy=NO_BACKOFF, **settings)
        await publish(broker, topic, "x")
        await _fail_every_attempt(broker, one, 1)
        await _fail_every_attempt(broker, two, 1)

        assert await broker.subscriptions.redrive(one) == 1

        assert (await broker.topics.describe(dead)).stats.messages == 1
        assert await pull(broker, two) == []


async def _two_dead_letters(broker: Broker) -> tuple[str, str, list[MessageId]]:
    """A subscription that dead-lettered "a" and "b", beside another one that dead-lettered
    "a" into the same dead-letter topic: (subscription, dead-letter topic, its letters' ids
    in order)."""
    topic = await new_topic(broker)
    dead = await new_topic(broker)
    settings = {"max_delivery_attempts": 1, "dead_letter_topic": dead, "retry_policy": NO_BACKOFF}
    sub = await new_subscription(broker, topic, **settings)
    other = await new_subscription(broker, topic, **settings)
    await publish(broker, topic, "a", "b")
    for deliveries in (await pull(broker, sub), (await pull(broker, other))[:1]):
        await broker.acks.nack(deliveries[0].subscription, [d.ack_id for d in deliveries])
    letters = (await broker.topics.browse(dead, None, 10)).messages
    mine = [m.id for m in letters if m.attributes["x-original-subscription"] == sub]
    return sub, dead, mine


class TestChosenDeadLetters:
    async def test_redrive_with_ids_moves_only_those(self, broker: Broker) -> None:
        sub, dead, [first, second] = await _two_dead_letters(broker)

        moved = await broker.subscriptions.redrive(sub, [second])

        assert moved == 1
        assert payloads(await pull(broker, sub)) == ["b"]
        left = [m.id for m in (await broker.topics.browse(dead, None, 10)).messages]
        assert first in left
        assert second not in left
        assert len(left) == 2  # the other subscription's letter stays too

    async def test_ids_of_other_subscriptions_letters_or_unknown_ids_are_left_alone(
        self, broker: Broker
    ) -> None:
        sub, dead, mine = await _two_dead_letters(broker)
        letters = (await broker.topics.browse(dead, None, 10)).messages
        [theirs] = [m.id for m in letters if m.id not in mine]

        assert await broker.subscriptions.redrive(sub, [theirs, "0-999999"]) == 0
        assert await broker.subscriptions.purge_dead_letters(sub, [theirs]) == 0

        assert len((await broker.topics.browse(dead, None, 10)).messages) == 3


class TestPurge:
    async def test_purge_deletes_every_dead_letter_of_the_subscription_and_no_other(
        self, broker: Broker
    ) -> None:
        sub, dead, _ = await _two_dead_letters(broker)

        purged = await broker.subscriptions.purge_dead_letters(sub)

        assert purged == 2
        [left] = (await broker.topics.browse(dead, None, 10)).messages
        assert left.attributes["x-original-subscription"] != sub
        assert await broker.subscriptions.redrive(sub) == 0
        assert await pull(broker, sub) == []

    async def test_purge_with_ids_deletes_only_those(self, broker: Broker) -> None:
        sub, dead, [first, second] = await _two_dead_letters(broker)

        assert await broker.subscriptions.purge_dead_letters(sub, [first]) == 1

        assert await broker.subscriptions.redrive(sub) == 1
        assert payloads(await pull(broker, sub)) == ["b"]
        assert len((await broker.topics.browse(dead, None, 10)).messages) == 1

    async def test_a_subscription_without_a_dead_letter_topic_purges_nothing(
        self, broker: Broker
    ) -> None:
        sub = await new_subscription(broker, await new_topic(broker))

        assert await broker.subscriptions.purge_dead_letters(sub) == 0
