"""Errors only the HTTP edge raises: malformed requests the services never see."""

from __future__ import annotations

from pubsubgo.core.errors import ErrorKind, InvalidArgument, PubSubError, TooManyMessages

__all__ = ["MetricsDisabled", "TooManyMessages", "UnsupportedContentType"]


class UnsupportedContentType(InvalidArgument):
    """Raised when a request body is not JSON."""

    code = "unsupported_content_type"

    def __init__(self, content_type: str) -> None:
        super().__init__(
            f"expected a JSON body (Content-Type: application/json), not {content_type!r}"
        )


class MetricsDisabled(PubSubError):
    """Raised when ``/metrics`` is asked for while metrics are disabled."""

    code = "metrics_disabled"
    kind = ErrorKind.NOT_FOUND

    def __init__(self) -> None:
        super().__init__("metrics are disabled (metrics.enabled / PUBSUB_METRICS_ENABLED)")
