"""Request models of the REST API (and of WebSocket publish frames).

Requests are strict (no "5" for 5) and refuse unknown fields, so a typo is a 400 rather than
a silently ignored option. Bounds that the domain enforces are repeated here from the same
constants only so that the OpenAPI document shows them.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any, Literal

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    HttpUrl,
    PrivateAttr,
    model_validator,
)

from pubsubgo.core.messages import Compression, DeliveryMode, Priority, PublishRequest
from pubsubgo.core.subscriptions import MAX_ACK_DEADLINE_SECONDS, StartPosition, SubscriptionType
from pubsubgo.core.topics import DEFAULT_RETENTION_SECONDS, MAX_PARTITIONS, Overflow
from pubsubgo.services.acknowledgment import MAX_ACK_IDS
from pubsubgo.services.subscriber import MAX_PULL_MESSAGES, MAX_PULL_WAIT_SECONDS
from pubsubgo.services.topics import MAX_BROWSE_LIMIT

Encoding = Literal["utf-8", "base64"]


class Strict(BaseModel):
    """Base of request models: strict types, unknown fields refused."""

    model_config = ConfigDict(extra="forbid", strict=True)


class RetryPolicyIn(Strict):
    """Exponential backoff between delivery attempts."""

    minimum_backoff_seconds: float = Field(1.0, ge=0, le=3600)
    maximum_backoff_seconds: float = Field(60.0, ge=0, le=3600)


class CreateTopic(Strict):
    """``POST /v1/topics``."""

    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,248}$")
    partitions: int = Field(1, ge=1, le=MAX_PARTITIONS)
    retention_seconds: int = Field(DEFAULT_RETENTION_SECONDS, gt=0)
    max_messages: int = Field(0, ge=0, description="0 = unbounded")
    overflow: Overflow = Overflow.REJECT
    dedup_window_seconds: int = Field(120, ge=0)
    compression: Compression = Compression.NONE
    compression_min_bytes: int = Field(1024, ge=0)


class MessageIn(Strict):
    """One message to publish. ``data`` is UTF-8 text, or base64 with ``encoding: base64``."""

    data: str
    encoding: Encoding = "utf-8"
    key: str | None = None
    attributes: dict[str, str] = Field(default_factory=dict)
    priority: Priority = Priority.NORMAL
    delivery_mode: DeliveryMode = DeliveryMode.AT_LEAST_ONCE
    ttl_seconds: float | None = Field(None, gt=0)
    delay_seconds: float | None = Field(None, ge=0)
    #: RFC 3339 with an offset, or seconds since the epoch (hence not strict).
    deliver_at: AwareDatetime | None = Field(None, strict=False)
    dedup_id: str | None = None
    _payload: bytes = PrivateAttr(b"")

    @model_validator(mode="after")
    def _decode(self) -> MessageIn:
        self._payload = decode_data(self.data, self.encoding)
        return self

    def to_request(self) -> PublishRequest:
        """The message as the publisher service takes it."""
        return PublishRequest(
            data=self._payload,
            key=self.key,
            attributes=self.attributes,
            priority=self.priority,
            delivery_mode=self.delivery_mode,
            ttl_seconds=self.ttl_seconds,
            delay_seconds=self.delay_seconds,
            deliver_at=None if self.deliver_at is None else self.deliver_at.timestamp(),
            dedup_id=self.dedup_id,
        )


class PublishMessages(Strict):
    """``POST /v1/topics/{topic}/messages``."""

    messages: list[MessageIn] = Field(min_length=1)


class PullRequest(Strict):
    """``POST /v1/subscriptions/{sub}/pull``: waits up to ``wait_seconds`` for a message."""

    max_messages: int = Field(100, ge=1, le=MAX_PULL_MESSAGES)
    wait_seconds: float = Field(0.0, ge=0, le=MAX_PULL_WAIT_SECONDS)
    member_id: str | None = None


class AckRequest(Strict):
    """``POST /v1/subscriptions/{sub}/ack``."""

    ack_ids: list[str] = Field(min_length=1, max_length=MAX_ACK_IDS)


class NackRequest(AckRequest):
    """``POST /v1/subscriptions/{sub}/nack``: redelivered after ``delay_seconds`` or the
    subscription's retry backoff."""

    delay_seconds: float | None = Field(None, ge=0, le=MAX_ACK_DEADLINE_SECONDS)


