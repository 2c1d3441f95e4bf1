"""Every kind of refusal as a gRPC status, with the broker's code in the trailers and in the
rich status (google.rpc.ErrorInfo, RetryInfo)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING

import grpc
import pytest
from google.rpc import error_details_pb2, status_pb2

from pubsubgo.adapters.grpc.generated import pubsub_pb2 as pb
from pubsubgo.adapters.grpc.status import DETAILS_KEY
from pubsubgo.config import LimitSettings, Settings
from pubsubgo.core.limits import MIB
from pubsubgo.ports.storage import Storage
from tests.grpc.conftest import Refused, new_subscription, new_topic, publish, refused
from tests.redis.servers import RedisServer, storage_on

if TYPE_CHECKING:
    from pubsubgo.adapters.grpc.generated.pubsub_pb2_grpc import PubSubAsyncStub


def rich_status(failure: Refused) -> tuple[error_details_pb2.ErrorInfo, float | None]:
    """The ErrorInfo of a refusal's rich status, and its RetryInfo delay (None: none)."""
    trailers = dict(failure.error.trailing_metadata() or ())
    status = status_pb2.Status.FromString(trailers[DETAILS_KEY])
    assert status.code == failure.status.value[0]
    info, retry = error_details_pb2.ErrorInfo(), None
    for detail in status.details:
        if detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
            detail.Unpack(info)
        elif detail.Is(error_details_pb2.RetryInfo.DESCRIPTOR):
            delay = error_details_pb2.RetryInfo()
            detail.Unpack(delay)
            retry = delay.retry_delay.seconds + delay.retry_delay.nanos / 1e9
    return info, retry


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """Small limits, so that refusals for size and fullness are cheap to provoke."""
    limits = LimitSettings(max_message_bytes=1024, max_batch_messages=10, max_batch_bytes=MIB)
    return settings.model_copy(update={"limits": limits})


class TestMapping:
    async def test_a_missing_resource_is_not_found_with_its_code_and_name(
        self, pubsub: PubSubAsyncStub
    ) -> None:
        failure = await refused(pubsub.GetTopic(pb.GetTopicRequest(name="nowhere")))
        assert (failure.status, failure.code) == (grpc.StatusCode.NOT_FOUND, "topic_not_found")
        info, retry = rich_status(failure)
        assert (info.reason, info.domain, dict(info.metadata)) == (
            "topic_not_found", "pubsubgo", {"topic": "nowhere"},
        )  # fmt: skip
        assert retry is None

    async def test_a_taken_name_is_already_exists(self, pubsub: PubSubAsyncStub) -> None:
        topic = await new_topic(pubsub)
        failure = await refused(pubsub.CreateTopic(pb.Topic(name=topic)))
        assert (failure.status, failure.code) == (grpc.StatusCode.ALREADY_EXISTS, "topic_exists")
        sub = await new_subscription(pubsub, topic)
        again = await refused(pubsub.CreateSubscription(pb.Subscription(name=sub, topic=topic)))
        assert again.code == "subscription_exists"

    @pytest.mark.parametrize(
        ("request_", "code"),
        [
            (pb.Topic(name="bad name"), "invalid_name"),
            (pb.Topic(name="fine", partitions=0), "invalid_setting"),
            (pb.Topic(name="fine", overflow=99), "invalid_argument"),  # type: ignore[arg-type]
        ],
    )
    async def test_bad_input_is_invalid_argument(
        self, pubsub: PubSubAsyncStub, request_: pb.Topic, code: str
    ) -> None:
        failure = await refused(pubsub.CreateTopic(request_))
        assert (failure.status, failure.code) == (grpc.StatusCode.INVALID_ARGUMENT, code)

    async def test_a_bad_message_names_its_field(self, pubsub: PubSubAsyncStub) -> None:
        topic = await new_topic(pubsub)
        messages = [pb.OutgoingMessage(data=b"ok"), pb.OutgoingMessage(data=b"x", ttl_seconds=-1)]
        failure = await refused(pubsub.Publish(pb.PublishRequest(topic=topic, messages=messages)))
        assert (failure.status, failure.code) == (
            grpc.StatusCode.INVALID_ARGUMENT,
            "invalid_message",
        )
        info, _ = rich_status(failure)
        assert info.metadata["field"] == "messages[1].ttl_seconds"

    async def test_too_large_is_invalid_argument(self, pubsub: PubSubAsyncStub) -> None:
        topic = await new_topic(pubsub)
        big = [pb.OutgoingMessage(data=b"x" * 2048)]
        failure = await refused(pubsub.Publish(pb.PublishRequest(topic=topic, messages=big)))
        assert (failure.status, failure.code) == (
            grpc.StatusCode.INVALID_ARGUMENT,
            "message_too_large",
        )
        many = [pb.OutgoingMessage(data=b"x")] * 11
        failure = await refused(pubsub.Publish(pb.PublishRequest(topic=topic, messages=many)))
        assert failure.code == "too_many_messages"

    async def test_a_full_topic_is_resource_exhausted_with_a_retry_delay(
        self, pubsub: PubSubAsyncStub
    ) -> None:
        topic = await new_topic(pubsub, max_messages=1, overflow=pb.OVERFLOW_REJECT)
        await publish(pubsub, topic, "fills it")
        failure = await refused(pubsub.Publish(pb.PublishRequest(
            topic=topic, messages=[pb.OutgoingMessage(data=b"no room")]
        )))  # fmt: skip
        assert (failure.status, failure.code) == (grpc.StatusCode.RESOURCE_EXHAUSTED, "topic_full")
        info, retry = rich_status(failure)
        assert info.metadata["max_messages"] == "1"
        assert retry == 1.0

    async def test_an_unknown_seek_position_is_invalid_argument(
        self, pubsub: PubSubAsyncStub
    ) -> None:
        sub = await new_subscription(pubsub, await new_topic(pubsub))
        failure = await refused(pubsub.Seek(pb.SeekRequest(
            subscription=sub, position=pb.START_POSITION_UNSPECIFIED
        )))  # fmt: skip
        assert (failure.status, failure.code) == (
            grpc.StatusCode.INVALID_ARGUMENT,
            "invalid_argument",
        )


