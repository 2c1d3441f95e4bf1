"""The PubSubGo clients' publish bodies: base64 ``payload``, ``headers`` as attributes."""

from __future__ import annotations

from typing import Annotated, Any

from msgspec import Meta, field

from pubsubgo.core.messages import DeliveryMode, Priority, PublishRequest

from .fields import BASE64_REGEX, LIMITS, Attributes, decode_data
from .requests import (
    EXACTLY_ONCE_NEEDS_DEDUP_ID,
    MAX_DELAY_SECONDS,
    SCHEMA_RULES,
    Strict,
    checked,
    data_or_attributes,
)


class LegacyMessage(Strict):
    """A PubSubGo client's message: base64 ``payload``; ``headers`` become attributes."""

    payload: Annotated[str, Meta(pattern=BASE64_REGEX)]
    key: Annotated[str, Meta(max_length=LIMITS.max_key_bytes)] | None = None
    headers: Attributes = field(default_factory=dict)
    priority: Priority = Priority.NORMAL
    delivery_mode: DeliveryMode = DeliveryMode.AT_LEAST_ONCE
    ttl: Annotated[float, Meta(gt=0, le=MAX_DELAY_SECONDS, description="seconds")] | None = None
    dedup_id: Annotated[str, Meta(max_length=LIMITS.max_dedup_id_bytes)] | None = None

    def __post_init__(self) -> None:
        checked("payload", lambda payload: decode_data(payload, "base64"), self.payload)

    def to_request(self) -> PublishRequest:
        """The message as the publisher service takes it."""
        return PublishRequest(
            data=decode_data(self.payload, "base64"),
            key=self.key,
            attributes=self.headers,
            priority=self.priority,
            delivery_mode=self.delivery_mode,
            ttl_seconds=self.ttl,
            dedup_id=self.dedup_id,
        )


class LegacyBatch(Strict):
    """``POST /v1/publish/{topic}/batch`` as documented; entries are validated one by one,
    so that one bad entry fails alone (206)."""

    messages: Annotated[list[LegacyMessage], Meta(min_length=1)]


class RawBatch(Strict):
    """How the legacy batch body is first read: the entries are checked individually."""

    messages: Annotated[list[dict[str, Any]], Meta(min_length=1)]


SCHEMA_RULES[LegacyMessage] = {
    "allOf": [EXACTLY_ONCE_NEEDS_DEDUP_ID, data_or_attributes("payload", "headers")]
}
