"""Response bodies of the REST API, and their construction from domain objects (messages
are in ``messages.py``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from datetime import datetime
from typing import Annotated, Any

from msgspec import Meta, Struct

from pubsubgo.core.messages import Compression
from pubsubgo.core.subscriptions import StartPosition, Subscription, SubscriptionType
from pubsubgo.core.topics import Overflow, Topic, TopicStats
from pubsubgo.services.groups import Membership
from pubsubgo.services.subscriptions import SubscriptionDescription
from pubsubgo.services.topics import TopicDescription

from .fields import timestamp
from .messages import MessageView, ReceivedMessage

#: Where the OpenAPI document keeps the error detail's schema.
ERROR_DETAIL_REF = {"$ref": "#/components/schemas/ErrorDetail"}


class Response(Struct, kw_only=True, omit_defaults=False):
    """Base of response bodies: every field always present (null when empty)."""


class ErrorDetail(Struct, kw_only=True, omit_defaults=True):
    """``code`` is stable for programs; ``message`` is for people. Other fields vary by
    error: ``field`` names the bad input, ``position`` a place in a filter, and so on."""

    code: str
    message: str
    field: str | None = None


class ErrorResponse(Response):
    """Every error answer: ``{"error": {"code", "message", ...details}}``."""

    error: ErrorDetail


class RetryPolicyView(Response):
    """Exponential backoff between delivery attempts."""

    minimum_backoff_seconds: float
    maximum_backoff_seconds: float


class TopicView(Response):
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


def topic_view(topic: Topic) -> TopicView:
    """The view of ``topic``."""
    return TopicView(**_topic_fields(topic))


def _topic_fields(topic: Topic) -> dict[str, Any]:
    """The topic's fields as a view takes them: its settings, and when it was created."""
    return {**asdict(topic), "created_at": timestamp(topic.created_at)}


class TopicList(Response):
    """``GET /v1/topics``: pass ``next_page_token`` as ``page_token`` for the next page; null
    on the last one (a page may hold fewer than ``limit`` and still not be the last)."""

    topics: list[TopicView]
    next_page_token: str | None


class TopicStatsView(Response):
    """What a topic holds and how fast it moves (rates over the last minute, this broker)."""

    topic: str
    messages: int
    bytes: int
    partition_depths: list[int]
    publish_count: int
    last_publish_at: datetime | None
    publish_rate_per_second: float
    consume_rate_per_second: float


def topic_stats_view(topic: str, stats: TopicStats, rates: tuple[float, float]) -> TopicStatsView:
    """The view of ``stats``; ``rates`` are (publish, consume) messages per second."""
    last = stats.last_publish_at
    return TopicStatsView(
        topic=topic,
        messages=stats.messages,
        bytes=stats.bytes,
        partition_depths=list(stats.partition_depths),
        publish_count=stats.publish_count,
        last_publish_at=None if last is None else timestamp(last),
        publish_rate_per_second=rates[0],
        consume_rate_per_second=rates[1],
    )


class TopicDescriptionView(TopicView, kw_only=True):
    """``GET /v1/topics/{topic}``: the settings and the statistics."""

    stats: TopicStatsView


def topic_description_view(
    found: TopicDescription, rates: tuple[float, float]
) -> TopicDescriptionView:
    """The view of a described topic."""
    stats = topic_stats_view(found.topic.name, found.stats, rates)
    return TopicDescriptionView(**_topic_fields(found.topic), stats=stats)


class MessageList(Response):
    """``GET /v1/topics/{topic}/messages``: pass ``next_after`` as ``after`` for the next page."""

    messages: list[MessageView]
    next_after: str | None


class PullResponse(Response):
    """``POST /v1/subscriptions/{sub}/pull``."""

    messages: list[ReceivedMessage]


class PublishResponse(Response):
    """``POST /v1/topics/{topic}/messages``: one id per message, in order."""

    ids: Sequence[str]


class AcceptedResponse(Response):
    """``?async=true`` publish: accepted, not yet stored."""

    accepted: int


class AckResponse(Response):
    """``ack``: ``unknown`` lists ack ids not in flight (already settled, expired, refused)."""

    acked: int
    unknown: Sequence[str]


class NackResponse(Response):
    """``nack``."""

    nacked: int
    unknown: Sequence[str]


class ExtendResponse(Response):
    """``extend``."""

    extended: int
    unknown: Sequence[str]