class TestRateLimit:
    @pytest.fixture
    def settings(self, settings: Settings) -> Settings:
        limits = LimitSettings(rate_per_second=0.5, rate_burst=2)
        return settings.model_copy(update={"limits": limits})

    async def test_calls_over_the_rate_are_resource_exhausted_with_when_to_retry(
        self, pubsub: PubSubAsyncStub
    ) -> None:
        await pubsub.ListTopics(pb.ListTopicsRequest())
        await pubsub.ListTopics(pb.ListTopicsRequest())
        failure = await refused(pubsub.ListTopics(pb.ListTopicsRequest()))
        assert (failure.status, failure.code) == (
            grpc.StatusCode.RESOURCE_EXHAUSTED,
            "rate_limited",
        )
        _, retry = rich_status(failure)
        assert retry == 2.0  # half a call a second: the next one in two seconds


@pytest.fixture
async def outage_storage(tmp_path: Path) -> AsyncIterator[tuple[Storage, RedisServer]]:
    """Redis storage on a private server of the test's own, which the test may stop."""
    server = RedisServer(tmp_path)
    server.start()
    try:
        async with storage_on(server.url) as storage:
            yield storage, server
    finally:
        server.stop()


class TestUnavailable:
    @pytest.fixture
    def storage(self, outage_storage: tuple[Storage, RedisServer]) -> Storage:
        return outage_storage[0]

    @pytest.mark.redis
    async def test_storage_down_is_unavailable(
        self, pubsub: PubSubAsyncStub, outage_storage: tuple[Storage, RedisServer]
    ) -> None:
        topic = await new_topic(pubsub)
        # When Redis goes away
        outage_storage[1].stop()
        failure = await refused(pubsub.Publish(pb.PublishRequest(
            topic=topic, messages=[pb.OutgoingMessage(data=b"x")]
        )))  # fmt: skip
        # Then the publish is UNAVAILABLE, to be retried
        assert (failure.status, failure.code) == (
            grpc.StatusCode.UNAVAILABLE,
            "storage_unavailable",
        )
        assert rich_status(failure)[1] == 1.0
