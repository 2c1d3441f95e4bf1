"""The error shape every edge answers with, the HTTP status of each kind of error, and the
errors only edges raise (malformed requests the services never see)."""

from __future__ import annotations

from typing import Any

from pubsubgo.core.errors import ErrorKind, InvalidArgument, PubSubError, TooManyMessages

__all__ = [
    "STATUS_BY_KIND",
    "MetricsDisabled",
    "OriginNotAllowed",
    "TooManyMessages",
    "UndecodableBody",
    "UnsupportedContentEncoding",
    "UnsupportedContentType",
    "error_body",
]

#: DESIGN §3: the HTTP status of each kind of domain error.
STATUS_BY_KIND = {
    ErrorKind.INVALID: 400,
    ErrorKind.NOT_FOUND: 404,
    ErrorKind.CONFLICT: 409,
    ErrorKind.GONE: 410,
    ErrorKind.TOO_LARGE: 413,
    ErrorKind.EXHAUSTED: 429,
    ErrorKind.UNAVAILABLE: 503,
    ErrorKind.UNAUTHENTICATED: 401,
    ErrorKind.PERMISSION_DENIED: 403,
}


def error_body(code: str, message: str, **details: Any) -> dict[str, Any]:
    """The JSON error shape: ``{"error": {"code", "message", ...details}}``."""
    return {"error": {"code": code, "message": message, **details}}


class UnsupportedContentType(InvalidArgument):
    """Raised when a request body is not JSON."""

    code = "unsupported_content_type"

    def __init__(self, content_type: str) -> None:
        super().__init__(
            f"expected a JSON body (Content-Type: application/json), not {content_type!r}"
        )


class UnsupportedContentEncoding(InvalidArgument):
    """Raised when a request body comes in a Content-Encoding the broker does not decode."""

    code = "unsupported_content_encoding"

    def __init__(self, encoding: str, supported: str) -> None:
        super().__init__(
            f"Content-Encoding {encoding!r} is not one the broker decodes ({supported})"
        )


class UndecodableBody(InvalidArgument):
    """Raised when a request body is not what its Content-Encoding says (a gzip body that
    is not gzip)."""

    code = "undecodable_body"

    def __init__(self, encoding: str) -> None:
        super().__init__(f"the body could not be decoded as its Content-Encoding {encoding!r}")


class OriginNotAllowed(PubSubError):
    """Raised when a browser page of another site opens a WebSocket or an event stream:
    its ``Origin`` is neither this broker's nor one of ``server.allowed_origins``."""

    code = "origin_not_allowed"
    kind = ErrorKind.PERMISSION_DENIED

    def __init__(self, origin: str) -> None:
        super().__init__(f"origin {origin!r} may not open this stream (server.allowed_origins)")
        self.origin = origin

    def details(self) -> dict[str, object]:
        return {"origin": self.origin}


class MetricsDisabled(PubSubError):
    """Raised when ``/metrics`` is asked for while metrics are disabled."""

    code = "metrics_disabled"
    kind = ErrorKind.NOT_FOUND

    def __init__(self) -> None:
        super().__init__("metrics are disabled (metrics.enabled / PUBSUB_METRICS_ENABLED)")
