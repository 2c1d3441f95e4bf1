"""Errors only the HTTP edge raises: malformed requests the services never see."""

from __future__ import annotations

from pubsubgo.core.errors import ErrorKind, InvalidArgument, PubSubError


class UnsupportedContentType(InvalidArgument):
    """Raised when a request body is not JSON."""

    code = "unsupported_content_type"

    def __init__(self, content_type: str) -> None:
        super().__init__(
            f"expected a JSON body (Content-Type: application/json), not {content_type!r}"
        )


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
