"""The broker's error tree.

Every error carries a stable ``code`` (the ``error.code`` of the JSON error shape) and a
``kind`` that the edges map to a status (HTTP, CLI exit code)::

    PubSubError
    ├── InvalidArgument (ValueError)       kind=invalid
    │   ├── InvalidName
    │   ├── InvalidFilter
    │   ├── InvalidMessage
    │   └── InvalidSetting
    ├── TopicError
    │   ├── TopicNotFound                   kind=not_found
    │   ├── TopicAlreadyExists              kind=conflict
    │   ├── TopicInUse                      kind=conflict
    │   └── TopicFull                       kind=exhausted
    ├── SubscriptionError
    │   ├── SubscriptionNotFound            kind=not_found
    │   └── SubscriptionAlreadyExists       kind=conflict
    ├── MessageError
    │   ├── MessageNotFound                 kind=not_found
    │   ├── MessageExpired                  kind=gone
    │   ├── MessageTooLarge                 kind=too_large
    │   └── TooManyMessages                 kind=too_large
    ├── GroupError
    │   ├── MemberNotFound                  kind=not_found
    │   └── GenerationConflict              kind=conflict
    ├── AccessError
    │   ├── Unauthenticated                 kind=unauthenticated
    │   └── PermissionDenied                kind=permission_denied
    ├── LimitError
    │   ├── RateLimited                     kind=exhausted
    │   ├── TooManySubscriptions            kind=exhausted
    │   ├── TooManyWebSockets               kind=unavailable
    │   └── RequestTimeout                  kind=unavailable
    └── BackendError
        └── BackendUnavailable              kind=unavailable
"""

from __future__ import annotations

from enum import StrEnum
from typing import ClassVar


class ErrorKind(StrEnum):
    """What sort of failure an error is, independent of transport."""

    #: The caller sent something malformed or out of range.
    INVALID = "invalid"
    #: A named resource does not exist.
    NOT_FOUND = "not_found"
    #: The request clashes with the current state.
    CONFLICT = "conflict"
    #: The resource existed but is no longer available.
    GONE = "gone"
    #: A size limit was exceeded.
    TOO_LARGE = "too_large"
    #: A capacity or rate limit was reached; retrying later may succeed.
    EXHAUSTED = "exhausted"
    #: Storage or another dependency cannot be reached, or the broker is at capacity.
    UNAVAILABLE = "unavailable"
    #: The caller did not prove who it is (no token, or an unknown one).
    UNAUTHENTICATED = "unauthenticated"
    #: The caller is known but may not do this.
    PERMISSION_DENIED = "permission_denied"


class PubSubError(Exception):
    """Raised for every failure the broker reports to a client."""

    code: ClassVar[str] = "internal"
    kind: ClassVar[ErrorKind] = ErrorKind.INVALID

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def details(self) -> dict[str, object]:
        """Extra fields for the JSON error shape (resource names, positions, limits)."""
        return {}

    def retry_after(self) -> float | None:
        """Seconds the caller should wait before trying again, when the error knows."""
        return None

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r})"


class InvalidArgument(PubSubError, ValueError):
    """Raised when a request carries a malformed or out-of-range value."""

    code = "invalid_argument"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field

    def details(self) -> dict[str, object]:
        return {"field": self.field} if self.field else {}


class InvalidName(InvalidArgument):
    """Raised when a topic or subscription name breaks the naming rule."""

    code = "invalid_name"


class InvalidFilter(InvalidArgument):
    """Raised when a subscription filter expression cannot be parsed."""

    code = "invalid_filter"

    def __init__(self, expression: str, position: int, reason: str) -> None:
        super().__init__(
            f"invalid filter at position {position}: {reason}: {expression!r}", field="filter"
        )
        self.expression = expression
        self.position = position
        self.reason = reason

    def details(self) -> dict[str, object]:
        return {"field": "filter", "position": self.position}


class InvalidMessage(InvalidArgument):
    """Raised when a published message breaks a message rule (attributes, TTL, delay...)."""

    code = "invalid_message"


class InvalidSetting(InvalidArgument):
    """Raised when a topic or subscription setting is out of range."""

    code = "invalid_setting"


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


