"""The rules a published message and batch obey (sizes, attributes, times), checked
before anything is stored."""

from __future__ import annotations

import operator
from collections.abc import Mapping, Sequence

from pubsubgo.core.errors import InvalidMessage, MessageTooLarge, TooManyMessages
from pubsubgo.core.limits import Limits
from pubsubgo.core.messages import DeliveryMode, PublishRequest

_DATA = operator.attrgetter("data")


def check_batch(requests: Sequence[PublishRequest], limits: Limits) -> int:
    """Check a batch as a whole; returns its size in bytes.

    Raises:
        InvalidMessage: no message, or an empty one (neither data nor attributes).
        TooManyMessages: over the count limit.
        MessageTooLarge: over the batch size limit.
    """
    if not requests:
        raise InvalidMessage("a publish needs at least one message", field="messages")
    if len(requests) > limits.max_batch_messages:
        raise TooManyMessages(len(requests), limits.max_batch_messages)
    sizes = list(map(len, map(_DATA, requests)))  # C-level loops: once per message
    if not all(sizes):
        _refuse_empty(requests)
    size = sum(sizes)
    if size > limits.max_batch_bytes:
        raise MessageTooLarge(size, limits.max_batch_bytes, what="batch")
    return size


def check_message(
    request: PublishRequest, limits: Limits, now: float, index: int, internal: bool
) -> None:
    """Check the rules of one message (``index`` in its batch) that are not plain data:
    attributes, key, dedup id, delivery mode, times.

    Raises:
        MessageTooLarge: over the message size limit.
        InvalidMessage: a rule is broken (``field`` says where).
    """
    if len(request.data) > limits.max_message_bytes:
        raise MessageTooLarge(len(request.data), limits.max_message_bytes)
    # Most messages set few optional fields: check only those that are set.
    where = f"messages[{index}]"
    if request.attributes and not internal:
        _check_attributes(request.attributes, limits, where)
    if request.key is not None:
        _check_bytes(request.key, limits.max_key_bytes, f"{where}.key")
    if request.dedup_id is not None:
        _check_bytes(request.dedup_id, limits.max_dedup_id_bytes, f"{where}.dedup_id")
    if request.delivery_mode is DeliveryMode.EXACTLY_ONCE and not request.dedup_id:
        raise InvalidMessage(
            f"{where}: exactly_once delivery needs a dedup_id", field=f"{where}.dedup_id"
        )
    if request.ttl_seconds is not None:
        _check_seconds(request.ttl_seconds, limits, f"{where}.ttl_seconds", allow_zero=False)
    if request.delay_seconds is not None:
        _check_seconds(request.delay_seconds, limits, f"{where}.delay_seconds", allow_zero=True)
    if request.deliver_at is not None and request.deliver_at - now > limits.max_delay_seconds:
        raise InvalidMessage(
            f"{where}.deliver_at is more than {limits.max_delay_seconds:.0f} s ahead",
            field=f"{where}.deliver_at",
        )


def _refuse_empty(requests: Sequence[PublishRequest]) -> None:
    """Refuse a message with neither data nor attributes, as Google Pub/Sub does: it says
    nothing, and is most likely a client's mistake (an unset field)."""
    for index, request in enumerate(requests):
        if not request.data and not request.attributes:
            raise InvalidMessage(
                f"messages[{index}] is empty: a message needs data or at least one attribute",
                field=f"messages[{index}].data",
            )


#: Trace context rides in attributes; it does not count against the user's allowance.
_TRACE_ATTRIBUTES = ("traceparent", "tracestate")


def _check_attributes(attributes: Mapping[str, str], limits: Limits, where: str) -> None:
    counted = len(attributes) - sum(name in attributes for name in _TRACE_ATTRIBUTES)
    if counted > limits.max_attributes:
        raise InvalidMessage(
            f"{where}: at most {limits.max_attributes} attributes, not {len(attributes)}",
            field=f"{where}.attributes",
        )
    for key, value in attributes.items():
        if not isinstance(key, str) or not isinstance(value, str) or not key:
            raise InvalidMessage(
                f"{where}: attribute names and values are non-empty strings",
                field=f"{where}.attributes",
            )
        _check_bytes(key, limits.max_attribute_key_bytes, f"{where}.attributes name {key[:32]!r}")
        _check_bytes(value, limits.max_attribute_value_bytes, f"{where}.attributes[{key[:32]!r}]")


def _check_bytes(value: str | None, limit: int, what: str) -> None:
    if value is not None and len(value.encode()) > limit:
        raise InvalidMessage(f"{what} is longer than {limit} bytes", field=what)


def _check_seconds(value: float, limits: Limits, what: str, *, allow_zero: bool) -> None:
    low_ok = value >= 0 if allow_zero else value > 0
    if not low_ok or value > limits.max_delay_seconds:
        bound = "0" if allow_zero else "more than 0"
        raise InvalidMessage(
            f"{what} must be {bound} and at most {limits.max_delay_seconds:.0f}", field=what
        )
