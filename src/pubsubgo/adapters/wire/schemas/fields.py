"""Field types and checks the schemas share, each stating its bounds for the JSON Schema."""

from __future__ import annotations

import base64
import binascii
import math
import re
from datetime import UTC, datetime
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from msgspec import Meta

from pubsubgo.adapters.wire.codec import JsonInteger
from pubsubgo.core.limits import Limits
from pubsubgo.core.names import NAME_PATTERN
from pubsubgo.core.topics import MAX_PARTITIONS

#: The largest integer every JSON parser reads exactly (JavaScript's MAX_SAFE_INTEGER): the
#: ceiling of counts that have no smaller natural bound.
MAX_JSON_INT = 2**53 - 1
#: 9999-12-31T23:59:59Z: the last second a date-time can name.
MAX_EPOCH_SECONDS = 253_402_300_799
#: A topic or subscription name (DESIGN §2), as a JSON Schema pattern.
NAME_REGEX = f"^{NAME_PATTERN.pattern}$"
#: Canonical base64 with padding, which ``base64.b64decode(validate=True)`` accepts.
BASE64_REGEX = r"^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$"
#: A message id: ``<partition>-<position>`` (the Redis backend's positions hold a dash).
MESSAGE_ID_REGEX = r"^[0-9]{1,3}-[0-9]{1,20}(?:-[0-9]{1,20})?$"
#: The most messages one WebSocket or group member may hold unacked.
MAX_IN_FLIGHT = 100_000
#: The longest URL a push endpoint may be (what browsers and most servers take).
MAX_URL_LENGTH = 2083

LIMITS = Limits()

Encoding = Literal["utf-8", "base64"]

#: A topic or subscription name.
Name = Annotated[str, Meta(pattern=NAME_REGEX, max_length=249)]


class Count(JsonInteger):
    """A count with no natural ceiling but JSON's exact integers."""

    minimum = 0
    maximum = MAX_JSON_INT


class PositiveCount(JsonInteger):
    """A count of at least one."""

    minimum = 1
    maximum = MAX_JSON_INT


class PartitionCount(JsonInteger):
    """A topic's partitions (DESIGN §2)."""

    minimum = 1
    maximum = MAX_PARTITIONS


class InFlightLimit(JsonInteger):
    """The most messages one WebSocket or group member may hold unacked."""

    minimum = 1
    maximum = MAX_IN_FLIGHT


def plain(fields: dict[str, Any]) -> dict[str, Any]:
    """``fields`` with every integer a plain ``int``, for the domain records: storage
    drivers take exact ints."""
    return {k: int(v) if isinstance(v, JsonInteger) else v for k, v in fields.items()}


#: Echoed in answers, so bounded to what JSON encoders write: a 64-bit integer or a string
#: of up to 256 characters.
RequestId = Annotated[int, Meta(ge=-(2**63), le=2**63 - 1)] | Annotated[str, Meta(max_length=256)]
#: Attribute names and values (the publisher checks their byte sizes too).
AttributeName = Annotated[str, Meta(min_length=1, max_length=LIMITS.max_attribute_key_bytes)]
AttributeValue = Annotated[str, Meta(max_length=LIMITS.max_attribute_value_bytes)]
Attributes = Annotated[dict[AttributeName, AttributeValue], Meta(max_length=LIMITS.max_attributes)]

#: A point in time: RFC 3339 with an offset, or seconds since the epoch.
Timestamp = Annotated[
    Annotated[datetime, Meta(extra_json_schema={"format": "date-time"})]
    | Annotated[float, Meta(ge=0, le=MAX_EPOCH_SECONDS)],
    Meta(description="RFC 3339 with an offset, or seconds since the epoch"),
]


def epoch_seconds(value: datetime | float) -> float:
    """A :data:`Timestamp` as seconds since the epoch.

    Raises:
        ValueError: a date-time without an offset, or seconds out of range.
    """
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("needs an offset, e.g. 2024-05-01T12:00:00Z")
        return value.timestamp()
    if not (math.isfinite(value) and 0 <= value <= MAX_EPOCH_SECONDS):
        raise ValueError(f"must be 0..{MAX_EPOCH_SECONDS} seconds since the epoch")
    return value


def timestamp(seconds: float) -> datetime:
    """Seconds since the epoch as an aware UTC datetime (written as RFC 3339 with a Z)."""
    return datetime.fromtimestamp(seconds, UTC)


def decode_data(data: str, encoding: Encoding) -> bytes:
    """The bytes ``data`` carries.

    Raises:
        ValueError: ``data`` is not valid base64, or text that cannot be UTF-8 encoded.
    """
    if encoding == "base64":
        # Canonical base64 only, as the document's pattern says: the decoder alone would
        # also take padding past the last group ("AAAA="). These checks cost nothing; the
        # pattern itself would take 40 ms on a 1 MiB payload.
        if len(data) % 4 or data.endswith("==="):
            raise ValueError("is not valid base64")
        try:
            return base64.b64decode(data, validate=True)
        except (binascii.Error, ValueError):
            raise ValueError("is not valid base64") from None
    try:
        return data.encode()
    except UnicodeEncodeError:
        raise ValueError("is not valid UTF-8 text; send it as base64") from None


def check_http_url(url: str) -> str:
    """``url`` when it is an absolute http(s) URL with a host.

    Raises:
        ValueError: it is not.
    """
    if len(url) > MAX_URL_LENGTH:
        raise ValueError(f"must have at most {MAX_URL_LENGTH} characters")
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018  (raises on a port that is not a number or out of range)
    except ValueError:
        raise ValueError("is not a valid URL") from None
    if parts.scheme not in ("http", "https") or not parts.hostname or re.search(r"\s", url):
        raise ValueError("must be an http:// or https:// URL with a host")
    return url
