"""Typed results of the client: topics, subscriptions, consumer groups (and messages).

Every result is a frozen dataclass built from the broker's JSON answer; field names are the
JSON names, times are aware datetimes and payloads are bytes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any, Literal

from pubsubgo.client.messages import (
    DeliveryMode,
    Message,
    MessagePage,
    OutgoingMessage,
    Priority,
    ReceivedMessage,
    SettleResult,
    parse_optional_time,
    parse_time,
)

__all__ = [
    "DeliveryMode",
    "Group",
    "Heartbeat",
    "Member",
    "Membership",
    "Message",
    "MessagePage",
    "OutgoingMessage",
    "Priority",
    "ReceivedMessage",
    "RetryPolicy",
    "SettleResult",
    "Subscription",
    "SubscriptionDescription",
    "Topic",
    "TopicDescription",
    "TopicStats",
]

Overflow = Literal["reject", "drop_oldest"]
Compression = Literal["none", "snappy", "lz4"]
StartPosition = Literal["earliest", "latest"]
SubscriptionType = Literal["pull", "push"]


def _pick(cls: type[Any], body: Mapping[str, Any], **converted: Any) -> dict[str, Any]:
    """The constructor arguments of dataclass ``cls``: ``converted`` ones, the rest as is."""
    names = [f.name for f in fields(cls) if f.name not in converted]
    return {name: body[name] for name in names} | converted


@dataclass(frozen=True, slots=True)
class Topic:
    """A topic's settings."""

    name: str
    partitions: int
    retention_seconds: int
    max_messages: int
    overflow: Overflow
    dedup_window_seconds: int
    compression: Compression
    compression_min_bytes: int
    created_at: datetime

    @classmethod
    def from_json(cls, body: Mapping[str, Any]) -> Topic:
        """The topic in a broker answer."""
        return cls(**_topic_fields(body))


def _topic_fields(body: Mapping[str, Any]) -> dict[str, Any]:
    return _pick(Topic, body, created_at=parse_time(body["created_at"]))


@dataclass(frozen=True, slots=True)
class TopicStats:
    """What a topic holds and how fast it moves (rates over the last minute)."""

    topic: str
    messages: int
    bytes: int
    partition_depths: tuple[int, ...]
    publish_count: int
    last_publish_at: datetime | None
    publish_rate_per_second: float
    consume_rate_per_second: float

    @classmethod
    def from_json(cls, body: Mapping[str, Any]) -> TopicStats:
        """The statistics in a broker answer."""
        return cls(
            **_pick(
                cls,
                body,
                partition_depths=tuple(body["partition_depths"]),
                last_publish_at=parse_optional_time(body.get("last_publish_at")),
            )
        )


@dataclass(frozen=True, slots=True)
class TopicDescription(Topic):
    """A topic's settings and statistics (``describe``)."""

    stats: TopicStats

    @classmethod
    def from_json(cls, body: Mapping[str, Any]) -> TopicDescription:
        """The description in a broker answer."""
        return cls(**_topic_fields(body), stats=TopicStats.from_json(body["stats"]))


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Exponential backoff between delivery attempts."""

    minimum_backoff_seconds: float = 1.0
    maximum_backoff_seconds: float = 60.0


@dataclass(frozen=True, slots=True)
class Subscription:
    """A subscription's settings."""

    name: str
    topic: str
    type: SubscriptionType
    push_endpoint: str | None
    ack_deadline_seconds: float
    retry_policy: RetryPolicy
    max_delivery_attempts: int
    dead_letter_topic: str | None
    filter: str
    ordered: bool
    start: StartPosition
    durable: bool
    max_in_flight: int
    created_at: datetime

    @classmethod
    def from_json(cls, body: Mapping[str, Any]) -> Subscription:
        """The subscription in a broker answer."""
        return cls(**_subscription_fields(body))


def _subscription_fields(body: Mapping[str, Any]) -> dict[str, Any]:
    return _pick(
        Subscription,
        body,
        retry_policy=RetryPolicy(**body["retry_policy"]),
        created_at=parse_time(body["created_at"]),
    )


@dataclass(frozen=True, slots=True)
class Member:
    """One consumer in a subscription's group."""

    member_id: str
    joined_at: datetime
    last_heartbeat: datetime
    assignment: tuple[int, ...]

    @classmethod
    def from_json(cls, body: Mapping[str, Any]) -> Member:
        """The member in a broker answer."""
        return cls(
            member_id=body["member_id"],
            joined_at=parse_time(body["joined_at"]),
            last_heartbeat=parse_time(body["last_heartbeat"]),
            assignment=tuple(body["assignment"]),
        )


@dataclass(frozen=True, slots=True)
class SubscriptionDescription(Subscription):
    """A subscription's settings, backlog and group (``describe``).

    Attributes:
        backlog: messages not yet acked: ready, scheduled and in flight.
        in_flight: delivered and not yet acked or taken back.
        scheduled: waiting for a retry backoff or a delay.
        generation: the group's generation (one more per membership change).
    """

    backlog: int
    in_flight: int
    scheduled: int
    oldest_unacked_age_seconds: float
    generation: int
    members: tuple[Member, ...]

    @classmethod
    def from_json(cls, body: Mapping[str, Any]) -> SubscriptionDescription:
        """The description in a broker answer."""
        counters = ("backlog", "in_flight", "scheduled", "oldest_unacked_age_seconds")
        return cls(
            **_subscription_fields(body),
            **{name: body[name] for name in counters},
            generation=body["generation"],
            members=tuple(Member.from_json(m) for m in body["members"]),
        )


@dataclass(frozen=True, slots=True)
class Group:
    """A subscription's consumer group: its generation and members."""

    subscription: str
    generation: int
    members: tuple[Member, ...]


@dataclass(frozen=True, slots=True)
class Membership:
    """A member that joined: who it is, what it owns and how often to heartbeat."""

    member_id: str
    generation: int
    assignment: tuple[int, ...]
    heartbeat_interval_seconds: float
    session_timeout_seconds: float

    @classmethod
    def from_json(cls, body: Mapping[str, Any]) -> Membership:
        """The membership in a join answer."""
        return cls(**_pick(cls, body, assignment=tuple(body["assignment"])))


@dataclass(frozen=True, slots=True)
class Heartbeat:
    """A heartbeat's answer: a changed generation means a rebalance."""

    generation: int
    assignment: tuple[int, ...]

    @classmethod
    def from_json(cls, body: Mapping[str, Any]) -> Heartbeat:
        """The heartbeat in a broker answer."""
        return cls(generation=body["generation"], assignment=tuple(body["assignment"]))
