"""The hot paths build records as plain tuples; these tests hold them to the fields' names."""

from __future__ import annotations

from pubsubgo.adapters.memory import memory_storage
from pubsubgo.adapters.redis.codec import message_from_entry
from pubsubgo.containers import build_broker
from pubsubgo.core.messages import (
    NO_ATTRIBUTES,
    Compression,
    Delivery,
    DeliveryMode,
    Message,
    MessageDraft,
    MessageId,
    Priority,
    PublishRequest,
    plain_request,
)
from pubsubgo.core.subscriptions import StartPosition, Subscription
from pubsubgo.core.topics import Topic
from pubsubgo.runtime.clock import ManualClock


def test_a_plain_request_is_the_request_of_its_data_and_priority() -> None:
    assert plain_request(b"x", Priority.HIGH) == PublishRequest(b"x", priority=Priority.HIGH)
    assert plain_request(b"y") == PublishRequest(b"y")


def test_a_drafts_fields_are_a_messages_after_its_id_and_topic() -> None:
    assert Message._fields == ("id", "topic", *MessageDraft._fields)


async def test_a_plain_message_is_stored_and_delivered_with_every_field_in_its_place() -> None:
    # Given a broker on the memory backend, with a subscription reading from the start
    clock = ManualClock()
    broker = build_broker(memory_storage(), clock)
    await broker.topics.create(Topic("orders"))
    await broker.subscriptions.create(
        Subscription("billing", "orders", start=StartPosition.EARLIEST, ack_deadline_seconds=30)
    )

    # When a plain message (the publisher's and the claim's tuple-built path) goes through
    [id_] = await broker.publisher.publish("orders", [PublishRequest(b"total 12")])
    [delivery] = await broker.subscriber.pull("billing", max_messages=1)

    # Then every field holds what its name says
    expected = Message(
        id=MessageId(id_),
        topic="orders",
        partition=0,
        data=b"total 12",
        key=None,
        attributes=NO_ATTRIBUTES,
        priority=Priority.NORMAL,
        delivery_mode=DeliveryMode.AT_LEAST_ONCE,
        published_at=clock.now(),
        expires_at=None,
        deliver_at=None,
        dedup_id=None,
        compression=Compression.NONE,
    )
    assert (await broker.topics.message("orders", MessageId(id_))) == expected
    assert delivery == Delivery(
        message=expected,
        ack_id=delivery.ack_id,
        delivery_attempt=1,
        subscription="billing",
        deadline=clock.now() + 30,
    )


def test_a_plain_redis_entry_is_read_with_every_field_in_its_place() -> None:
    # A stream entry with nothing but its n, t and d fields, rank 2 (high) in its id
    flat = [b"n", b"0", b"t", b"1700000000.5", b"d", b"payload"]

    message = message_from_entry("orders", 3, b"1700000000500-6", flat)

    assert message == Message(
        id=MessageId("3-1700000000500-6"),
        topic="orders",
        partition=3,
        data=b"payload",
        key=None,
        attributes={},
        priority=Priority.HIGH,
        delivery_mode=DeliveryMode.AT_LEAST_ONCE,
        published_at=1700000000.5,
        expires_at=None,
        deliver_at=None,
        dedup_id=None,
        compression=Compression.NONE,
    )
