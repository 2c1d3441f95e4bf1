"""How messages look in JSON: stored and delivered, with their data as text or base64.

Times are RFC 3339 in UTC. Message ``data`` is UTF-8 text when the bytes are valid UTF-8,
otherwise base64; ``encoding`` always says which, so a client never has to guess. The field
builders are shared with the WebSocket frames and push bodies.
"""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel

from pubsubgo.core.messages import Delivery, DeliveryMode, Message, Priority

from .requests import Encoding


class MessageView(BaseModel):
    """A stored message."""

    id: str
    topic: str
    partition: int
    key: str | None
    data: str
    encoding: Encoding
    attributes: dict[str, str]
    priority: Priority
    delivery_mode: DeliveryMode
    published_at: datetime
    expires_at: datetime | None
    deliver_at: datetime | None
    dedup_id: str | None

    @classmethod
    def of(cls, message: Message) -> MessageView:
        """The view of ``message`` (payload already decompressed)."""
        return cls(**message_fields(message))


class ReceivedMessage(MessageView):
    """A delivered message with the handle to settle it."""

    ack_id: str
    delivery_attempt: int
    subscription: str
    deadline: datetime

    @classmethod
    def of_delivery(cls, delivery: Delivery) -> ReceivedMessage:
        """The view of ``delivery``."""
        return cls(**delivery_fields(delivery))


def timestamp(seconds: float) -> datetime:
    """Seconds since the epoch as an aware UTC datetime."""
    return datetime.fromtimestamp(seconds, UTC)


class _LastTimestamp:
    """The datetime of the last time converted: the deliveries of one claim share their
    deadline, so a pull or push batch builds it once instead of once per message."""

    __slots__ = ("last",)

    def __init__(self) -> None:
        self.last: tuple[float, datetime] = (0.0, timestamp(0.0))

    def of(self, seconds: float) -> datetime:
        last = self.last  # one read and one write of a tuple: never a torn pair
        if last[0] == seconds:
            return last[1]
        converted = datetime.fromtimestamp(seconds, UTC)
        self.last = (seconds, converted)
        return converted


#: The deadline last written (shared by the pull route, WebSocket pushes and push bodies).
_deadlines = _LastTimestamp()


def encode_data(data: bytes) -> tuple[str, Encoding]:
    """``data`` as JSON text: itself when valid UTF-8, otherwise base64."""
    try:
        return data.decode(), "utf-8"
    except UnicodeDecodeError:
        return base64.b64encode(data).decode("ascii"), "base64"


def message_fields(message: Message) -> dict[str, Any]:
    """The JSON fields of a stored message (shared with WebSocket and push bodies).

    Times are aware datetimes, which pydantic and ``orjson`` (with ``OPT_UTC_Z``) both
    write as RFC 3339 with a ``Z``. This runs once per delivered message, hence the inlined
    conversions.
    """
    data, attributes = message.data, message.attributes
    try:
        text, encoding = data.decode(), "utf-8"
    except UnicodeDecodeError:
        text, encoding = base64.b64encode(data).decode("ascii"), "base64"
    expires, deliver = message.expires_at, message.deliver_at
    return {
        "id": message.id,
        "topic": message.topic,
        "partition": message.partition,
        "key": message.key,
        "data": text,
        "encoding": encoding,
        # A copy, so that no reader of the fields can change the stored message; most
        # messages carry none, and a new empty dict is cheaper than copying one.
        "attributes": dict(attributes) if attributes else {},
        "priority": message.priority,
        "delivery_mode": message.delivery_mode,
        "published_at": datetime.fromtimestamp(message.published_at, UTC),
        "expires_at": None if expires is None else datetime.fromtimestamp(expires, UTC),
        "deliver_at": None if deliver is None else datetime.fromtimestamp(deliver, UTC),
        "dedup_id": message.dedup_id,
    }


def delivery_fields(delivery: Delivery) -> dict[str, Any]:
    """The JSON fields of a delivered message."""
    fields = message_fields(delivery.message)
    fields["ack_id"] = delivery.ack_id
    fields["delivery_attempt"] = delivery.delivery_attempt
    fields["subscription"] = delivery.subscription
    fields["deadline"] = _deadlines.of(delivery.deadline)
    return fields
