"""Request bodies of the REST API (publish messages are shared with WebSocket frames).

Requests are strict (no "5" for 5) and refuse unknown fields, so a typo is a 400 rather than
a silently ignored option. Bounds the domain enforces are repeated here from the same
constants, so that the OpenAPI document states them; rules across fields are checked in
``__post_init__`` and stated in :data:`SCHEMA_RULES` (``if``/``then``, ``oneOf``), which the
document adds to each schema: it says what the server accepts, which the fuzz tests check
both ways.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, TypeVar

from msgspec import Meta, Struct, field
from msgspec.structs import asdict

from pubsubgo.adapters.wire.codec import JsonInteger, RuleBroken
from pubsubgo.core.access import Action
from pubsubgo.core.filters import MAX_FILTER_LENGTH
from pubsubgo.core.messages import (
    Compression,
    DeliveryMode,
    Priority,
    PublishRequest,
    plain_request,
)
from pubsubgo.core.subscriptions import (
    MAX_ACK_DEADLINE_SECONDS,
    RetryPolicy,
    StartPosition,
    Subscription,
    SubscriptionType,
)
from pubsubgo.core.topics import DEFAULT_RETENTION_SECONDS, Overflow, Topic, TopicChanges
from pubsubgo.services.acknowledgment import MAX_ACK_IDS
from pubsubgo.services.subscriber import MAX_PULL_MESSAGES, MAX_PULL_WAIT_SECONDS

from .fields import (
    BASE64_REGEX,
    LIMITS,
    Attributes,
    Count,
    Encoding,
    InFlightLimit,
    Name,
    PartitionCount,
    PositiveCount,
    Timestamp,
    check_http_url,
    decode_data,
    epoch_seconds,
    plain,
)

T = TypeVar("T")

#: The JSON Schema ``format`` of subscription filters: the grammar of ``core/filters``,
#: which a schema cannot state (a fuzzer needs a generator for it).
FILTER_FORMAT = "pubsub-filter"
#: The longest TTL or delay a message may ask for.
MAX_DELAY_SECONDS = LIMITS.max_delay_seconds

Seconds = Annotated[float, Meta(ge=0, le=3600)]


class PullSize(JsonInteger):
    """How many messages one pull may answer."""

    minimum = 1
    maximum = MAX_PULL_MESSAGES


AckIds = Annotated[list[str], Meta(min_length=1, max_length=MAX_ACK_IDS)]
DeadlineSeconds = Annotated[float, Meta(ge=0, le=MAX_ACK_DEADLINE_SECONDS)]


class Strict(Struct, forbid_unknown_fields=True, kw_only=True, omit_defaults=False):
    """Base of request bodies: unknown fields refused; keyword-only fields."""


def when(field_: str, value: str, then: dict[str, Any]) -> dict[str, Any]:
    """A JSON Schema rule: if ``field_`` is ``value``, the object must also match ``then``."""
    return {"if": {"properties": {field_: {"const": value}}, "required": [field_]}, "then": then}


def required_string(field_: str) -> dict[str, Any]:
    """A JSON Schema rule: ``field_`` is present and a non-empty string (not null)."""
    return {"required": [field_], "properties": {field_: {"type": "string", "minLength": 1}}}


#: An exactly-once message needs a dedup id (core rule, DESIGN §2).
EXACTLY_ONCE_NEEDS_DEDUP_ID = when("delivery_mode", "exactly_once", required_string("dedup_id"))


def data_or_attributes(data: str, attributes: str) -> dict[str, Any]:
    """A JSON Schema rule: a message is not empty, it has data or at least one attribute
    (the publisher refuses one with neither, as Google Pub/Sub does)."""
    return {
        "anyOf": [
            {"properties": {data: {"minLength": 1}}},
            {"required": [attributes], "properties": {attributes: {"minProperties": 1}}},
        ]
    }


def checked(field_: str, check: Callable[[T], object], value: T) -> None:
    """Run ``check`` on a field's value, naming the field when it refuses the value."""
    try:
        check(value)
    except ValueError as error:
        raise RuleBroken(field_, str(error)) from None


class RetryPolicyIn(Strict):
    """Exponential backoff between delivery attempts (minimum at most maximum)."""

    minimum_backoff_seconds: Seconds = 1.0
    maximum_backoff_seconds: Seconds = 60.0


