"""The client's administrative calls against a real broker: topics, subscriptions, groups."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from pubsubgo.client import (
    Client,
    Conflict,
    InvalidRequest,
    NotFound,
    ServerUnreachable,
)
from pubsubgo.client.models import RetryPolicy, SubscriptionDescription, TopicStats
from tests.broker_process import eventually, free_port, unique

pytestmark = pytest.mark.e2e


class TestTopics:
    async def test_a_created_topic_is_listed_and_described_with_its_settings(
        self, client: Client
    ) -> None:
        # Given a topic created with settings
        name = unique("orders")
        created = await client.topics.create(name, partitions=3, compression="lz4")
        # Then it is listed, and described with those settings and empty statistics
        assert (created.name, created.partitions, created.compression) == (name, 3, "lz4")
        assert created.created_at.tzinfo is not None
        assert name in [t.name for t in await client.topics.list()]
        described = await client.topics.describe(name)
        assert described.partitions == 3
        assert described.stats.partition_depths == (0, 0, 0)

    async def test_creating_a_topic_twice_raises_conflict_with_the_brokers_code(
        self, client: Client, topic: str
    ) -> None:
        with pytest.raises(Conflict) as raised:
            await client.topics.create(topic)
        assert (raised.value.code, raised.value.status) == ("topic_exists", 409)
        assert topic in raised.value.message
        assert raised.value.details == {"topic": topic}

    async def test_describing_a_missing_topic_raises_not_found_with_status_and_message(
        self, client: Client
    ) -> None:
        with pytest.raises(NotFound) as raised:
            await client.topics.describe("no-such-topic")
        assert raised.value.status == 404
        assert str(raised.value) == (
            "topic 'no-such-topic' does not exist (topic_not_found, HTTP 404)"
        )

    async def test_an_invalid_name_raises_invalid_request(self, client: Client) -> None:
        with pytest.raises(InvalidRequest) as raised:
            await client.topics.create("not a valid name!")
        assert raised.value.status == 400

    async def test_a_topic_with_subscriptions_is_deleted_only_with_force(
        self, client: Client, topic: str, subscription: str
    ) -> None:
        # When the topic is deleted without force, then it is refused
        with pytest.raises(Conflict) as raised:
            await client.topics.delete(topic)
        assert raised.value.code == "topic_in_use"
        # When it is deleted with force, then it and its subscription are gone
        await client.topics.delete(topic, force=True)
        with pytest.raises(NotFound):
            await client.topics.describe(topic)
        with pytest.raises(NotFound):
            await client.subscriptions.describe(subscription)

    async def test_stats_count_published_messages(self, client: Client, topic: str) -> None:
        await client.publish_batch(topic, [b"a", b"bb"])

        async def counted() -> TopicStats | None:
            stats = await client.topics.stats(topic)
            return stats if stats.messages == 2 else None

        stats = await eventually(counted, "two messages counted")
        assert (stats.publish_count, stats.bytes) == (2, 3)

    async def test_a_stored_message_can_be_fetched_and_browsed_without_consuming_it(
        self, client: Client, topic: str
    ) -> None:
        ids = await client.publish_batch(topic, ["first", "second", "third"])
        fetched = await client.topics.get_message(topic, ids[1])
        assert (fetched.id, fetched.data) == (ids[1], b"second")
        page = await client.topics.browse(topic, limit=2)
        assert [m.id for m in page.messages] == ids[:2]
        rest = await client.topics.browse(topic, after=page.next_after)
        assert [m.text for m in rest.messages] == ["third"]


class TestSubscriptions:
    async def test_a_created_subscription_is_listed_by_topic_and_described(
        self, client: Client, topic: str
    ) -> None:
        name = unique("billing")
        created = await client.subscriptions.create(
            name, topic, ack_deadline_seconds=12, retry_policy=RetryPolicy(2, 30),
            filter='attributes.region = "eu"', start="earliest",
        )  # fmt: skip
        assert created.retry_policy == RetryPolicy(2.0, 30.0)
        assert [s.name for s in await client.subscriptions.list(topic)] == [name]
        described = await client.subscriptions.describe(name)
        assert isinstance(described, SubscriptionDescription)
        assert (described.ack_deadline_seconds, described.filter, described.start) == (
            12.0, 'attributes.region = "eu"', "earliest",
        )  # fmt: skip
        assert (described.backlog, described.in_flight, described.members) == (0, 0, ())

    async def test_a_subscription_on_a_missing_topic_raises_not_found(self, client: Client) -> None:
        with pytest.raises(NotFound) as raised:
            await client.subscriptions.create(unique("sub"), "no-such-topic")
        assert raised.value.code == "topic_not_found"

    async def test_a_deleted_subscription_is_gone(
        self, client: Client, topic: str, subscription: str
    ) -> None:
        await client.subscriptions.delete(subscription)
        assert await client.subscriptions.list(topic) == []
        with pytest.raises(NotFound):
            await client.subscriptions.delete(subscription)

    async def test_seek_to_earliest_delivers_acked_messages_again(
        self, client: Client, topic: str, subscription: str
    ) -> None:
        # Given a message that was pulled and acked
        await client.publish(topic, "again")
        (first,) = await client.pull(subscription, wait_seconds=5)
        assert (await client.ack(subscription, [first.ack_id])).count == 1
        # When the subscription seeks to the earliest message, then it is delivered again
        await client.subscriptions.seek(subscription, position="earliest")
        (again,) = await client.pull(subscription, wait_seconds=5)
        assert again.id == first.id

    async def test_seek_to_a_time_after_the_messages_skips_them(
        self, client: Client, topic: str, subscription: str
    ) -> None:
        await client.publish(topic, "old")
        await client.subscriptions.seek(subscription, timestamp=datetime.now(UTC))
        assert await client.pull(subscription) == []

    async def test_redrive_moves_dead_letters_back_to_the_subscription(
        self, client: Client, topic: str
    ) -> None:
        # Given a subscription that dead-letters after one attempt, and a nacked message
        dead = unique("dead")
        await client.topics.create(dead)
        name = unique("fragile")
        await client.subscriptions.create(
            name, topic, max_delivery_attempts=1, dead_letter_topic=dead
        )
        await client.publish(topic, "poison")
        (message,) = await client.pull(name, wait_seconds=5)
        await client.nack(name, [message.ack_id], delay_seconds=0)

        async def dead_lettered() -> int | None:
            return (await client.topics.stats(dead)).messages or None

        await eventually(dead_lettered, "the message reaching the dead-letter topic")
        # When it is redriven, then it is delivered to the subscription again
        assert await client.subscriptions.redrive(name) == 1
        (back,) = await client.pull(name, wait_seconds=5)
        assert (back.text, back.delivery_attempt) == ("poison", 1)


class TestGroups:
    async def test_a_member_joins_heartbeats_appears_in_the_group_and_leaves(
        self, client: Client, subscription: str
    ) -> None:
        joined = await client.groups.join(subscription)
        assert joined.assignment == (0,)
        assert joined.heartbeat_interval_seconds > 0
        beat = await client.groups.heartbeat(subscription, joined.member_id)
        assert beat.generation == joined.generation
        group = await client.groups.describe(subscription)
        assert [m.member_id for m in group.members] == [joined.member_id]
        await client.groups.leave(subscription, joined.member_id)
        assert (await client.groups.describe(subscription)).members == ()
        with pytest.raises(NotFound) as raised:
            await client.groups.heartbeat(subscription, joined.member_id)
        assert raised.value.code == "member_not_found"


async def test_an_unreachable_broker_raises_server_unreachable_naming_url_and_reason() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    async with Client(url) as client:
        with pytest.raises(ServerUnreachable) as raised:
            await client.topics.list()
    assert str(raised.value) == f"cannot reach {url}: connection refused"
    assert (raised.value.code, raised.value.status) == ("unreachable", None)
