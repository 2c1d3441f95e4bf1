"""Subscriptions: who receives a topic's messages, and how deliveries are retried."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import NamedTuple

from pubsubgo.core.errors import InvalidSetting
from pubsubgo.core.messages import AckId, MessageId
from pubsubgo.core.names import validate_name
from pubsubgo.core.topics import Overflow

#: DESIGN §2: an ack deadline is 1..600 seconds.
MAX_ACK_DEADLINE_SECONDS = 600


class SubscriptionType(StrEnum):
    """How messages reach the consumers."""

    #: Consumers pull (REST) or hold a WebSocket.
    PULL = "pull"
    #: The broker posts each message to ``push_endpoint`` and acks on a 2xx answer.
    PUSH = "push"


class StartPosition(StrEnum):
    """Where a new subscription starts reading its topic."""

    #: Every message the topic still retains.
    EARLIEST = "earliest"
    #: Only messages published after the subscription was created.
    LATEST = "latest"


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Exponential backoff between delivery attempts."""

    minimum_backoff_seconds: float = 1.0
    maximum_backoff_seconds: float = 60.0

    def __post_init__(self) -> None:
        if not 0 <= self.minimum_backoff_seconds <= self.maximum_backoff_seconds <= 3600:
            raise InvalidSetting(
                "retry_policy needs 0 <= minimum_backoff_seconds <= maximum_backoff_seconds"
                " <= 3600",
                field="retry_policy",
            )

    def backoff(self, failed_attempt: int) -> float:
        """Seconds to wait before redelivering after delivery attempt ``failed_attempt`` failed.

        The first failure waits the minimum; each further failure doubles it, up to the maximum.
        """
        exponent = max(failed_attempt - 1, 0)
        # Cap the exponent so that 2**n stays a small float even after many attempts.
        delay = self.minimum_backoff_seconds * 2.0 ** min(exponent, 32)
        return min(delay, self.maximum_backoff_seconds)


@dataclass(frozen=True, slots=True)
class Subscription:
    """A named stream of a topic's messages for one group of consumers."""

    name: str
    topic: str
    type: SubscriptionType = SubscriptionType.PULL
    push_endpoint: str | None = None
    ack_deadline_seconds: float = 30.0
    retry_policy: RetryPolicy = field(default_factory=RetryPolicy)
    max_delivery_attempts: int = 0
    dead_letter_topic: str | None = None
    filter: str = ""
    ordered: bool = False
    start: StartPosition = StartPosition.LATEST
    durable: bool = True
    max_in_flight: int = 1000
    #: The most messages it may hold unsettled (unread, scheduled and in flight); 0 = no
    #: bound. Unlike a topic's ``max_messages`` (retention) it frees up as consumers ack.
    max_backlog: int = 0
    #: What a publish over ``max_backlog`` does: ``reject`` refuses it
    #: (``subscription_backlog_full``), ``drop_oldest`` skips the subscription's oldest
    #: messages not yet delivered.
    overflow: Overflow = Overflow.REJECT
    created_at: float = 0.0

    def __post_init__(self) -> None:
        validate_name(self.name, "subscription")
        validate_name(self.topic, "topic")
        self._check_delivery_settings()
        if self.type is SubscriptionType.PUSH and not self.push_endpoint:
            raise InvalidSetting("a push subscription needs push_endpoint", field="push_endpoint")

    def _check_delivery_settings(self) -> None:
        if not 1 <= self.ack_deadline_seconds <= MAX_ACK_DEADLINE_SECONDS:
            raise InvalidSetting(
                "ack_deadline_seconds must be 1..600", field="ack_deadline_seconds"
            )
        if self.max_delivery_attempts < 0:
            raise InvalidSetting(
                "max_delivery_attempts must be 0 (unlimited) or more",
                field="max_delivery_attempts",
            )
        if self.max_delivery_attempts and not self.dead_letter_topic:
            # Never a silent drop: after the last attempt a message must have somewhere to go.
            raise InvalidSetting(
                "max_delivery_attempts needs a dead_letter_topic", field="dead_letter_topic"
            )
        if self.dead_letter_topic is not None:
            validate_name(self.dead_letter_topic, "dead-letter topic")
        if self.max_in_flight < 1:
            raise InvalidSetting("max_in_flight must be 1 or more", field="max_in_flight")
        if self.max_backlog < 0:
            raise InvalidSetting("max_backlog must be 0 (unbounded) or more", field="max_backlog")

    def exhausted(self, attempt: int) -> bool:
        """True when delivery ``attempt`` was the last one allowed."""
        return self.max_delivery_attempts > 0 and attempt >= self.max_delivery_attempts


class InFlight(NamedTuple):
    """A delivery awaiting its ack: who holds it and until when (one per message handed out,
    hence a NamedTuple like ``Message``)."""

    ack_id: AckId
    message_id: MessageId
    partition: int
    attempt: int
    deadline: float
    member_id: str | None
    key: str | None
    exactly_once: bool
    published_at: float


@dataclass(frozen=True, slots=True)
class Release:
    """Return an in-flight delivery to its queue, to be delivered again from ``due_at``."""

    ack_id: AckId
    due_at: float


@dataclass(frozen=True, slots=True)
class Redelivery:
    """Put a stored message back in a subscription's queue with ``attempts`` already made."""

    message_id: MessageId
    due_at: float
    attempts: int = 0


@dataclass(frozen=True, slots=True)
class SettleResult:
    """The outcome of acknowledging a set of ack ids."""

    settled: tuple[AckId, ...]
    unknown: tuple[AckId, ...]
    #: When each settled message was published, in the order of ``settled``.
    published_at: tuple[float, ...]


@dataclass(frozen=True, slots=True)
class SubscriptionStats:
    """How far behind a subscription is."""

    backlog: int
    in_flight: int
    scheduled: int
    oldest_unacked_age_seconds: float