class CreateTopic(Strict):
    """``POST /v1/topics``."""

    name: Name
    partitions: PartitionCount = PartitionCount.default(1)
    retention_seconds: PositiveCount = PositiveCount.default(DEFAULT_RETENTION_SECONDS)
    #: 0 = unbounded
    max_messages: Count = Count.default(0)
    overflow: Overflow = Overflow.REJECT
    dedup_window_seconds: Count = Count.default(120)
    compression: Compression = Compression.NONE
    compression_min_bytes: Count = Count.default(1024)

    def needs(self) -> list[tuple[Action, str]]:
        """The permissions creating this topic takes."""
        return [(Action.ADMIN, self.name)]

    def to_topic(self) -> Topic:
        """The domain topic this request describes (its fields are the topic's settings)."""
        return Topic(**plain(asdict(self)))


class UpdateTopic(Strict):
    """``PATCH /v1/topics/{topic}``: the settings to change (the others stay as they are).
    ``partitions`` cannot change: it may only be given with the topic's own count."""

    #: the topic's own count: partitions are fixed
    partitions: PartitionCount | None = None
    retention_seconds: PositiveCount | None = None
    #: 0 = unbounded
    max_messages: Count | None = None
    overflow: Overflow | None = None
    dedup_window_seconds: Count | None = None
    compression: Compression | None = None
    compression_min_bytes: Count | None = None

    def to_changes(self) -> TopicChanges:
        """The changes this request asks for."""
        return TopicChanges(**plain(asdict(self)))


class MessageIn(Strict):
    """One message to publish. ``data`` is UTF-8 text, or base64 with ``encoding: base64``."""

    data: str
    encoding: Encoding = "utf-8"
    key: Annotated[str, Meta(max_length=LIMITS.max_key_bytes)] | None = None
    attributes: Attributes = field(default_factory=dict)
    priority: Priority = Priority.NORMAL
    delivery_mode: DeliveryMode = DeliveryMode.AT_LEAST_ONCE
    ttl_seconds: Annotated[float, Meta(gt=0, le=MAX_DELAY_SECONDS)] | None = None
    delay_seconds: Annotated[float, Meta(ge=0, le=MAX_DELAY_SECONDS)] | None = None
    #: At most 7 days ahead (the publisher refuses later ones).
    deliver_at: Timestamp | None = None
    dedup_id: Annotated[str, Meta(max_length=LIMITS.max_dedup_id_bytes)] | None = None

    def __post_init__(self) -> None:
        # Only what the types cannot say; a plain text message passes both tests at once.
        if self.encoding != "utf-8":
            checked("data", lambda data: decode_data(data, "base64"), self.data)
        if self.deliver_at is not None:
            checked("deliver_at", epoch_seconds, self.deliver_at)
        # An exactly-once message without a dedup id is the publisher's to refuse
        # (invalid_message), as it is for messages from every edge.

    def to_request(self) -> PublishRequest:
        """The message as the publisher service takes it (``to_requests`` builds plain
        text messages itself)."""
        deliver_at = self.deliver_at
        return PublishRequest(
            data=decode_data(self.data, self.encoding),
            key=self.key,
            attributes=self.attributes,
            priority=self.priority,
            delivery_mode=self.delivery_mode,
            ttl_seconds=self.ttl_seconds,
            delay_seconds=self.delay_seconds,
            deliver_at=None if deliver_at is None else epoch_seconds(deliver_at),
            dedup_id=self.dedup_id,
        )


class PublishMessages(Strict):
    """``POST /v1/topics/{topic}/messages``."""

    messages: Annotated[list[MessageIn], Meta(min_length=1)]


def to_requests(messages: list[MessageIn]) -> list[PublishRequest]:
    """The batch as the publisher takes it (which refuses one over the count limit, 413).

    This runs once per published message, so the plain case (UTF-8 text with a priority at
    most, what most messages are) is tested inline rather than by a call per message.
    """
    requests: list[PublishRequest] = []
    add = requests.append
    for m in messages:
        if (
            m.encoding == "utf-8"
            and m.key is None
            and not m.attributes
            and m.dedup_id is None
            and m.ttl_seconds is None
            and m.delay_seconds is None
            and m.deliver_at is None
            and m.delivery_mode is _AT_LEAST_ONCE
        ):
            add(plain_request(m.data.encode(), m.priority))
        else:
            add(m.to_request())
    return requests


_AT_LEAST_ONCE = DeliveryMode.AT_LEAST_ONCE


class PullRequest(Strict):
    """``POST /v1/subscriptions/{sub}/pull``: waits up to ``wait_seconds`` for a message."""

    max_messages: PullSize = PullSize.default(100)
    wait_seconds: Annotated[float, Meta(ge=0, le=MAX_PULL_WAIT_SECONDS)] = 0.0
    member_id: str | None = None


class AckRequest(Strict):
    """``POST /v1/subscriptions/{sub}/ack``."""

    ack_ids: AckIds


