"""Bearer tokens in the ``authorization`` metadata, with the permissions they hold over REST."""

from __future__ import annotations

from typing import TYPE_CHECKING

import grpc
import pytest

from pubsubgo.adapters.grpc.generated import broker_pb2
from pubsubgo.adapters.grpc.generated import pubsub_pb2 as pb
from pubsubgo.config import Settings
from pubsubgo.ports.storage import Storage
from tests.conftest import unique
from tests.grpc.conftest import refused
from tests.integration.security import ADMIN, CONSUMER, PUBLISHER, auth_settings

if TYPE_CHECKING:
    from pubsubgo.adapters.grpc.generated.broker_pb2_grpc import BrokerAsyncStub
    from pubsubgo.adapters.grpc.generated.pubsub_pb2_grpc import PubSubAsyncStub

Metadata = tuple[tuple[str, str], ...]


def bearer(token: str) -> Metadata:
    return (("authorization", f"Bearer {token}"),)


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return auth_settings(settings)


@pytest.fixture
def storage(memory_storage_backend: Storage) -> Storage:
    """Auth is the edge's, whatever the storage: memory only."""
    return memory_storage_backend


async def orders(pubsub: PubSubAsyncStub) -> tuple[str, str]:
    """A topic and a subscription named ``orders-*``, created by the admin."""
    topic, sub = f"orders-{unique('t')}", f"orders-{unique('s')}"
    await pubsub.CreateTopic(pb.Topic(name=topic), metadata=bearer(ADMIN))
    await pubsub.CreateSubscription(
        pb.Subscription(name=sub, topic=topic, start=pb.START_POSITION_EARLIEST),
        metadata=bearer(ADMIN),
    )
    return topic, sub


class TestAuthentication:
    @pytest.mark.parametrize(
        "metadata",
        [(), bearer("not-a-known-token-at-all"), (("authorization", f"Basic {ADMIN}"),)],
        ids=["no token", "unknown token", "another scheme"],
    )
    async def test_a_call_without_a_valid_token_is_unauthenticated(
        self, pubsub: PubSubAsyncStub, metadata: Metadata
    ) -> None:
        failure = await refused(pubsub.ListTopics(pb.ListTopicsRequest(), metadata=metadata))
        assert (failure.status, failure.code) == (
            grpc.StatusCode.UNAUTHENTICATED,
            "unauthenticated",
        )

    async def test_go_broker_calls_need_a_token_too(self, go_broker: BrokerAsyncStub) -> None:
        failure = await refused(go_broker.Publish(broker_pb2.PublishRequest(subject="orders-x")))
        assert failure.status == grpc.StatusCode.UNAUTHENTICATED


class TestPermissions:
    async def test_a_publisher_publishes_but_may_not_administer_or_consume(
        self, pubsub: PubSubAsyncStub
    ) -> None:
        topic, sub = await orders(pubsub)
        message = [pb.OutgoingMessage(data=b"x")]
        published = await pubsub.Publish(
            pb.PublishRequest(topic=topic, messages=message), metadata=bearer(PUBLISHER)
        )
        assert len(published.ids) == 1
        for call in (
            pubsub.CreateTopic(pb.Topic(name="orders-new"), metadata=bearer(PUBLISHER)),
            pubsub.Pull(pb.PullRequest(subscription=sub), metadata=bearer(PUBLISHER)),
            pubsub.DeleteTopic(pb.DeleteTopicRequest(name=topic), metadata=bearer(PUBLISHER)),
        ):
            failure = await refused(call)
            assert (failure.status, failure.code) == (
                grpc.StatusCode.PERMISSION_DENIED, "permission_denied",
            )  # fmt: skip

    async def test_a_consumer_pulls_and_acks_its_subscriptions_only(
        self, pubsub: PubSubAsyncStub
    ) -> None:
        topic, sub = await orders(pubsub)
        await pubsub.Publish(
            pb.PublishRequest(topic=topic, messages=[pb.OutgoingMessage(data=b"x")]),
            metadata=bearer(ADMIN),
        )
        pulled = await pubsub.Pull(pb.PullRequest(subscription=sub), metadata=bearer(CONSUMER))
        ack_ids = [m.ack_id for m in pulled.received_messages]
        acked = await pubsub.Ack(
            pb.AckRequest(subscription=sub, ack_ids=ack_ids), metadata=bearer(CONSUMER)
        )
        assert acked.count == 1
        # A stream of a subscription it holds no permission on is refused before it starts
        other = unique("billing")
        await pubsub.CreateTopic(pb.Topic(name=other), metadata=bearer(ADMIN))
        stream = pubsub.StreamingPull(
            iter([pb.StreamingPullRequest(subscription=other)]), metadata=bearer(CONSUMER)
        )
        failure = await refused(stream.read())
        assert failure.status == grpc.StatusCode.PERMISSION_DENIED

    async def test_lists_keep_to_what_the_token_sees(self, pubsub: PubSubAsyncStub) -> None:
        topic, _ = await orders(pubsub)
        hidden = unique("hidden")
        await pubsub.CreateTopic(pb.Topic(name=hidden), metadata=bearer(ADMIN))
        seen = await pubsub.ListTopics(pb.ListTopicsRequest(), metadata=bearer(CONSUMER))
        names = {t.name for t in seen.topics}
        assert topic in names
        assert hidden not in names
        failure = await refused(
            pubsub.GetTopic(pb.GetTopicRequest(name=hidden), metadata=bearer(CONSUMER))
        )
        assert failure.status == grpc.StatusCode.PERMISSION_DENIED

    async def test_go_broker_publish_and_fetch_follow_the_subject_permissions(
        self, go_broker: BrokerAsyncStub
    ) -> None:
        subject = f"orders-{unique('subject')}"
        request = broker_pb2.PublishRequest(subject=subject, body=b"x", expirationSeconds=60)
        answer = await go_broker.Publish(request, metadata=bearer(PUBLISHER))
        fetched = await go_broker.Fetch(
            broker_pb2.FetchRequest(subject=subject, id=answer.id), metadata=bearer(CONSUMER)
        )
        assert fetched.body == b"x"
        denied = await refused(go_broker.Publish(request, metadata=bearer(CONSUMER)))
        assert denied.status == grpc.StatusCode.PERMISSION_DENIED
