"""The gRPC answers of the broker as the client's own models (the same as over REST), and
gRPC failures as the client's exceptions."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from google.protobuf.timestamp_pb2 import Timestamp
from grpc import aio

from pubsubgo.adapters.grpc.generated import pubsub_pb2 as pb
from pubsubgo.client.errors import PubSubClientError, ServerUnreachable, error_for_frame
from pubsubgo.client.messages import Message, OutgoingMessage, ReceivedMessage, SettleResult
from pubsubgo.client.models import (
    Member,
    RetryPolicy,
    Subscription,
    SubscriptionDescription,
    Topic,
    TopicDescription,
    TopicStats,
)

#: The broker's error code in a refusal's trailing metadata (adapters/grpc/status.py).
ERROR_CODE_KEY = "pubsubgo-error-code"
_PRIORITY = {"low": 1, "normal": 2, "high": 3, "critical": 4}
_MODE = {"at_most_once": 1, "at_least_once": 2, "exactly_once": 3}
#: REST spellings -> protobuf enum numbers, per enum.
ENUMS: dict[str, dict[str, int]] = {
    "overflow": {"reject": pb.OVERFLOW_REJECT, "drop_oldest": pb.OVERFLOW_DROP_OLDEST},
    "compression": {
        "none": pb.COMPRESSION_NONE, "snappy": pb.COMPRESSION_SNAPPY, "lz4": pb.COMPRESSION_LZ4
    },
    "type": {"pull": pb.SUBSCRIPTION_TYPE_PULL, "push": pb.SUBSCRIPTION_TYPE_PUSH},
    "start": {"earliest": pb.START_POSITION_EARLIEST, "latest": pb.START_POSITION_LATEST},
    "priority": _PRIORITY,
    "delivery_mode": _MODE,
}  # fmt: skip
_NAMES = {enum: {number: name for name, number in table.items()} for enum, table in ENUMS.items()}


def enum_number(enum: str, name: str | None) -> int:
    """The protobuf number of ``name`` (None: 0, the broker's default)."""
    return 0 if name is None else ENUMS[enum][name]


def enum_name(enum: str, number: int, default: str) -> str:
    """The REST spelling of protobuf enum ``number`` (0: ``default``)."""
    return _NAMES[enum].get(number, default)


def when(stamp: Timestamp) -> datetime:
    """A protobuf Timestamp as an aware UTC datetime."""
    return datetime.fromtimestamp(stamp.seconds + stamp.nanos / 1e9, UTC)


def outgoing(message: OutgoingMessage | bytes | str) -> pb.OutgoingMessage:
    """A message to publish, as protobuf."""
    if not isinstance(message, OutgoingMessage):
        message = OutgoingMessage(message)
    data = message.data.encode() if isinstance(message.data, str) else message.data
    deliver = None
    if message.deliver_at is not None:
        deliver = Timestamp()
        deliver.FromDatetime(message.deliver_at)
    mode = message.delivery_mode
    return pb.OutgoingMessage(
        data=data, key=message.key, attributes=dict(message.attributes) or None,
        priority=pb.Priority.ValueType(enum_number("priority", message.priority)),
        delivery_mode=pb.DeliveryMode.ValueType(enum_number("delivery_mode", mode)),
        ttl_seconds=message.ttl_seconds, delay_seconds=message.delay_seconds,
        deliver_time=deliver, dedup_id=message.dedup_id,
    )  # fmt: skip


def message(found: pb.Message) -> Message:
    return Message(**_message_fields(found))


def received(found: pb.ReceivedMessage) -> ReceivedMessage:
    return ReceivedMessage(**received_fields(found))


def received_fields(found: pb.ReceivedMessage) -> dict[str, Any]:
    """The constructor arguments of :class:`ReceivedMessage`."""
    return _message_fields(found.message) | {
        "ack_id": found.ack_id,
        "delivery_attempt": found.delivery_attempt,
        "subscription": found.subscription,
        "deadline": when(found.deadline),
    }


def _message_fields(found: pb.Message) -> dict[str, Any]:
    has = found.HasField
    return {
        "id": found.id, "topic": found.topic, "partition": found.partition,
        "key": found.key if has("key") else None, "data": found.data,
        "attributes": dict(found.attributes),
        "priority": enum_name("priority", found.priority, "normal"),
        "delivery_mode": enum_name("delivery_mode", found.delivery_mode, "at_least_once"),
        "published_at": when(found.publish_time),
        "expires_at": when(found.expire_time) if has("expire_time") else None,
        "deliver_at": when(found.deliver_time) if has("deliver_time") else None,
        "dedup_id": found.dedup_id if has("dedup_id") else None,
    }  # fmt: skip


def topic(found: pb.Topic) -> Topic:
    return Topic(**_topic_fields(found))


def _topic_fields(found: pb.Topic) -> dict[str, Any]:
    return {
        "name": found.name, "partitions": found.partitions,
        "retention_seconds": found.retention_seconds, "max_messages": found.max_messages,
        "overflow": enum_name("overflow", found.overflow, "reject"),
        "dedup_window_seconds": found.dedup_window_seconds,
        "compression": enum_name("compression", found.compression, "none"),
        "compression_min_bytes": found.compression_min_bytes,
        "created_at": when(found.create_time),
    }  # fmt: skip


def topic_description(found: pb.TopicDescription) -> TopicDescription:
    """The description (rates are a REST statistic: 0 over gRPC)."""
    stats = found.stats
    last = when(stats.last_publish_time) if stats.HasField("last_publish_time") else None
    return TopicDescription(
        **_topic_fields(found.topic),
        stats=TopicStats(
            topic=found.topic.name, messages=stats.messages, bytes=stats.bytes,
            partition_depths=tuple(stats.partition_depths),
            publish_count=stats.publish_count, last_publish_at=last,
            publish_rate_per_second=0.0, consume_rate_per_second=0.0,
        ),
    )  # fmt: skip


def subscription(found: pb.Subscription) -> Subscription:
    return Subscription(**_subscription_fields(found))


def _subscription_fields(found: pb.Subscription) -> dict[str, Any]:
    policy = found.retry_policy
    return {
        "name": found.name, "topic": found.topic,
        "type": enum_name("type", found.type, "pull"),
        "push_endpoint": found.push_endpoint or None,
        "ack_deadline_seconds": found.ack_deadline_seconds,
        "retry_policy": RetryPolicy(policy.minimum_backoff_seconds, policy.maximum_backoff_seconds),
        "max_delivery_attempts": found.max_delivery_attempts,
        "dead_letter_topic": found.dead_letter_topic or None, "filter": found.filter,
        "ordered": found.ordered, "start": enum_name("start", found.start, "latest"),
        "durable": found.durable, "max_in_flight": found.max_in_flight,
        "created_at": when(found.create_time),
    }  # fmt: skip


def subscription_description(found: pb.SubscriptionDescription) -> SubscriptionDescription:
    stats = found.stats
    members = tuple(
        Member(m.member_id, when(m.join_time), when(m.last_heartbeat_time), tuple(m.assignment))
        for m in found.members
    )
    return SubscriptionDescription(
        **_subscription_fields(found.subscription),
        backlog=stats.backlog, in_flight=stats.in_flight, scheduled=stats.scheduled,
        oldest_unacked_age_seconds=stats.oldest_unacked_age_seconds,
        generation=found.generation, members=members,
    )  # fmt: skip


def settled(found: pb.SettleResponse) -> SettleResult:
    return SettleResult(count=found.count, unknown=tuple(found.unknown_ack_ids))


def client_error(error: aio.AioRpcError, target: str) -> PubSubClientError:
    """The client exception of a failed call: by the broker's code when it gave one."""
    trailers = dict(error.trailing_metadata() or ())
    code = trailers.get(ERROR_CODE_KEY)
    if code is None:
        if error.code().name in ("UNAVAILABLE", "DEADLINE_EXCEEDED"):
            return ServerUnreachable(target, error.details() or error.code().name.lower())
        code = error.code().name.lower()
    text = code if isinstance(code, str) else code.decode()
    return error_for_frame({"code": text, "message": error.details() or text})
