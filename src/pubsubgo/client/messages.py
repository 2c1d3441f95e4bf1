"""Messages as the client sends and receives them: frozen dataclasses and their JSON form."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

Priority = Literal["low", "normal", "high", "critical"]
DeliveryMode = Literal["at_most_once", "at_least_once", "exactly_once"]


def parse_time(value: Any) -> datetime:
    """An RFC 3339 time of the broker (``...Z``) as an aware datetime."""
    return datetime.fromisoformat(str(value))


def parse_optional_time(value: Any) -> datetime | None:
    """Like :func:`parse_time`, with None for a missing time."""
    return None if value is None else parse_time(value)


def decode_data(text: str, encoding: str) -> bytes:
    """The bytes a JSON ``data`` field carries (UTF-8 text, or base64)."""
    if encoding == "base64":
        try:
            return base64.b64decode(text, validate=True)
        except (binascii.Error, ValueError):
            return text.encode()  # the broker always sends valid base64; be lenient anyway
    return text.encode()


def encode_data(data: bytes | str) -> dict[str, str]:
    """``data`` as JSON fields: text when it is valid UTF-8, base64 otherwise."""
    if isinstance(data, str):
        return {"data": data}
    try:
        return {"data": data.decode()}
    except UnicodeDecodeError:
        return {"data": base64.b64encode(data).decode("ascii"), "encoding": "base64"}


@dataclass(frozen=True, slots=True)
class Message:
    """A stored message, as ``GET /v1/topics/{topic}/messages`` returns it.

    Attributes:
        data: the payload bytes (``text`` decodes them).
        expires_at: when the TTL runs out, if it has one.
        deliver_at: when a delayed message becomes deliverable.
    """

    id: str
    topic: str
    partition: int
    key: str | None
    data: bytes
    attributes: Mapping[str, str]
    priority: Priority
    delivery_mode: DeliveryMode
    published_at: datetime
    expires_at: datetime | None
    deliver_at: datetime | None
    dedup_id: str | None

    @property
    def text(self) -> str:
        """The payload as text (invalid UTF-8 replaced)."""
        return self.data.decode(errors="replace")

    @classmethod
    def from_json(cls, body: Mapping[str, Any]) -> Message:
        """The message in a broker answer."""
        return cls(**message_fields(body))


@dataclass(frozen=True, slots=True)
class ReceivedMessage(Message):
    """A delivered message with its handle (``ack_id``) for ack, nack and extend.

    Attributes:
        delivery_attempt: 1 on the first delivery, then one more per redelivery.
        deadline: when the broker takes it back unless it is acked or extended.
    """

    ack_id: str
    delivery_attempt: int
    subscription: str
    deadline: datetime

    @classmethod
    def from_json(cls, body: Mapping[str, Any]) -> ReceivedMessage:
        """The delivered message in a pull answer or a WebSocket ``message`` frame."""
        return cls(**received_fields(body))


def message_fields(body: Mapping[str, Any]) -> dict[str, Any]:
    """The constructor arguments of :class:`Message` from its JSON form."""
    return {
        "id": body["id"],
        "topic": body["topic"],
        "partition": body["partition"],
        "key": body.get("key"),
        "data": decode_data(body["data"], body.get("encoding", "utf-8")),
        "attributes": dict(body.get("attributes") or {}),
        "priority": body.get("priority", "normal"),
        "delivery_mode": body.get("delivery_mode", "at_least_once"),
        "published_at": parse_time(body["published_at"]),
        "expires_at": parse_optional_time(body.get("expires_at")),
        "deliver_at": parse_optional_time(body.get("deliver_at")),
        "dedup_id": body.get("dedup_id"),
    }


def received_fields(body: Mapping[str, Any]) -> dict[str, Any]:
    """The constructor arguments of :class:`ReceivedMessage` from its JSON form."""
    return {
        **message_fields(body),
        "ack_id": body["ack_id"],
        "delivery_attempt": body["delivery_attempt"],
        "subscription": body["subscription"],
        "deadline": parse_time(body["deadline"]),
    }


@dataclass(frozen=True, slots=True)
class OutgoingMessage:
    """A message to publish. Only ``data`` is required; None leaves the broker's default.

    Attributes:
        data: bytes (sent as text when valid UTF-8, base64 otherwise) or text.
        key: messages with the same key go to the same partition, in order.
        attributes: string metadata (subscription filters match on it).
        ttl_seconds: never delivered after this long.
        delay_seconds: not delivered before this long.
        deliver_at: not delivered before this time (aware datetime).
        dedup_id: a second publish with this id inside the topic's window stores nothing.
    """

    data: bytes | str
    key: str | None = None
    attributes: Mapping[str, str] = field(default_factory=dict)
    priority: Priority | None = None
    delivery_mode: DeliveryMode | None = None
    ttl_seconds: float | None = None
    delay_seconds: float | None = None
    deliver_at: datetime | None = None
    dedup_id: str | None = None

    def to_json(self) -> dict[str, Any]:
        """The ``messages[]`` entry of a publish request."""
        body: dict[str, Any] = encode_data(self.data)
        if self.attributes:
            body["attributes"] = dict(self.attributes)
        optional = {
            "key": self.key,
            "priority": self.priority,
            "delivery_mode": self.delivery_mode,
            "ttl_seconds": self.ttl_seconds,
            "delay_seconds": self.delay_seconds,
            "deliver_at": None if self.deliver_at is None else self.deliver_at.isoformat(),
            "dedup_id": self.dedup_id,
        }
        body.update({name: value for name, value in optional.items() if value is not None})
        return body

    @property
    def size(self) -> int:
        """Roughly the bytes this message adds to a request (payload, key, attributes)."""
        data = self.data if isinstance(self.data, bytes) else self.data.encode()
        extra = sum(len(k) + len(v) for k, v in self.attributes.items())
        return len(data) + len(self.key or "") + extra


@dataclass(frozen=True, slots=True)
class MessagePage:
    """One page of browsed messages; pass ``next_after`` as ``after`` for the next one."""

    messages: tuple[Message, ...]
    next_after: str | None


@dataclass(frozen=True, slots=True)
class SettleResult:
    """The answer to ack, nack or extend.

    Attributes:
        count: how many ack ids were settled (or extended).
        unknown: ack ids the broker no longer holds in flight (already settled, or their
            deadline passed and the message will be redelivered).
    """

    count: int
    unknown: tuple[str, ...]

    @classmethod
    def from_json(cls, body: Mapping[str, Any], count_key: str) -> SettleResult:
        """The result in an ack/nack/extend answer, whose count is under ``count_key``."""
        return cls(count=int(body[count_key]), unknown=tuple(body.get("unknown", ())))