class NackRequest(Strict):
    """``POST /v1/subscriptions/{sub}/nack``: redelivered after ``delay_seconds`` or the
    subscription's retry backoff."""

    ack_ids: AckIds
    delay_seconds: DeadlineSeconds | None = None


class ExtendRequest(Strict):
    """``POST /v1/subscriptions/{sub}/extend``: the deadline becomes now + ``seconds``."""

    ack_ids: AckIds
    seconds: DeadlineSeconds


class SeekRequest(Strict):
    """``POST /v1/subscriptions/{sub}/seek``: a ``position`` or a ``timestamp``, not both.

    ``timestamp`` is RFC 3339 or seconds since the epoch.
    """

    position: StartPosition | None = None
    timestamp: Timestamp | None = None

    def __post_init__(self) -> None:
        if (self.position is None) == (self.timestamp is None):
            raise RuleBroken("position", "give either position or timestamp")
        if self.timestamp is not None:
            checked("timestamp", epoch_seconds, self.timestamp)

    @property
    def seconds(self) -> float | None:
        """``timestamp`` as seconds since the epoch."""
        return None if self.timestamp is None else epoch_seconds(self.timestamp)


class CreateSubscription(Strict):
    """``POST /v1/subscriptions``."""

    name: Name
    topic: Name
    type: SubscriptionType = SubscriptionType.PULL
    push_endpoint: (
        Annotated[str, Meta(min_length=1, extra_json_schema={"format": "uri"})] | None
    ) = None
    ack_deadline_seconds: Annotated[float, Meta(ge=1, le=MAX_ACK_DEADLINE_SECONDS)] = 30.0
    retry_policy: RetryPolicyIn = field(default_factory=RetryPolicyIn)
    #: 0 = unlimited; needs dead_letter_topic
    max_delivery_attempts: Count = Count.default(0)
    dead_letter_topic: Name | None = None
    filter: Annotated[
        str,
        Meta(
            max_length=MAX_FILTER_LENGTH,
            description="a filter on attributes and the routing key (docs/api.md); empty matches"
            " every message",
            extra_json_schema={"format": FILTER_FORMAT},
        ),
    ] = ""
    ordered: bool = False
    start: StartPosition = StartPosition.LATEST
    durable: bool = True
    max_in_flight: InFlightLimit = InFlightLimit.default(1000)
    #: 0 = unbounded; the most messages it may hold unsettled
    max_backlog: Count = Count.default(0)
    overflow: Annotated[
        Overflow,
        Meta(description="over max_backlog: reject the publish (429), or skip its oldest"),
    ] = Overflow.REJECT

    def __post_init__(self) -> None:
        if self.push_endpoint is not None:
            checked("push_endpoint", check_http_url, self.push_endpoint)
        if self.type is SubscriptionType.PUSH and not self.push_endpoint:
            raise RuleBroken("push_endpoint", "is required for a push subscription")
        if self.max_delivery_attempts and not self.dead_letter_topic:
            raise RuleBroken("dead_letter_topic", "is required with max_delivery_attempts")

    def needs(self) -> list[tuple[Action, str]]:
        """The permissions creating this subscription takes: it will read its topic and may
        publish to its dead-letter topic, which no token may gain by creating one."""
        needs = [(Action.ADMIN, self.name), (Action.SUBSCRIBE, self.topic)]
        if self.dead_letter_topic is not None:
            needs.append((Action.PUBLISH, self.dead_letter_topic))
        return needs

    def to_subscription(self) -> Subscription:
        """The domain subscription this request describes (its fields are the settings)."""
        retry_policy = RetryPolicy(**asdict(self.retry_policy))
        return Subscription(**{**plain(asdict(self)), "retry_policy": retry_policy})


class JoinRequest(Strict):
    """``POST /v1/subscriptions/{sub}/members``: a new member id unless one is given."""

    member_id: Annotated[str, Meta(min_length=1, max_length=256)] | None = None


def _not_null(field_: str) -> dict[str, Any]:
    return {"required": [field_], "properties": {field_: {"not": {"type": "null"}}}}


#: Rules across fields, added to each schema's JSON Schema (checked in ``__post_init__``).
SCHEMA_RULES: dict[type[Struct], dict[str, Any]] = {
    MessageIn: {
        "allOf": [
            when("encoding", "base64", {"properties": {"data": {"pattern": BASE64_REGEX}}}),
            EXACTLY_ONCE_NEEDS_DEDUP_ID,
            data_or_attributes("data", "attributes"),
        ]
    },
    SeekRequest: {"oneOf": [_not_null("position"), _not_null("timestamp")]},
    CreateSubscription: {
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
    },
}