class ExtendRequest(AckRequest):
    """``POST /v1/subscriptions/{sub}/extend``: the deadline becomes now + ``seconds``."""

    seconds: float = Field(ge=0, le=MAX_ACK_DEADLINE_SECONDS)


class SeekRequest(Strict):
    """``POST /v1/subscriptions/{sub}/seek``: a ``position`` or a ``timestamp``, not both.

    ``timestamp`` is RFC 3339 or seconds since the epoch.
    """

    position: StartPosition | None = None
    timestamp: AwareDatetime | None = Field(None, strict=False)


class CreateSubscription(Strict):
    """``POST /v1/subscriptions``."""

    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,248}$")
    topic: str
    type: SubscriptionType = SubscriptionType.PULL
    push_endpoint: HttpUrl | None = None
    ack_deadline_seconds: float = Field(30.0, ge=1, le=MAX_ACK_DEADLINE_SECONDS)
    retry_policy: RetryPolicyIn = Field(default_factory=RetryPolicyIn)
    max_delivery_attempts: int = Field(0, ge=0, description="0 = unlimited")
    dead_letter_topic: str | None = None
    filter: str = ""
    ordered: bool = False
    start: StartPosition = StartPosition.LATEST
    durable: bool = True
    max_in_flight: int = Field(1000, ge=1)


class JoinRequest(Strict):
    """``POST /v1/subscriptions/{sub}/members``: a new member id unless one is given."""

    member_id: str | None = Field(None, min_length=1, max_length=256)


class BrowseQuery(Strict):
    """Query of ``GET /v1/topics/{topic}/messages``."""

    model_config = ConfigDict(extra="forbid", strict=False)

    after: str | None = None
    limit: int = Field(100, ge=1, le=MAX_BROWSE_LIMIT)


class ForceQuery(Strict):
    """Query of ``DELETE /v1/topics/{topic}``."""

    model_config = ConfigDict(extra="forbid", strict=False)

    force: bool = False


class PublishQuery(Strict):
    """Query of ``POST /v1/topics/{topic}/messages``: ``async=true`` answers 202 at once."""

    model_config = ConfigDict(extra="forbid", strict=False, populate_by_name=True)

    async_: bool = Field(False, alias="async")


class ListSubscriptionsQuery(Strict):
    """Query of ``GET /v1/subscriptions``."""

    model_config = ConfigDict(extra="forbid", strict=False)

    topic: str | None = None


class LegacyMessage(Strict):
    """A PubSubGo client's message: base64 ``payload``; ``headers`` become attributes."""

    payload: str
    key: str | None = None
    headers: dict[str, str] = Field(default_factory=dict)
    priority: Priority = Priority.NORMAL
    delivery_mode: DeliveryMode = DeliveryMode.AT_LEAST_ONCE
    ttl: float | None = Field(None, gt=0, description="seconds")
    dedup_id: str | None = None
    _payload: bytes = PrivateAttr(b"")

    @model_validator(mode="after")
    def _decode(self) -> LegacyMessage:
        self._payload = decode_data(self.payload, "base64")
        return self

    def to_request(self) -> PublishRequest:
        """The message as the publisher service takes it."""
        return PublishRequest(
            data=self._payload,
            key=self.key,
            attributes=self.headers,
            priority=self.priority,
            delivery_mode=self.delivery_mode,
            ttl_seconds=self.ttl,
            dedup_id=self.dedup_id,
        )


class LegacyBatch(Strict):
    """``POST /v1/publish/{topic}/batch`` as documented; entries are validated one by one,
    so that one bad entry fails alone (206)."""

    messages: list[LegacyMessage] = Field(min_length=1)


class RawBatch(Strict):
    """How the legacy batch body is first read: the entries are checked individually."""

    messages: list[dict[str, Any]] = Field(min_length=1)


def decode_data(data: str, encoding: Encoding) -> bytes:
    """The bytes ``data`` carries.

    Raises:
        ValueError: ``data`` is not valid base64, or text that cannot be UTF-8 encoded.
    """
    if encoding == "base64":
        try:
            return base64.b64decode(data, validate=True)
        except (binascii.Error, ValueError):
            raise ValueError("data is not valid base64") from None
    try:
        return data.encode()
    except UnicodeEncodeError:
        raise ValueError("data is not valid UTF-8 text; send it as base64") from None