class RedriveResponse(Response):
    """``redrive``: how many dead letters went back to the subscription."""

    moved: int


class SubscriptionView(Response):
    """A subscription's settings."""

    name: str
    topic: str
    type: SubscriptionType
    push_endpoint: str | None
    ack_deadline_seconds: float
    retry_policy: RetryPolicyView
    max_delivery_attempts: int
    dead_letter_topic: str | None
    filter: str
    ordered: bool
    start: StartPosition
    durable: bool
    max_in_flight: int
    max_backlog: int
    overflow: Overflow
    created_at: datetime


def subscription_view(sub: Subscription) -> SubscriptionView:
    """The view of ``sub``."""
    return SubscriptionView(**_subscription_fields(sub))


def _subscription_fields(sub: Subscription) -> dict[str, Any]:
    """The subscription's fields as a view takes them."""
    fields = asdict(sub)
    fields["retry_policy"] = RetryPolicyView(**fields["retry_policy"])
    fields["created_at"] = timestamp(sub.created_at)
    return fields


class SubscriptionList(Response):
    """``GET /v1/subscriptions``: paged as ``TopicList``."""

    subscriptions: list[SubscriptionView]
    next_page_token: str | None


class MemberView(Response):
    """One consumer of a subscription's group."""

    member_id: str
    joined_at: datetime
    last_heartbeat: datetime
    assignment: list[int]


class SubscriptionDescriptionView(SubscriptionView, kw_only=True):
    """``GET /v1/subscriptions/{sub}``: settings, backlog and group."""

    backlog: int
    in_flight: int
    scheduled: int
    oldest_unacked_age_seconds: float
    #: Deliveries per second over the last minute, as seen by this broker process.
    consume_rate_per_second: float
    generation: int
    members: list[MemberView]


def subscription_description_view(
    found: SubscriptionDescription, consume_rate: float = 0.0
) -> SubscriptionDescriptionView:
    """The view of a described subscription; ``consume_rate`` in deliveries per second."""
    stats, group = found.stats, found.group
    members = [
        MemberView(
            member_id=member.id,
            joined_at=timestamp(member.joined_at),
            last_heartbeat=timestamp(member.last_heartbeat),
            assignment=list(group.assignment.get(member.id, ())),
        )
        for member in group.members.values()
    ]
    return SubscriptionDescriptionView(
        **_subscription_fields(found.subscription),
        backlog=stats.backlog,
        in_flight=stats.in_flight,
        scheduled=stats.scheduled,
        oldest_unacked_age_seconds=stats.oldest_unacked_age_seconds,
        consume_rate_per_second=consume_rate,
        generation=group.generation,
        members=members,
    )


class MembershipView(Response):
    """``POST /v1/subscriptions/{sub}/members``: who the member is and what it owns."""

    member_id: str
    generation: int
    assignment: list[int]
    heartbeat_interval_seconds: float
    session_timeout_seconds: float


def membership_view(membership: Membership) -> MembershipView:
    """The view of ``membership``."""
    return MembershipView(
        member_id=membership.member_id,
        generation=membership.generation,
        assignment=list(membership.assignment),
        heartbeat_interval_seconds=membership.heartbeat_interval_seconds,
        session_timeout_seconds=membership.session_timeout_seconds,
    )


class HeartbeatResponse(Response):
    """``POST .../members/{id}/heartbeat``: a changed generation means a rebalance."""

    generation: int
    assignment: list[int]


class HealthResponse(Response):
    """``/healthz`` and ``/readyz``."""

    status: str


class OpenApiDocument(Response):
    """The OpenAPI 3.1 document of this API (its other members as OpenAPI 3.1 says)."""

    openapi: str


class LegacyPublishResponse(Response):
    """``POST /v1/publish/{topic}``."""

    message_id: str
    topic: str


class LegacyFailure(Response):
    """One entry of a legacy batch that was not stored: ``error`` is an :class:`ErrorDetail`
    with the details of its kind."""

    index: int
    error: Annotated[dict[str, Any], Meta(extra_json_schema=ERROR_DETAIL_REF)]


class LegacyBatchResponse(Response):
    """``POST /v1/publish/{topic}/batch``: ids in order, null where ``failed`` says why."""

    topic: str
    message_ids: list[str | None]
    failed: list[LegacyFailure]
