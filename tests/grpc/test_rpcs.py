"""Every RPC of ``pubsubgo.v1.PubSub`` through a real gRPC client, on memory and on Redis."""

from __future__ import annotations

from typing import TYPE_CHECKING

import grpc
from google.protobuf.timestamp_pb2 import Timestamp

from pubsubgo.adapters.grpc.generated import pubsub_pb2 as pb
from pubsubgo.core.messages import PublishRequest
from pubsubgo.runtime.clock import ManualClock
from pubsubgo.services.broker import Broker
from tests.conftest import unique
from tests.grpc.conftest import new_subscription, new_topic, publish, refused

if TYPE_CHECKING:
    from pubsubgo.adapters.grpc.generated.pubsub_pb2_grpc import PubSubAsyncStub


class TestTopics:
    async def test_a_created_topic_is_listed_described_and_deleted(
        self, pubsub: PubSubAsyncStub
    ) -> None:
        # Given a topic created with some settings and defaults for the rest
        name = unique("topic")
        created = await pubsub.CreateTopic(
            pb.Topic(
                name=name, partitions=3, dedup_window_seconds=0, overflow=pb.OVERFLOW_DROP_OLDEST
            )
        )
        assert (created.partitions, created.dedup_window_seconds) == (3, 0)
        assert created.retention_seconds == 7 * 24 * 3600
        assert created.overflow == pb.OVERFLOW_DROP_OLDEST
        assert created.create_time.seconds > 0
        # When one message is published to it
        await publish(pubsub, name, "one")
        # Then it is listed, and described with its statistics
        listed = await pubsub.ListTopics(pb.ListTopicsRequest())
        assert name in [t.name for t in listed.topics]
        described = await pubsub.GetTopic(pb.GetTopicRequest(name=name))
        assert described.topic.name == name
        assert (described.stats.messages, described.stats.publish_count) == (1, 1)
        assert list(described.stats.partition_depths) == [1, 0, 0]
        # And once deleted it is gone
        await pubsub.DeleteTopic(pb.DeleteTopicRequest(name=name))
        gone = await refused(pubsub.GetTopic(pb.GetTopicRequest(name=name)))
        assert (gone.status, gone.code) == (grpc.StatusCode.NOT_FOUND, "topic_not_found")

    async def test_deleting_a_topic_with_subscriptions_needs_force(
        self, pubsub: PubSubAsyncStub
    ) -> None:
        topic = await new_topic(pubsub)
        sub = await new_subscription(pubsub, topic)
        in_use = await refused(pubsub.DeleteTopic(pb.DeleteTopicRequest(name=topic)))
        assert (in_use.status, in_use.code) == (grpc.StatusCode.FAILED_PRECONDITION, "topic_in_use")
        await pubsub.DeleteTopic(pb.DeleteTopicRequest(name=topic, force=True))
        missing = await refused(pubsub.GetSubscription(pb.GetSubscriptionRequest(name=sub)))
        assert missing.code == "subscription_not_found"


class TestSubscriptions:
    async def test_a_created_subscription_is_listed_described_and_deleted(
        self, pubsub: PubSubAsyncStub
    ) -> None:
        topic, dead = await new_topic(pubsub), await new_topic(pubsub)
        name = unique("sub")
        created = await pubsub.CreateSubscription(
            pb.Subscription(
                name=name, topic=topic, ack_deadline_seconds=12, max_delivery_attempts=3,
                dead_letter_topic=dead, filter='attributes.kind = "a"', ordered=True,
                retry_policy=pb.RetryPolicy(minimum_backoff_seconds=2, maximum_backoff_seconds=9),
            )
        )  # fmt: skip
        assert (created.ack_deadline_seconds, created.max_delivery_attempts) == (12, 3)
        assert (created.dead_letter_topic, created.ordered, created.durable) == (dead, True, True)
        assert created.retry_policy.maximum_backoff_seconds == 9
        assert created.start == pb.START_POSITION_LATEST
        listed = await pubsub.ListSubscriptions(pb.ListSubscriptionsRequest(topic=topic))
        assert [s.name for s in listed.subscriptions] == [name]
        described = await pubsub.GetSubscription(pb.GetSubscriptionRequest(name=name))
        assert described.subscription.filter == 'attributes.kind = "a"'
        assert described.stats.backlog == 0
        await pubsub.DeleteSubscription(pb.DeleteSubscriptionRequest(name=name))
        listed = await pubsub.ListSubscriptions(pb.ListSubscriptionsRequest(topic=topic))
        assert not listed.subscriptions


