"""Topics and subscriptions between protobuf and the domain."""

from __future__ import annotations

from typing import Any

from pubsubgo.adapters.grpc.generated import pubsub_pb2 as pb
from pubsubgo.adapters.grpc.messages import enum_value, timestamp
from pubsubgo.core.errors import InvalidSetting
from pubsubgo.core.groups import GroupState
from pubsubgo.core.messages import Compression
from pubsubgo.core.subscriptions import (
    RetryPolicy,
    StartPosition,
    Subscription,
    SubscriptionType,
)
from pubsubgo.core.topics import Overflow, Topic
from pubsubgo.services.subscriptions import SubscriptionDescription
from pubsubgo.services.topics import TopicDescription

OVERFLOW_OF = {
    pb.OVERFLOW_UNSPECIFIED: Overflow.REJECT,
    pb.OVERFLOW_REJECT: Overflow.REJECT,
    pb.OVERFLOW_DROP_OLDEST: Overflow.DROP_OLDEST,
}
COMPRESSION_OF = {
    pb.COMPRESSION_UNSPECIFIED: Compression.NONE,
    pb.COMPRESSION_NONE: Compression.NONE,
    pb.COMPRESSION_SNAPPY: Compression.SNAPPY,
    pb.COMPRESSION_LZ4: Compression.LZ4,
}
TYPE_OF = {
    pb.SUBSCRIPTION_TYPE_UNSPECIFIED: SubscriptionType.PULL,
    pb.SUBSCRIPTION_TYPE_PULL: SubscriptionType.PULL,
    pb.SUBSCRIPTION_TYPE_PUSH: SubscriptionType.PUSH,
}
START_OF = {
    pb.START_POSITION_UNSPECIFIED: StartPosition.LATEST,
    pb.START_POSITION_EARLIEST: StartPosition.EARLIEST,
    pb.START_POSITION_LATEST: StartPosition.LATEST,
}
_OVERFLOW_PB = {value: number for number, value in OVERFLOW_OF.items() if number}
_COMPRESSION_PB = {value: number for number, value in COMPRESSION_OF.items() if number}
_TYPE_PB = {value: number for number, value in TYPE_OF.items() if number}
_START_PB = {value: number for number, value in START_OF.items() if number}
#: Topic settings that take the broker's default when unset.
_TOPIC_OPTIONAL = (
    "partitions",
    "retention_seconds",
    "max_messages",
    "dedup_window_seconds",
    "compression_min_bytes",
)
_SUBSCRIPTION_OPTIONAL = ("ack_deadline_seconds", "durable", "max_in_flight")


def topic_of(spec: pb.Topic) -> Topic:
    """The domain topic a create request describes (validated by ``Topic`` itself)."""
    fields: dict[str, Any] = {name: getattr(spec, name) for name in _given(spec, _TOPIC_OPTIONAL)}
    return Topic(
        name=spec.name,
        overflow=enum_value(OVERFLOW_OF, spec.overflow, "overflow"),
        compression=enum_value(COMPRESSION_OF, spec.compression, "compression"),
        **fields,
    )


def topic_pb(topic: Topic) -> pb.Topic:
    """A topic's settings."""
    return pb.Topic(
        name=topic.name,
        partitions=topic.partitions,
        retention_seconds=topic.retention_seconds,
        max_messages=topic.max_messages,
        overflow=_OVERFLOW_PB[topic.overflow],
        dedup_window_seconds=topic.dedup_window_seconds,
        compression=_COMPRESSION_PB[topic.compression],
        compression_min_bytes=topic.compression_min_bytes,
        create_time=timestamp(topic.created_at),
    )


def topic_description_pb(found: TopicDescription) -> pb.TopicDescription:
    """A topic with its statistics."""
    stats = found.stats
    last = stats.last_publish_at
    return pb.TopicDescription(
        topic=topic_pb(found.topic),
        stats=pb.TopicStats(
            messages=stats.messages,
            bytes=stats.bytes,
            partition_depths=stats.partition_depths,
            publish_count=stats.publish_count,
            last_publish_time=None if last is None else timestamp(last),
        ),
    )


def subscription_of(spec: pb.Subscription) -> Subscription:
    """The domain subscription a create request describes (validated by ``Subscription``)."""
    fields: dict[str, Any] = {
        name: getattr(spec, name) for name in _given(spec, _SUBSCRIPTION_OPTIONAL)
    }
    if spec.HasField("retry_policy"):
        policy = spec.retry_policy
        fields["retry_policy"] = RetryPolicy(
            policy.minimum_backoff_seconds, policy.maximum_backoff_seconds
        )
    endpoint = spec.push_endpoint or None
    if endpoint is not None and not endpoint.startswith(("http://", "https://")):
        raise InvalidSetting("push_endpoint must be an http(s) URL", field="push_endpoint")
    return Subscription(
        name=spec.name,
        topic=spec.topic,
        type=enum_value(TYPE_OF, spec.type, "type"),
        push_endpoint=endpoint,
        max_delivery_attempts=spec.max_delivery_attempts,
        dead_letter_topic=spec.dead_letter_topic or None,
        filter=spec.filter,
        ordered=spec.ordered,
        start=enum_value(START_OF, spec.start, "start"),
        **fields,
    )


def subscription_pb(sub: Subscription) -> pb.Subscription:
    """A subscription's settings."""
    policy = sub.retry_policy
    return pb.Subscription(
        name=sub.name,
        topic=sub.topic,
        type=_TYPE_PB[sub.type],
        push_endpoint=sub.push_endpoint or "",
        ack_deadline_seconds=sub.ack_deadline_seconds,
        retry_policy=pb.RetryPolicy(
            minimum_backoff_seconds=policy.minimum_backoff_seconds,
            maximum_backoff_seconds=policy.maximum_backoff_seconds,
        ),
        max_delivery_attempts=sub.max_delivery_attempts,
        dead_letter_topic=sub.dead_letter_topic or "",
        filter=sub.filter,
        ordered=sub.ordered,
        start=_START_PB[sub.start],
        durable=sub.durable,
        max_in_flight=sub.max_in_flight,
        create_time=timestamp(sub.created_at),
    )


def subscription_description_pb(found: SubscriptionDescription) -> pb.SubscriptionDescription:
    """A subscription with its backlog and group."""
    stats = found.stats
    return pb.SubscriptionDescription(
        subscription=subscription_pb(found.subscription),
        stats=pb.SubscriptionStats(
            backlog=stats.backlog,
            in_flight=stats.in_flight,
            scheduled=stats.scheduled,
            oldest_unacked_age_seconds=stats.oldest_unacked_age_seconds,
        ),
        generation=found.group.generation,
        members=_members(found.group),
    )


def _members(group: GroupState) -> list[pb.Member]:
    return [
        pb.Member(
            member_id=member.id,
            assignment=group.assignment.get(member.id, ()),
            join_time=timestamp(member.joined_at),
            last_heartbeat_time=timestamp(member.last_heartbeat),
        )
        for member in group.members.values()
    ]


def _given(spec: Any, names: tuple[str, ...]) -> list[str]:
    """The optional fields of ``spec`` (a Topic or Subscription) that were set."""
    return [name for name in names if spec.HasField(name)]
