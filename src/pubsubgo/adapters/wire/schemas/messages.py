"""How messages look in JSON: stored and delivered, with their data as text or base64.

Times are RFC 3339 in UTC. Message ``data`` is UTF-8 text when the bytes are valid UTF-8,
otherwise base64; ``encoding`` always says which, so a client never has to guess. The same
views are pulled over REST, pushed over WebSocket and posted to push endpoints.
"""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from typing import TypeVar

from msgspec import Struct

from pubsubgo.core.messages import Delivery, DeliveryMode, Message, Priority

from .fields import Encoding


class MessageView(Struct, omit_defaults=False, gc=False):
    """A stored message. (Views hold no reference cycles, so the garbage collector need not
    track them: cheaper to build, once per message.)"""

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


class ReceivedMessage(MessageView, gc=False):
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
    return MessageView(*_fields(message))


R = TypeVar("R", bound=ReceivedMessage)


def received_message(delivery: Delivery, view: type[R] = ReceivedMessage) -> R:  # type: ignore[assignment]
    """The view of a delivered message (as ``view``, a ReceivedMessage or a subclass of it).
    This runs once per delivered message: the fields go in by position."""
    return view(
        *_fields(delivery.message),
        delivery.ack_id,
        delivery.delivery_attempt,
        delivery.subscription,
        _deadlines.of(delivery.deadline),
    )


#: :class:`MessageView`'s fields in order: typed, so that mypy checks each position.
ViewFields = tuple[
    str,
    str,
    int,
    str | None,
    str,
    Encoding,
    dict[str, str],
    Priority,
    DeliveryMode,
    datetime,
    datetime | None,
    datetime | None,
    str | None,
]


def _fields(message: Message) -> ViewFields:
    """A message's fields in :class:`MessageView`'s order."""
    data, attributes = message.data, message.attributes
    try:
        text, encoding = data.decode(), _UTF8
    except UnicodeDecodeError:
        text, encoding = base64.b64encode(data).decode("ascii"), _BASE64
    expires, deliver = message.expires_at, message.deliver_at
    return (
        message.id,
        message.topic,
        message.partition,
        message.key,
        text,
        encoding,
        # A copy, so that no reader of the view can change the stored message; most
        # messages carry none, and a new empty dict is cheaper than copying one.
        dict(attributes) if attributes else {},
        message.priority,
        message.delivery_mode,
        _timestamp(message.published_at, UTC),
        None if expires is None else _timestamp(expires, UTC),
        None if deliver is None else _timestamp(deliver, UTC),
        message.dedup_id,
    )


_timestamp = datetime.fromtimestamp
_UTF8: Encoding = "utf-8"
_BASE64: Encoding = "base64"
