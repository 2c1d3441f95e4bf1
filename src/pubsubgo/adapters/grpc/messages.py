"""Messages between protobuf and the domain: what a publisher sends, what a consumer gets.

These run once per message, so the common case (a message with data only) takes a short
path and enum values are looked up in dictionaries.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, TypeVar

from google.protobuf.timestamp_pb2 import Timestamp

from pubsubgo.adapters.grpc.generated import pubsub_pb2 as pb
from pubsubgo.core.errors import InvalidArgument
from pubsubgo.core.messages import (
    NO_ATTRIBUTES,
    Delivery,
    DeliveryMode,
    Message,
    Priority,
    PublishRequest,
)

T = TypeVar("T")

#: Protobuf enum numbers -> domain values; 0 (unspecified) is the domain's default.
PRIORITY_OF = {
    pb.PRIORITY_UNSPECIFIED: Priority.NORMAL,
    pb.PRIORITY_LOW: Priority.LOW,
    pb.PRIORITY_NORMAL: Priority.NORMAL,
    pb.PRIORITY_HIGH: Priority.HIGH,
    pb.PRIORITY_CRITICAL: Priority.CRITICAL,
}
MODE_OF = {
    pb.DELIVERY_MODE_UNSPECIFIED: DeliveryMode.AT_LEAST_ONCE,
    pb.DELIVERY_MODE_AT_MOST_ONCE: DeliveryMode.AT_MOST_ONCE,
    pb.DELIVERY_MODE_AT_LEAST_ONCE: DeliveryMode.AT_LEAST_ONCE,
    pb.DELIVERY_MODE_EXACTLY_ONCE: DeliveryMode.EXACTLY_ONCE,
}
_PRIORITY_PB = {value: number for number, value in PRIORITY_OF.items() if number}
_MODE_PB = {value: number for number, value in MODE_OF.items() if number}


def enum_value(table: Mapping[Any, T], number: int, field: str) -> T:
    """The domain value of protobuf enum ``number``.

    Raises:
        InvalidArgument: a number the enum does not define (proto3 enums are open).
    """
    found = table.get(number)
    if found is None:
        raise InvalidArgument(f"{field}: unknown value {number}", field=field)
    return found


def timestamp(seconds: float) -> Timestamp:
    """Seconds since the epoch as a protobuf Timestamp."""
    whole = int(seconds // 1)
    return Timestamp(seconds=whole, nanos=int((seconds - whole) * 1e9))


def seconds_of(stamp: Timestamp) -> float:
    """A protobuf Timestamp as seconds since the epoch."""
    return stamp.seconds + stamp.nanos / 1e9


def publish_requests(messages: Sequence[pb.OutgoingMessage]) -> list[PublishRequest]:
    """The batch as the publisher takes it (which checks sizes, TTLs and attributes)."""
    requests = []
    for index, message in enumerate(messages):
        # Data alone (the common case) is at most one set field.
        if len(message.ListFields()) <= 1:
            requests.append(PublishRequest(message.data))
        else:
            requests.append(_request(message, f"messages[{index}]"))
    return requests


def _request(message: pb.OutgoingMessage, where: str) -> PublishRequest:
    has = message.HasField
    return PublishRequest(
        data=message.data,
        key=message.key if has("key") else None,
        attributes=dict(message.attributes) if message.attributes else NO_ATTRIBUTES,
        priority=enum_value(PRIORITY_OF, message.priority, f"{where}.priority"),
        delivery_mode=enum_value(MODE_OF, message.delivery_mode, f"{where}.delivery_mode"),
        ttl_seconds=message.ttl_seconds if has("ttl_seconds") else None,
        delay_seconds=message.delay_seconds if has("delay_seconds") else None,
        deliver_at=seconds_of(message.deliver_time) if has("deliver_time") else None,
        dedup_id=message.dedup_id if has("dedup_id") else None,
    )


def message_pb(message: Message) -> pb.Message:
    """A stored message (payload already decompressed)."""
    expires, deliver = message.expires_at, message.deliver_at
    return pb.Message(
        id=message.id,
        topic=message.topic,
        partition=message.partition,
        key=message.key,
        data=message.data,
        attributes=dict(message.attributes) if message.attributes else None,
        priority=_PRIORITY_PB[message.priority],
        delivery_mode=_MODE_PB[message.delivery_mode],
        publish_time=timestamp(message.published_at),
        expire_time=None if expires is None else timestamp(expires),
        deliver_time=None if deliver is None else timestamp(deliver),
        dedup_id=message.dedup_id,
    )


def received_pb(delivery: Delivery) -> pb.ReceivedMessage:
    """A delivered message with its ack id."""
    return pb.ReceivedMessage(
        message=message_pb(delivery.message),
        ack_id=delivery.ack_id,
        delivery_attempt=delivery.delivery_attempt,
        subscription=delivery.subscription,
        deadline=timestamp(delivery.deadline),
    )