class TestPublishAndFetch:
    async def test_every_message_field_is_stored_and_fetched(
        self, pubsub: PubSubAsyncStub, clock: ManualClock
    ) -> None:
        topic = await new_topic(pubsub, partitions=2)
        deliver_time = Timestamp(seconds=int(clock.now()) + 60)
        message = pb.OutgoingMessage(
            data=b"\x00\xffbinary", key="customer-1", attributes={"kind": "a"},
            priority=pb.PRIORITY_HIGH, delivery_mode=pb.DELIVERY_MODE_EXACTLY_ONCE,
            ttl_seconds=3600, deliver_time=deliver_time, dedup_id="d-1",
        )  # fmt: skip
        [first] = (await pubsub.Publish(pb.PublishRequest(topic=topic, messages=[message]))).ids
        # A second publish with the same dedup id stores nothing and answers the first id
        again = await pubsub.Publish(pb.PublishRequest(topic=topic, messages=[message]))
        assert list(again.ids) == [first]
        fetched = await pubsub.Fetch(pb.FetchRequest(topic=topic, id=first))
        assert (fetched.id, fetched.topic, fetched.data) == (first, topic, b"\x00\xffbinary")
        assert (fetched.key, dict(fetched.attributes)) == ("customer-1", {"kind": "a"})
        assert fetched.priority == pb.PRIORITY_HIGH
        assert fetched.delivery_mode == pb.DELIVERY_MODE_EXACTLY_ONCE
        assert fetched.dedup_id == "d-1"
        assert fetched.deliver_time.seconds == deliver_time.seconds
        assert fetched.expire_time.seconds - fetched.publish_time.seconds in (3599, 3600)

    async def test_a_batch_gets_one_id_per_message_in_order(self, pubsub: PubSubAsyncStub) -> None:
        topic = await new_topic(pubsub)
        ids = await publish(pubsub, topic, "a", "b", "c")
        fetched = [await pubsub.Fetch(pb.FetchRequest(topic=topic, id=i)) for i in ids]
        assert [m.data for m in fetched] == [b"a", b"b", b"c"]

    async def test_a_message_past_its_ttl_is_not_found_as_expired(
        self, pubsub: PubSubAsyncStub, clock: ManualClock
    ) -> None:
        topic = await new_topic(pubsub)
        short = pb.OutgoingMessage(data=b"x", ttl_seconds=5)
        [id_] = (await pubsub.Publish(pb.PublishRequest(topic=topic, messages=[short]))).ids
        clock.advance(6)
        expired = await refused(pubsub.Fetch(pb.FetchRequest(topic=topic, id=id_)))
        assert (expired.status, expired.code) == (grpc.StatusCode.NOT_FOUND, "message_expired")


