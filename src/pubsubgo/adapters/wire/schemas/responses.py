"""Response models of the REST API, and their construction from domain objects (messages
are in ``messages.py``)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict

from pubsubgo.core.messages import Compression
from pubsubgo.core.subscriptions import StartPosition, Subscription, SubscriptionType
from pubsubgo.core.topics import Overflow, Topic, TopicStats
from pubsubgo.services.groups import Membership
from pubsubgo.services.subscriptions import SubscriptionDescription
from pubsubgo.services.topics import TopicDescription

from .messages import MessageView, ReceivedMessage, timestamp
from .requests import RetryPolicyIn


class ErrorDetail(BaseModel):
    """``code`` is stable for programs; ``message`` is for people; other fields vary."""

    model_config = ConfigDict(extra="allow")

    code: str
    message: str


class ErrorResponse(BaseModel):
    """Every error answer: ``{"error": {"code", "message", ...details}}``."""

    error: ErrorDetail


class TopicView(BaseModel):
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
    def of(cls, topic: Topic) -> TopicView:
        """The view of ``topic``."""
        fields = {name: getattr(topic, name) for name in cls.model_fields if name != "created_at"}
        return cls(**fields, created_at=timestamp(topic.created_at))


class TopicList(BaseModel):
    """``GET /v1/topics``."""

    topics: list[TopicView]


class TopicStatsView(BaseModel):
    """What a topic holds and how fast it moves (rates over the last minute, this broker)."""

    topic: str
    messages: int
    bytes: int
    partition_depths: list[int]
    publish_count: int
    last_publish_at: datetime | None
    publish_rate_per_second: float
    consume_rate_per_second: float

    @classmethod
    def of(cls, topic: str, stats: TopicStats, rates: tuple[float, float]) -> TopicStatsView:
        """The view of ``stats``; ``rates`` are (publish, consume) messages per second."""
        last = stats.last_publish_at
        return cls(
            topic=topic,
            messages=stats.messages,
            bytes=stats.bytes,
            partition_depths=list(stats.partition_depths),
            publish_count=stats.publish_count,
            last_publish_at=None if last is None else timestamp(last),
            publish_rate_per_second=rates[0],
            consume_rate_per_second=rates[1],
        )


class TopicDescriptionView(TopicView):
    """``GET /v1/topics/{topic}``: the settings and the statistics."""

    stats: TopicStatsView

    @classmethod
    def describe(cls, found: TopicDescription, rates: tuple[float, float]) -> TopicDescriptionView:
        """The view of a described topic."""
        stats = TopicStatsView.of(found.topic.name, found.stats, rates)
        return cls(**TopicView.of(found.topic).model_dump(), stats=stats)


class MessageList(BaseModel):
    """``GET /v1/topics/{topic}/messages``: pass ``next_after`` as ``after`` for the next page."""

    messages: list[MessageView]
    next_after: str | None


class PullResponse(BaseModel):
    """``POST /v1/subscriptions/{sub}/pull``."""

    messages: list[ReceivedMessage]


class PublishResponse(BaseModel):
    """``POST /v1/topics/{topic}/messages``: one id per message, in order."""

    ids: list[str]


class AcceptedResponse(BaseModel):
    """``?async=true`` publish: accepted, not yet stored."""

    accepted: int


class AckResponse(BaseModel):
    """``ack``: ``unknown`` lists ack ids not in flight (already settled, expired, refused)."""

    acked: int
    unknown: list[str]


class NackResponse(BaseModel):
    """``nack``."""

    nacked: int
    unknown: list[str]


class ExtendResponse(BaseModel):
    """``extend``."""

    extended: int
    unknown: list[str]


class RedriveResponse(BaseModel):
    """``redrive``: how many dead letters went back to the subscription."""

    moved: int


class SubscriptionView(BaseModel):
    """A subscription's settings."""

    name: str
    topic: str
    type: SubscriptionType
    push_endpoint: str | None
    ack_deadline_seconds: float
    retry_policy: RetryPolicyIn
    max_delivery_attempts: int
    dead_letter_topic: str | None
    filter: str
    ordered: bool
    start: StartPosition
    durable: bool
    max_in_flight: int
    created_at: datetime

    @classmethod
    def of(cls, sub: Subscription) -> SubscriptionView:
        """The view of ``sub``."""
        skip = {"created_at", "retry_policy"}
        fields = {name: getattr(sub, name) for name in cls.model_fields if name not in skip}
        policy = sub.retry_policy
        retry = RetryPolicyIn(
            minimum_backoff_seconds=policy.minimum_backoff_seconds,
            maximum_backoff_seconds=policy.maximum_backoff_seconds,
        )
        return cls(**fields, retry_policy=retry, created_at=timestamp(sub.created_at))


class SubscriptionList(BaseModel):
    """``GET /v1/subscriptions``."""

    subscriptions: list[SubscriptionView]


class MemberView(BaseModel):
    """One consumer of a subscription's group."""

    member_id: str
    joined_at: datetime
    last_heartbeat: datetime
    assignment: list[int]


class SubscriptionDescriptionView(SubscriptionView):
    """``GET /v1/subscriptions/{sub}``: settings, backlog and group."""

    backlog: int
    in_flight: int
    scheduled: int
    oldest_unacked_age_seconds: float
    #: Deliveries per second over the last minute, as seen by this broker process.
    consume_rate_per_second: float
    generation: int
    members: list[MemberView]

    @classmethod
    def describe(
        cls, found: SubscriptionDescription, consume_rate: float = 0.0
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
        return cls(
            **SubscriptionView.of(found.subscription).model_dump(),
            backlog=stats.backlog,
            in_flight=stats.in_flight,
            scheduled=stats.scheduled,
            oldest_unacked_age_seconds=stats.oldest_unacked_age_seconds,
            consume_rate_per_second=consume_rate,
            generation=group.generation,
            members=members,
        )


class MembershipView(BaseModel):
    """``POST /v1/subscriptions/{sub}/members``: who the member is and what it owns."""

    member_id: str
    generation: int
    assignment: list[int]
    heartbeat_interval_seconds: float
    session_timeout_seconds: float

    @classmethod
    def of(cls, membership: Membership) -> MembershipView:
        """The view of ``membership``."""
        return cls(
            member_id=membership.member_id,
            generation=membership.generation,
            assignment=list(membership.assignment),
            heartbeat_interval_seconds=membership.heartbeat_interval_seconds,
            session_timeout_seconds=membership.session_timeout_seconds,
        )


class HeartbeatResponse(BaseModel):
    """``POST .../members/{id}/heartbeat``: a changed generation means a rebalance."""

    generation: int
    assignment: list[int]


class HealthResponse(BaseModel):
    """``/healthz`` and ``/readyz``."""

    status: str


class OpenApiDocument(BaseModel):
    """The OpenAPI 3.1 document of this API."""

    model_config = ConfigDict(extra="allow")

    openapi: str


class LegacyPublishResponse(BaseModel):
    """``POST /v1/publish/{topic}``."""

    message_id: str
    topic: str


class LegacyFailure(BaseModel):
    """One entry of a legacy batch that was not stored."""

    index: int
    error: ErrorDetail


class LegacyBatchResponse(BaseModel):
    """``POST /v1/publish/{topic}/batch``: ids in order, null where ``failed`` says why."""

    topic: str
    message_ids: list[str | None]
    failed: list[LegacyFailure]
