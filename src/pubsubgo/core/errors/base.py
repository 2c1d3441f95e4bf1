"""The root of the error tree, the kinds of failure, and malformed requests."""

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
