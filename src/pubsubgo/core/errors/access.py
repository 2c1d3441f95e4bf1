"""Refusals of a caller: authentication, authorization and configured limits."""

from __future__ import annotations

from pubsubgo.core.errors.base import ErrorKind, PubSubError


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