class GroupError(PubSubError):
    """Base of the errors about a subscription's consumer group."""


class MemberNotFound(GroupError):
    """Raised when a member id is unknown to its group (never joined, left or evicted)."""

    code = "member_not_found"
    kind = ErrorKind.NOT_FOUND

    def __init__(self, subscription: str, member_id: str) -> None:
        super().__init__(f"member {member_id!r} is not in the group of {subscription!r}")
        self.subscription = subscription
        self.member_id = member_id

    def details(self) -> dict[str, object]:
        return {"subscription": self.subscription, "member_id": self.member_id}


class GenerationConflict(GroupError):
    """Raised when a group changed under a writer; the caller re-reads and tries again."""

    code = "generation_conflict"
    kind = ErrorKind.CONFLICT


class AccessError(PubSubError):
    """Base of the refusals of authentication and authorization."""


class Unauthenticated(AccessError):
    """Raised when a request carries no bearer token, or one the broker does not know.

    Attributes:
        invalid: True when a token was given but is not valid (False: none was given).
    """

    code = "unauthenticated"
    kind = ErrorKind.UNAUTHENTICATED

    def __init__(self, *, invalid: bool) -> None:
        super().__init__(
            "the bearer token is not valid"
            if invalid
            else "a bearer token is required (Authorization: Bearer <token>)"
        )
        self.invalid = invalid


class PermissionDenied(AccessError):
    """Raised when a token may not do ``action`` on the topic or subscription ``name``
    (``action`` None: the token holds no permission at all on ``name``)."""

    code = "permission_denied"
    kind = ErrorKind.PERMISSION_DENIED

    def __init__(self, action: str | None, name: str) -> None:
        needed = f"{action!r} permission" if action else "permission"
        super().__init__(f"the token has no {needed} on {name!r}")
        self.action = action
        self.name = name

    def details(self) -> dict[str, object]:
        return {"action": self.action, "name": self.name}


class LimitError(PubSubError):
    """Base of the refusals of a configured limit (``limits.*``, ``server.*``)."""

    kind = ErrorKind.EXHAUSTED


class RateLimited(LimitError):
    """Raised when a token (or a client address) sends requests faster than its rate."""

    code = "rate_limited"

    def __init__(self, retry_after_seconds: float) -> None:
        super().__init__(f"too many requests; retry in {retry_after_seconds:.2f} s")
        self.retry_after_seconds = retry_after_seconds

    def details(self) -> dict[str, object]:
        return {"retry_after_seconds": round(self.retry_after_seconds, 3)}

    def retry_after(self) -> float | None:
        return self.retry_after_seconds


class TooManySubscriptions(LimitError):
    """Raised when a WebSocket subscribes to more subscriptions than one socket may hold."""

    code = "too_many_subscriptions"

    def __init__(self, limit: int) -> None:
        super().__init__(f"a socket holds at most {limit} subscriptions")
        self.limit = limit

    def details(self) -> dict[str, object]:
        return {"limit": self.limit}


class TooManyWebSockets(LimitError):
    """Raised when a WebSocket is opened while the broker holds its maximum of sockets."""

    code = "too_many_websockets"
    kind = ErrorKind.UNAVAILABLE

    def __init__(self, limit: int) -> None:
        super().__init__(
            f"this broker holds its maximum of {limit} WebSockets; retry, or use another replica"
        )
        self.limit = limit

    def details(self) -> dict[str, object]:
        return {"limit": self.limit}


class RequestTimeout(LimitError):
    """Raised when a request is not answered within the server's request timeout; whether
    its work was done is unknown (a publish may have been stored)."""

    code = "timeout"
    kind = ErrorKind.UNAVAILABLE

    def __init__(self, seconds: float) -> None:
        super().__init__(
            f"the request was not answered within {seconds:g} s; its outcome is unknown"
        )
        self.seconds = seconds

    def details(self) -> dict[str, object]:
        return {"timeout_seconds": self.seconds}


class BackendError(PubSubError):
    """Base of the storage failures."""

    kind = ErrorKind.UNAVAILABLE


class BackendUnavailable(BackendError):
    """Raised when storage cannot be reached or did not answer in time."""

    code = "storage_unavailable"
