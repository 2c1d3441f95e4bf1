"""How messages look in JSON: stored and delivered, with their data as text or base64.

Times are RFC 3339 in UTC. Message ``data`` is UTF-8 text when the bytes are valid UTF-8,
otherwise base64; ``encoding`` always says which, so a client never has to guess. The same
views are pulled over REST, pushed over WebSocket and posted to push endpoints.
"""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from typing import Any, TypeVar

from msgspec import Struct

from pubsubgo.core.messages import Delivery, DeliveryMode, Message, Priority

from .fields import Encoding


class MessageView(Struct, kw_only=True, omit_defaults=False):
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


class ReceivedMessage(MessageView, kw_only=True):
    """A delivered message with the handle to settle it."""

    ack_id: str
    delivery_attempt: int
    subscription: str
    deadline: datetime


class _LastTimestamp:
    """The datetime of the last time converted: the deliveries of one claim share their
    deadline, so a pull or push batch builds it once instead of once per message."""

    __slots__ = ("last",)

    def __init__(self) -> None:
        self.last: tuple[float, datetime] = (0.0, datetime.fromtimestamp(0.0, UTC))

    def of(self, seconds: float) -> datetime:
        last = self.last  # one read and one write of a tuple: never a torn pair
        if last[0] == seconds:
            return last[1]
        converted = datetime.fromtimestamp(seconds, UTC)
        self.last = (seconds, converted)
        return converted


#: The deadline last written (shared by pulls, WebSocket pushes and push bodies).
_deadlines = _LastTimestamp()


def message_view(message: Message) -> MessageView:
    """The view of a stored message (payload already decompressed)."""
    return MessageView(**_fields(message))


R = TypeVar("R", bound=ReceivedMessage)


def received_message(delivery: Delivery, view: type[R] = ReceivedMessage) -> R:  # type: ignore[assignment]
    """The view of a delivered message (as ``view``, a ReceivedMessage or a subclass of it).
    This runs once per delivered message."""
    return view(
        **_fields(delivery.message),
        ack_id=delivery.ack_id,
        delivery_attempt=delivery.delivery_attempt,
        subscription=delivery.subscription,
        deadline=_deadlines.of(delivery.deadline),
    )


def _fields(message: Message) -> dict[str, Any]:
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
        # A copy, so that no reader of the view can change the stored message; most
        # messages carry none, and a new empty dict is cheaper than copying one.
        "attributes": dict(attributes) if attributes else {},
        "priority": message.priority,
        "delivery_mode": message.delivery_mode,
        "published_at": datetime.fromtimestamp(message.published_at, UTC),
        "expires_at": None if expires is None else datetime.fromtimestamp(expires, UTC),
        "deliver_at": None if deliver is None else datetime.fromtimestamp(deliver, UTC),
        "dedup_id": message.dedup_id,
    }
