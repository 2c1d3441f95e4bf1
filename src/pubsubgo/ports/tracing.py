"""The MessageTracer port: following a message from its publisher to its consumers."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from typing import Protocol

from pubsubgo.core.messages import Delivery, PublishRequest


class MessageTracer(Protocol):
    """Traces publishes and deliveries; the trace context travels in message attributes."""

    def publishing(
        self, topic: str, requests: Sequence[PublishRequest]
    ) -> AbstractContextManager[Sequence[PublishRequest]]:
        """Span the storing of a batch: one PRODUCER span per message.

        The context manager yields the requests to store, each carrying its span's trace
        context in its attributes (``traceparent``), so consumers can continue the trace.
        """
        ...

    def delivered(self, deliveries: Sequence[Delivery]) -> None:
        """Record a CONSUMER span per delivery, in the trace its publisher started."""
        ...
