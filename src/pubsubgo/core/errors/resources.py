"""Errors about one topic, subscription or stored message."""

from __future__ import annotations

from pubsubgo.core.errors.base import ErrorKind, PubSubError


class TopicError(PubSubError):
    """Base of the errors about one topic; ``topic`` names it."""

    def __init__(self, topic: str, message: str) -> None:
        super().__init__(message)
        self.topic = topic

    def details(self) -> dict[str, object]:
        return {"topic": self.topic}


class TopicNotFound(TopicError):
    """Raised when a topic that does not exist is used."""

    code = "topic_not_found"
    kind = ErrorKind.NOT_FOUND

    def __init__(self, topic: str) -> None:
        super().__init__(topic, f"topic {topic!r} does not exist")


class TopicAlreadyExists(TopicError):
    """Raised when creating a topic whose name is taken."""

    code = "topic_exists"
    kind = ErrorKind.CONFLICT

    def __init__(self, topic: str) -> None:
        super().__init__(topic, f"topic {topic!r} already exists")


class TopicInUse(TopicError):
    """Raised when deleting a topic that still has subscriptions, without ``force``."""

    code = "topic_in_use"
    kind = ErrorKind.CONFLICT

    def __init__(self, topic: str, subscriptions: int) -> None:
        super().__init__(
            topic, f"topic {topic!r} has {subscriptions} subscription(s); delete with force"
        )


class TopicFull(TopicError):
    """Raised when a publish would exceed ``max_messages`` on a topic with overflow ``reject``."""

    code = "topic_full"
    kind = ErrorKind.EXHAUSTED

    def __init__(self, topic: str, max_messages: int) -> None:
        super().__init__(topic, f"topic {topic!r} holds its maximum of {max_messages} messages")
        self.max_messages = max_messages

    def details(self) -> dict[str, object]:
        return {"topic": self.topic, "max_messages": self.max_messages}


class SubscriptionError(PubSubError):
    """Base of the errors about one subscription; ``subscription`` names it."""

    def __init__(self, subscription: str, message: str) -> None:
        super().__init__(message)
        self.subscription = subscription

    def details(self) -> dict[str, object]:
        return {"subscription": self.subscription}


class SubscriptionNotFound(SubscriptionError):
    """Raised when a subscription that does not exist is used."""

    code = "subscription_not_found"
    kind = ErrorKind.NOT_FOUND

    def __init__(self, subscription: str) -> None:
        super().__init__(subscription, f"subscription {subscription!r} does not exist")


class SubscriptionAlreadyExists(SubscriptionError):
    """Raised when creating a subscription whose name is taken."""

    code = "subscription_exists"
    kind = ErrorKind.CONFLICT

    def __init__(self, subscription: str) -> None:
        super().__init__(subscription, f"subscription {subscription!r} already exists")


class SubscriptionBacklogFull(SubscriptionError):
    """Raised when a publish would take a subscription with overflow ``reject`` over its
    ``max_backlog``: nothing of the batch is stored. It frees up as the subscription's
    consumers ack."""

    code = "subscription_backlog_full"
    kind = ErrorKind.EXHAUSTED

    def __init__(self, subscription: str, max_backlog: int) -> None:
        super().__init__(
            subscription,
            f"subscription {subscription!r} holds its maximum backlog of {max_backlog}"
            " messages; publish again once its consumers have acked some",
        )
        self.max_backlog = max_backlog

    def details(self) -> dict[str, object]:
        return {"subscription": self.subscription, "max_backlog": self.max_backlog}


class MessageError(PubSubError):
    """Base of the errors about one stored message."""

    def __init__(self, topic: str, message_id: str, message: str) -> None:
        super().__init__(message)
        self.topic = topic
        self.message_id = message_id

    def details(self) -> dict[str, object]:
        return {"topic": self.topic, "id": self.message_id}


class MessageNotFound(MessageError):
    """Raised when a message id is not (or no longer) stored in its topic."""

    code = "message_not_found"
    kind = ErrorKind.NOT_FOUND

    def __init__(self, topic: str, message_id: str) -> None:
        super().__init__(topic, message_id, f"message {message_id!r} not found in {topic!r}")


class MessageExpired(MessageError):
    """Raised when a message is fetched after its TTL has run out."""

    code = "message_expired"
    kind = ErrorKind.GONE

    def __init__(self, topic: str, message_id: str) -> None:
        super().__init__(topic, message_id, f"message {message_id!r} in {topic!r} has expired")


class MessageTooLarge(PubSubError):
    """Raised when a message or batch exceeds a size limit."""

    code = "message_too_large"
    kind = ErrorKind.TOO_LARGE

    def __init__(self, size: int, limit: int, what: str = "message") -> None:
        super().__init__(f"{what} of {size} bytes exceeds the limit of {limit} bytes")
        self.size = size
        self.limit = limit

    def details(self) -> dict[str, object]:
        return {"size": self.size, "limit": self.limit}


class TooManyMessages(PubSubError):
    """Raised when a publish carries more messages than one batch may hold."""

    code = "too_many_messages"
    kind = ErrorKind.TOO_LARGE

    def __init__(self, count: int, limit: int) -> None:
        super().__init__(f"a batch holds at most {limit} messages, not {count}")
        self.count = count
        self.limit = limit

    def details(self) -> dict[str, object]:
        return {"count": self.count, "limit": self.limit}
