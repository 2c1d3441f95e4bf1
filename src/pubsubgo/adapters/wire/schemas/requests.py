"""Request models of the REST API (and of WebSocket publish frames).

Requests are strict (no "5" for 5) and refuse unknown fields, so a typo is a 400 rather than
a silently ignored option. Bounds that the domain enforces are repeated here from the same
constants so that the OpenAPI document states them, and rules across fields are written
into each model's JSON Schema (``if``/``then``, ``oneOf``): the document says what the
server accepts, which the fuzz tests check both ways.
"""

from __future__ import annotations

import base64
import binascii
from typing import Annotated, Any, Literal

import orjson
from pydantic import BaseModel, ConfigDict, Field, HttpUrl, PrivateAttr, model_validator

from pubsubgo.core.access import Action
from pubsubgo.core.filters import MAX_FILTER_LENGTH
from pubsubgo.core.limits import Limits
from pubsubgo.core.messages import Compression, DeliveryMode, Priority, PublishRequest
from pubsubgo.core.subscriptions import MAX_ACK_DEADLINE_SECONDS, StartPosition, SubscriptionType
from pubsubgo.core.topics import DEFAULT_RETENTION_SECONDS, MAX_PARTITIONS, Overflow
from pubsubgo.services.acknowledgment import MAX_ACK_IDS
from pubsubgo.services.subscriber import MAX_PULL_MESSAGES, MAX_PULL_WAIT_SECONDS

from .fields import BASE64_REGEX, MAX_JSON_INT, Integer, Name, Timestamp

Encoding = Literal["utf-8", "base64"]
#: The JSON Schema ``format`` of subscription filters: the grammar of ``core/filters``,
#: which a schema cannot state (a fuzzer needs a generator for it).
FILTER_FORMAT = "pubsub-filter"

LIMITS = Limits()
#: The longest TTL or delay a message may ask for.
MAX_DELAY_SECONDS = LIMITS.max_delay_seconds
#: The most messages one WebSocket or group member may hold unacked.
MAX_IN_FLIGHT = 100_000


def when(field: str, value: str, then: dict[str, Any]) -> dict[str, Any]:
    """A JSON Schema rule: if ``field`` is ``value``, the object must also match ``then``."""
    return {"if": {"properties": {field: {"const": value}}, "required": [field]}, "then": then}


def required_string(field: str) -> dict[str, Any]:
    """A JSON Schema rule: ``field`` is present and a non-empty string (not null)."""
    return {"required": [field], "properties": {field: {"type": "string", "minLength": 1}}}


#: An exactly-once message needs a dedup id (core rule, DESIGN §2).
EXACTLY_ONCE_NEEDS_DEDUP_ID = when("delivery_mode", "exactly_once", required_string("dedup_id"))
#: Attribute maps: the publisher's limits (the byte limits of names and values also hold).
Attributes = dict[
    Annotated[str, Field(min_length=1, max_length=LIMITS.max_attribute_key_bytes)],
    Annotated[str, Field(max_length=LIMITS.max_attribute_value_bytes)],
]


class Strict(BaseModel):
    """Base of request models: strict types, unknown fields refused, no NaN or infinity."""

    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False)


class RetryPolicyIn(Strict):
    """Exponential backoff between delivery attempts (minimum at most maximum)."""

    minimum_backoff_seconds: float = Field(1.0, ge=0, le=3600)
    maximum_backoff_seconds: float = Field(60.0, ge=0, le=3600)


class CreateTopic(Strict):
    """``POST /v1/topics``."""

    name: Name
    partitions: Integer = Field(1, ge=1, le=MAX_PARTITIONS)
    retention_seconds: Integer = Field(DEFAULT_RETENTION_SECONDS, gt=0, le=MAX_JSON_INT)
    max_messages: Integer = Field(0, ge=0, le=MAX_JSON_INT, description="0 = unbounded")
    overflow: Overflow = Overflow.REJECT
    dedup_window_seconds: Integer = Field(120, ge=0, le=MAX_JSON_INT)
    compression: Compression = Compression.NONE
    compression_min_bytes: Integer = Field(1024, ge=0, le=MAX_JSON_INT)

    def needs(self) -> list[tuple[Action, str]]:
        """The permissions creating this topic takes."""
        return [(Action.ADMIN, self.name)]


class MessageIn(Strict):
    """One message to publish. ``data`` is UTF-8 text, or base64 with ``encoding: base64``."""

    model_config = ConfigDict(
        json_schema_extra={
            "allOf": [
                when("encoding", "base64", {"properties": {"data": {"pattern": BASE64_REGEX}}}),
                EXACTLY_ONCE_NEEDS_DEDUP_ID,
            ]
        }
    )

    data: str
    encoding: Encoding = "utf-8"
    key: str | None = Field(None, max_length=LIMITS.max_key_bytes)
    attributes: Attributes = Field(default_factory=dict, max_length=LIMITS.max_attributes)
    priority: Priority = Priority.NORMAL
    delivery_mode: DeliveryMode = DeliveryMode.AT_LEAST_ONCE
    ttl_seconds: float | None = Field(None, gt=0, le=MAX_DELAY_SECONDS)
    delay_seconds: float | None = Field(None, ge=0, le=MAX_DELAY_SECONDS)
    #: At most 7 days ahead (the publisher refuses later ones).
    deliver_at: Timestamp | None = None
    dedup_id: str | None = Field(None, max_length=LIMITS.max_dedup_id_bytes)
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


