"""Messages: what a publisher sends, what the broker stores, and what a consumer receives.

The records made once per message (``PublishRequest``, ``MessageDraft``, ``Message``,
``Delivery``) are ``NamedTuple``s: immutable like the frozen dataclasses elsewhere, but
about four times cheaper to build, which matters on a path that handles hundreds of
thousands per second.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from types import MappingProxyType
from typing import NamedTuple, NewType

#: Assigned by the broker: ``"{partition}-{position}"``; the position increases within a
#: partition and its form belongs to the storage backend.
MessageId = NewType("MessageId", str)
#: Names one delivery of one message to one subscription; opaque to clients.
AckId = NewType("AckId", str)


class Priority(StrEnum):
    """How urgently a message should be delivered; higher goes first within a partition."""

    #: Delivered after every other ready message of its partition.
    LOW = "low"
    #: The default.
    NORMAL = "normal"
    #: Delivered before normal and low messages.
    HIGH = "high"
    #: Delivered before everything else.
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        """0 for low up to 3 for critical."""
        return _PRIORITY_RANK[self]


_PRIORITY_RANK = {Priority.LOW: 0, Priority.NORMAL: 1, Priority.HIGH: 2, Priority.CRITICAL: 3}
#: Priorities from the most to the least urgent, the order in which lanes are read.
PRIORITIES_BY_URGENCY = (Priority.CRITICAL, Priority.HIGH, Priority.NORMAL, Priority.LOW)


class DeliveryMode(StrEnum):
    """The delivery guarantee a publisher asks for."""

    #: Acknowledged as it is delivered: never redelivered, may be lost with the consumer.
    AT_MOST_ONCE = "at_most_once"
    #: Redelivered until acknowledged (the default).
    AT_LEAST_ONCE = "at_least_once"
    #: Needs a ``dedup_id``; an ack is confirmed or refused (after the deadline), never lost.
    EXACTLY_ONCE = "exactly_once"


class Compression(StrEnum):
    """How a payload is compressed at rest."""

    #: Stored as sent.
    NONE = "none"
    #: Google's snappy: fast, moderate ratio.
    SNAPPY = "snappy"
    #: LZ4 frames: fast, moderate ratio.
    LZ4 = "lz4"


def message_id(partition: int, position: str | int) -> MessageId:
    """Build the id of the message at ``position`` in ``partition``."""
    return MessageId(f"{partition}-{position}")


def partition_of(message_id: str) -> int | None:
    """The partition a message id names, or None when the id is malformed."""
    head, sep, _ = message_id.partition("-")
    return int(head) if sep and head.isdigit() else None


#: The attributes of a message that has none (read-only, so it can be shared).
NO_ATTRIBUTES: Mapping[str, str] = MappingProxyType({})


class PublishRequest(NamedTuple):
    """One message as a publisher sends it, before the broker validates and stores it.

    A tuple, like the drafts and messages it becomes (see the module's docstring).
    """

    data: bytes
    key: str | None = None
    attributes: Mapping[str, str] = NO_ATTRIBUTES
    priority: Priority = Priority.NORMAL
    delivery_mode: DeliveryMode = DeliveryMode.AT_LEAST_ONCE
    ttl_seconds: float | None = None
    delay_seconds: float | None = None
    deliver_at: float | None = None
    dedup_id: str | None = None


def plain_request(data: bytes, priority: Priority = Priority.NORMAL) -> PublishRequest:
    """A request of data and priority alone, every other field at its default: most
    publishes are such, and building the tuple directly skips the NamedTuple's Python-level
    ``__new__`` (``tests/unit/test_record_layout.py`` holds it to the field names)."""
    return _new_tuple(PublishRequest, (data, None, NO_ATTRIBUTES, priority, *_PLAIN_REST))


_new_tuple = tuple.__new__
#: A plain request's fields after its priority, at their defaults.
_PLAIN_REST = (DeliveryMode.AT_LEAST_ONCE, None, None, None, None)


class MessageDraft(NamedTuple):
    """A validated message on its way into storage: everything but its id and topic.

    The fields are ``Message``'s after ``id`` and ``topic``, in the same order.
    """

    partition: int
    data: bytes
    key: str | None
    attributes: Mapping[str, str]
    priority: Priority
    delivery_mode: DeliveryMode
    published_at: float
    expires_at: float | None
    deliver_at: float | None
    dedup_id: str | None
    compression: Compression = Compression.NONE

    def stored(self, topic: str, id: MessageId) -> Message:
        """The message as storage keeps it once ``id`` is assigned."""
        return Message(id, topic, *self)


class Message(NamedTuple):
    """A stored message. ``data`` is as stored: compressed when ``compression`` says so."""

    id: MessageId
    topic: str
    partition: int
    data: bytes
    key: str | None
    attributes: Mapping[str, str]
    priority: Priority
    delivery_mode: DeliveryMode
    published_at: float
    expires_at: float | None = None
    deliver_at: float | None = None
    dedup_id: str | None = None
    compression: Compression = Compression.NONE

    def is_expired(self, now: float) -> bool:
        """True once the message's TTL has run out; expired messages are never delivered."""
        return self.expires_at is not None and now >= self.expires_at

    def is_due(self, now: float) -> bool:
        """True once a delayed message may be delivered."""
        return self.deliver_at is None or now >= self.deliver_at


# Hot paths build a Message as ``tuple.__new__(Message, (id, topic) + draft)``: that is
# right only while a draft's fields are a message's after its id and topic. Checked here,
# once, so that reordering either record fails at import rather than mislabelling fields.
if Message._fields != ("id", "topic", *MessageDraft._fields):
    raise TypeError("MessageDraft's fields must be Message's after id and topic, in order")


class Delivery(NamedTuple):
    """A message handed to a consumer of a subscription, with the handle to settle it."""

    message: Message
    ack_id: AckId
    delivery_attempt: int
    subscription: str
    deadline: float
