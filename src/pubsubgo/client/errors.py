"""The client's exceptions: every broker refusal and connection failure, with its code.

::

    PubSubClientError               code, status, message, details
    ├── ServerUnreachable           no answer: refused, DNS, timeout, connection lost
    ├── InvalidRequest              400
    ├── Unauthorized                401
    ├── Forbidden                   403
    ├── NotFound                    404
    ├── Conflict                    409
    ├── Gone                        410 (a message past its TTL)
    ├── TooLarge                    413
    ├── RateLimited                 429, with ``retry_after``
    ├── Unavailable                 503 (storage down; retry later)
    ├── ServerError                 any other 5xx
    └── ClientClosed                the client, publisher or stream was already closed

Over HTTP the class follows the status; over the WebSocket, where an ``error`` frame has
no status, it follows the code (``topic_not_found`` -> NotFound, and so on).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class PubSubClientError(Exception):
    """Raised for every failure the client reports.

    Attributes:
        code: the broker's stable error code (``topic_not_found``), or a client-side one
            (``unreachable``, ``client_closed``).
        status: the HTTP status, or None when there was no HTTP answer.
        message: a sentence for people.
        details: the other fields of the broker's error (``topic``, ``field``, ...).
    """

    def __init__(
        self,
        message: str,
        *,
        code: str = "error",
        status: int | None = None,
        details: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.status = status
        self.details: dict[str, Any] = dict(details or {})

    def __str__(self) -> str:
        where = f", HTTP {self.status}" if self.status is not None else ""
        return f"{self.message} ({self.code}{where})"

    def __repr__(self) -> str:
        name = type(self).__name__
        return f"{name}(code={self.code!r}, status={self.status!r}, message={self.message!r})"


class ServerUnreachable(PubSubClientError):
    """Raised when the broker cannot be reached or stops answering.

    ``str()`` reads ``cannot reach http://host:port: connection refused``.
    """

    def __init__(self, url: str, reason: str) -> None:
        super().__init__(f"cannot reach {url}: {reason}", code="unreachable")
        self.url = url
        self.reason = reason

    def __str__(self) -> str:
        return self.message


class InvalidRequest(PubSubClientError):
    """Raised when the broker refuses a malformed or out-of-range request (400)."""


class Unauthorized(PubSubClientError):
    """Raised when the request carries no valid token (401)."""


class Forbidden(PubSubClientError):
    """Raised when the token may not do this (403)."""


class NotFound(PubSubClientError):
    """Raised when a topic, subscription, message or group member does not exist (404)."""


class Conflict(PubSubClientError):
    """Raised when the request clashes with the broker's state (409): a name is taken, a
    topic still has subscriptions."""


class Gone(PubSubClientError):
    """Raised when a message existed but has expired (410)."""


class TooLarge(PubSubClientError):
    """Raised when a message, batch or body is over a limit (413)."""


class RateLimited(PubSubClientError):
    """Raised when a rate limit or a full topic refuses the request (429).

    Attributes:
        retry_after: seconds the broker asks to wait (``Retry-After``), when it said.
    """

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class Unavailable(PubSubClientError):
    """Raised when the broker's storage is unavailable (503); retrying later may succeed.

    Attributes:
        retry_after: seconds the broker asks to wait, when it said.
    """

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class ServerError(PubSubClientError):
    """Raised on any other 5xx: a fault of the broker or of a proxy before it."""


class ClientClosed(PubSubClientError):
    """Raised when a closed client, publisher or stream is used."""

    def __init__(self, what: str) -> None:
        super().__init__(f"the {what} is closed", code="client_closed")


#: The class of each HTTP status the broker answers with.
_BY_STATUS: dict[int, type[PubSubClientError]] = {
    400: InvalidRequest,
    401: Unauthorized,
    403: Forbidden,
    404: NotFound,
    409: Conflict,
    410: Gone,
    413: TooLarge,
    429: RateLimited,
    503: Unavailable,
}
#: Codes whose class cannot be told from their suffix (WebSocket errors carry no status).
_BY_CODE: dict[str, type[PubSubClientError]] = {
    "topic_exists": Conflict,
    "subscription_exists": Conflict,
    "topic_in_use": Conflict,
    "generation_conflict": Conflict,
    "already_subscribed": Conflict,
    "message_expired": Gone,
    "message_too_large": TooLarge,
    "too_many_messages": TooLarge,
    "request_too_large": TooLarge,
    "topic_full": RateLimited,
    "rate_limited": RateLimited,
    "storage_unavailable": Unavailable,
    "unauthenticated": Unauthorized,
    "permission_denied": Forbidden,
    "timeout": Unavailable,
    "too_many_websockets": Unavailable,
    "too_many_subscriptions": RateLimited,
    "internal": ServerError,
}


def error_for_status(
    status: int, body: Any, reason: str, retry_after: str | None = None
) -> PubSubClientError:
    """The exception for an HTTP error answer.

    Args:
        status: the HTTP status (>= 400).
        body: the decoded JSON body, or None when it was not JSON.
        reason: the HTTP reason phrase, used when the body says nothing.
        retry_after: the ``Retry-After`` header, if any.
    """
    code, message, details = _parse_error(body, f"http_{status}", reason or f"HTTP {status}")
    cls = _BY_STATUS.get(status, ServerError if status >= 500 else PubSubClientError)
    return _build(cls, code, message, status, details, _seconds(retry_after))


def error_for_frame(frame: Mapping[str, Any]) -> PubSubClientError:
    """The exception for a WebSocket ``error`` frame (classified by its code)."""
    code = str(frame.get("code", "error"))
    message = str(frame.get("message", code))
    details = {k: v for k, v in frame.items() if k not in ("type", "code", "message")}
    return _build(_class_of_code(code), code, message, None, details, None)


def _class_of_code(code: str) -> type[PubSubClientError]:
    if code in _BY_CODE:
        return _BY_CODE[code]
    if code.endswith("not_found"):
        return NotFound
    if code.startswith("invalid") or code in ("unknown_type", "unsupported_content_type"):
        return InvalidRequest
    return PubSubClientError


def _build(
    cls: type[PubSubClientError],
    code: str,
    message: str,
    status: int | None,
    details: dict[str, Any],
    retry_after: float | None,
) -> PubSubClientError:
    if cls is RateLimited or cls is Unavailable:
        return cls(message, code=code, status=status, details=details, retry_after=retry_after)
    return cls(message, code=code, status=status, details=details)


def _parse_error(body: Any, code: str, message: str) -> tuple[str, str, dict[str, Any]]:
    """``(code, message, details)`` of the ``{"error": {...}}`` shape, or the fallbacks."""
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        return code, message, {}
    details = {k: v for k, v in error.items() if k not in ("code", "message")}
    return str(error.get("code", code)), str(error.get("message", message)), details


def _seconds(header: str | None) -> float | None:
    try:
        return None if header is None else float(header)
    except ValueError:
        return None  # an HTTP date; rare enough that "unknown" is fine