def plain_batch(raw: bytes) -> list[PublishRequest] | None:
    """The messages of a publish body that is exactly ``{"messages": [{"data": "<text>"},
    ...]}``, as :class:`PublishMessages` would give them; None for any other body.

    Most publishes look like this, and reading them with ``orjson`` costs a tenth of the
    model. Anything else (another field, a wrong type, no messages, invalid JSON) returns
    None for ``PublishMessages`` to validate, so that errors keep its wording.
    """
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None
    if type(body) is not dict or len(body) != 1:
        return None
    messages = body.get("messages")
    if type(messages) is not list or not messages:
        return None
    batch = []
    try:
        for message in messages:
            if type(message) is not dict or len(message) != 1:
                return None
            data = message.get("data")
            if type(data) is not str:
                return None
            batch.append(PublishRequest(data.encode()))
    except UnicodeEncodeError:
        # orjson refuses lone surrogates already; should one get through, the model words
        # the refusal as it does for any text that cannot be UTF-8.
        return None
    return batch


class PullRequest(Strict):
    """``POST /v1/subscriptions/{sub}/pull``: waits up to ``wait_seconds`` for a message."""

    max_messages: Integer = Field(100, ge=1, le=MAX_PULL_MESSAGES)
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


def _not_null(field: str) -> dict[str, Any]:
    return {"required": [field], "properties": {field: {"not": {"type": "null"}}}}


class SeekRequest(Strict):
    """``POST /v1/subscriptions/{sub}/seek``: a ``position`` or a ``timestamp``, not both.

    ``timestamp`` is RFC 3339 or seconds since the epoch.
    """

    model_config = ConfigDict(
        json_schema_extra={"oneOf": [_not_null("position"), _not_null("timestamp")]}
    )

    position: StartPosition | None = None
    timestamp: Timestamp | None = None


class CreateSubscription(Strict):
    """``POST /v1/subscriptions``."""

    model_config = ConfigDict(
        json_schema_extra={
            "allOf": [
                when("type", "push", required_string("push_endpoint")),
                {
                    "if": {
                        "properties": {"max_delivery_attempts": {"exclusiveMinimum": 0}},
                        "required": ["max_delivery_attempts"],
                    },
                    "then": required_string("dead_letter_topic"),
                },
            ]
        }
    )

    name: Name
    topic: Name
    type: SubscriptionType = SubscriptionType.PULL
    push_endpoint: HttpUrl | None = None
    ack_deadline_seconds: float = Field(30.0, ge=1, le=MAX_ACK_DEADLINE_SECONDS)
    retry_policy: RetryPolicyIn = Field(default_factory=RetryPolicyIn)
    max_delivery_attempts: Integer = Field(
        0, ge=0, le=MAX_JSON_INT, description="0 = unlimited; needs dead_letter_topic"
    )
    dead_letter_topic: Name | None = None
    filter: str = Field(
        "",
        max_length=MAX_FILTER_LENGTH,
        description="an attribute filter (docs/api.md); empty matches every message",
        json_schema_extra={"format": FILTER_FORMAT},
    )
    ordered: bool = False
    start: StartPosition = StartPosition.LATEST
    durable: bool = True
    max_in_flight: Integer = Field(1000, ge=1, le=MAX_IN_FLIGHT)

    def needs(self) -> list[tuple[Action, str]]:
        """The permissions creating this subscription takes: it will read its topic and may
        publish to its dead-letter topic, which no token may gain by creating one."""
        needs = [(Action.ADMIN, self.name), (Action.SUBSCRIBE, self.topic)]
        if self.dead_letter_topic is not None:
            needs.append((Action.PUBLISH, self.dead_letter_topic))
        return needs


class JoinRequest(Strict):
    """``POST /v1/subscriptions/{sub}/members``: a new member id unless one is given."""

    member_id: str | None = Field(None, min_length=1, max_length=256)


def decode_data(data: str, encoding: Encoding) -> bytes:
    """The bytes ``data`` carries.

    Raises:
        ValueError: ``data`` is not valid base64, or text that cannot be UTF-8 encoded.
    """
    if encoding == "base64":
        # Canonical base64 only, as the document's pattern says: the decoder alone would
        # also take padding past the last group ("AAAA="). These checks cost nothing; the
        # pattern itself would take 40 ms on a 1 MiB payload.
        if len(data) % 4 or data.endswith("==="):
            raise ValueError("data is not valid base64")
        try:
            return base64.b64decode(data, validate=True)
        except (binascii.Error, ValueError):
            raise ValueError("data is not valid base64") from None
    try:
        return data.encode()
    except UnicodeEncodeError:
        raise ValueError("data is not valid UTF-8 text; send it as base64") from None
