"""The PubSubGo clients' publish bodies: base64 ``payload``, ``headers`` as attributes."""

from __future__ import annotations

from typing import Any

from pydantic import ConfigDict, Field, PrivateAttr, model_validator

from pubsubgo.core.messages import DeliveryMode, Priority, PublishRequest

from .fields import BASE64_REGEX
from .requests import (
    EXACTLY_ONCE_NEEDS_DEDUP_ID,
    LIMITS,
    MAX_DELAY_SECONDS,
    Attributes,
    Strict,
    decode_data,
)


class LegacyMessage(Strict):
    """A PubSubGo client's message: base64 ``payload``; ``headers`` become attributes."""

    model_config = ConfigDict(json_schema_extra={"allOf": [EXACTLY_ONCE_NEEDS_DEDUP_ID]})

    payload: str = Field(pattern=BASE64_REGEX)
    key: str | None = Field(None, max_length=LIMITS.max_key_bytes)
    headers: Attributes = Field(default_factory=dict, max_length=LIMITS.max_attributes)
    priority: Priority = Priority.NORMAL
    delivery_mode: DeliveryMode = DeliveryMode.AT_LEAST_ONCE
    ttl: float | None = Field(None, gt=0, le=MAX_DELAY_SECONDS, description="seconds")
    dedup_id: str | None = Field(None, max_length=LIMITS.max_dedup_id_bytes)
    _payload: bytes = PrivateAttr(b"")

    @model_validator(mode="after")
    def _decode(self) -> LegacyMessage:
        self._payload = decode_data(self.payload, "base64")
        return self

    def to_request(self) -> PublishRequest:
        """The message as the publisher service takes it."""
        return PublishRequest(
            data=self._payload,
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

    messages: list[LegacyMessage] = Field(min_length=1)


class RawBatch(Strict):
    """How the legacy batch body is first read: the entries are checked individually."""

    messages: list[dict[str, Any]] = Field(min_length=1)
