"""NullTracer: the MessageTracer that traces nothing, for when tracing is off."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager, nullcontext

from pubsubgo.core.messages import Delivery, PublishRequest


class NullTracer:
    """MessageTracer that passes requests through untouched."""

    def publishing(
        self, topic: str, requests: Sequence[PublishRequest]
    ) -> AbstractContextManager[Sequence[PublishRequest]]:
        return nullcontext(requests)

    def delivered(self, deliveries: Sequence[Delivery]) -> None:
        return None