class TestPullAndSettle:
    async def test_pulled_messages_are_acked_nacked_and_extended(
        self, pubsub: PubSubAsyncStub, clock: ManualClock
    ) -> None:
        topic = await new_topic(pubsub)
        sub = await new_subscription(
            pubsub, topic, retry_policy=pb.RetryPolicy(minimum_backoff_seconds=0)
        )
        await publish(pubsub, topic, "a", "b", "c")
        pulled = await pubsub.Pull(pb.PullRequest(subscription=sub, max_messages=10))
        received = {m.message.data: m for m in pulled.received_messages}
        assert set(received) == {b"a", b"b", b"c"}
        assert {m.delivery_attempt for m in received.values()} == {1}
        assert {m.subscription for m in received.values()} == {sub}
        a, b, c = (received[k].ack_id for k in (b"a", b"b", b"c"))
        # When a is acked (twice: the second is unknown), b nacked and c extended
        acked = await pubsub.Ack(pb.AckRequest(subscription=sub, ack_ids=[a, a]))
        assert (acked.count, list(acked.unknown_ack_ids)) == (1, [a])
        nacked = await pubsub.Nack(pb.NackRequest(subscription=sub, ack_ids=[b], delay_seconds=0))
        extended = await pubsub.Extend(pb.ExtendRequest(subscription=sub, ack_ids=[c], seconds=100))
        assert (nacked.count, extended.count) == (1, 1)
        # Then b comes again at once, a never, and c not even after its first deadline
        clock.advance(60)
        again = await pubsub.Pull(pb.PullRequest(subscription=sub, max_messages=10, wait_seconds=2))
        assert [(m.message.data, m.delivery_attempt) for m in again.received_messages] == [
            (b"b", 2)
        ]

    async def test_a_pull_waits_for_a_message_up_to_wait_seconds(
        self, pubsub: PubSubAsyncStub, app_broker: Broker
    ) -> None:
        topic = await new_topic(pubsub)
        sub = await new_subscription(pubsub, topic)
        waiting = pubsub.Pull(pb.PullRequest(subscription=sub, wait_seconds=5))
        await app_broker.publisher.publish(topic, [PublishRequest(b"late")])
        answer = await waiting
        assert [m.message.data for m in answer.received_messages] == [b"late"]


class TestSeekAndRedrive:
    async def test_seek_to_earliest_and_latest_and_a_time(
        self, pubsub: PubSubAsyncStub, clock: ManualClock
    ) -> None:
        topic = await new_topic(pubsub)
        sub = await new_subscription(pubsub, topic)
        await publish(pubsub, topic, "old")
        first = await pubsub.Pull(pb.PullRequest(subscription=sub))
        await pubsub.Ack(
            pb.AckRequest(subscription=sub, ack_ids=[first.received_messages[0].ack_id])
        )
        # Earliest: the acked message comes again
        await pubsub.Seek(pb.SeekRequest(subscription=sub, position=pb.START_POSITION_EARLIEST))
        again = await pubsub.Pull(pb.PullRequest(subscription=sub))
        assert [m.message.data for m in again.received_messages] == [b"old"]
        # Latest: nothing is left
        await pubsub.Seek(pb.SeekRequest(subscription=sub, position=pb.START_POSITION_LATEST))
        assert not (await pubsub.Pull(pb.PullRequest(subscription=sub))).received_messages
        # A time before the message: it comes again
        before = Timestamp(seconds=int(clock.now()) - 10)
        await pubsub.Seek(pb.SeekRequest(subscription=sub, time=before))
        third = await pubsub.Pull(pb.PullRequest(subscription=sub))
        assert [m.message.data for m in third.received_messages] == [b"old"]

    async def test_redrive_moves_dead_letters_back(self, pubsub: PubSubAsyncStub) -> None:
        topic, dead = await new_topic(pubsub), await new_topic(pubsub)
        sub = await new_subscription(
            pubsub, topic, max_delivery_attempts=1, dead_letter_topic=dead,
            retry_policy=pb.RetryPolicy(minimum_backoff_seconds=0),
        )  # fmt: skip
        await publish(pubsub, topic, "poison")
        pulled = await pubsub.Pull(pb.PullRequest(subscription=sub))
        await pubsub.Nack(
            pb.NackRequest(subscription=sub, ack_ids=[pulled.received_messages[0].ack_id])
        )
        moved = await pubsub.Redrive(pb.RedriveRequest(subscription=sub))
        assert moved.moved == 1
        back = await pubsub.Pull(pb.PullRequest(subscription=sub, wait_seconds=2))
        assert [(m.message.data, m.delivery_attempt) for m in back.received_messages] == [
            (b"poison", 1)
        ]
