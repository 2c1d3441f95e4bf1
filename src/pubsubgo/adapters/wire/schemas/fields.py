"""Field types of the request models, each accepting exactly what its JSON Schema says.

The OpenAPI document is built from these models and fuzzed against the server, so where
pydantic's own behaviour and JSON Schema differ (an integer written ``2.0``, ``null`` in a
query string, epoch seconds for a date-time) the type here makes the two agree.
"""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import BeforeValidator, Field, WithJsonSchema

from pubsubgo.core.names import NAME_PATTERN

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
#: RFC 3339 date-time, the ``date-time`` format of JSON Schema.
_RFC3339 = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]+)?(?:[Zz]|[+-][0-9]{2}:[0-9]{2})"
)


def _integral(value: Any) -> Any:
    """``2.0`` as ``2``: JSON Schema's ``integer`` includes numbers with no fraction."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


#: A JSON integer (``2`` or ``2.0``; never ``"2"`` nor ``2.5``).
Integer = Annotated[int, BeforeValidator(_integral)]


def _timestamp(value: Any) -> Any:
    """An RFC 3339 string or epoch seconds, as an aware datetime."""
    if isinstance(value, bool):
        raise ValueError("a timestamp is an RFC 3339 string or seconds since the epoch")
    if isinstance(value, int | float):
        if not (math.isfinite(value) and 0 <= value <= MAX_EPOCH_SECONDS):
            raise ValueError(f"seconds since the epoch must be 0..{MAX_EPOCH_SECONDS}")
        return datetime.fromtimestamp(value, UTC)
    if isinstance(value, str):
        if not _RFC3339.fullmatch(value):
            raise ValueError("a timestamp string is RFC 3339, e.g. 2024-05-01T12:00:00Z")
        try:
            parsed = datetime.fromisoformat(value.upper())
            parsed.timestamp()  # the offset may carry it out of range
        except (ValueError, OverflowError):
            raise ValueError("the timestamp is not a valid date and time") from None
        return parsed
    return value


_TIMESTAMP_SCHEMA = {
    "anyOf": [
        {"type": "string", "format": "date-time"},
        {"type": "number", "minimum": 0, "maximum": MAX_EPOCH_SECONDS},
    ],
    "description": "RFC 3339 with an offset, or seconds since the epoch",
}
#: A point in time: RFC 3339 with an offset, or seconds since the epoch.
Timestamp = Annotated[datetime, BeforeValidator(_timestamp), WithJsonSchema(_TIMESTAMP_SCHEMA)]


def _query_bool(value: Any) -> Any:
    if value in ("true", "false"):
        return value == "true"
    raise ValueError("use true or false")


def _query_int(value: Any) -> Any:
    if isinstance(value, str) and re.fullmatch(r"-?[0-9]{1,20}", value):
        return int(value)
    raise ValueError("an integer is expected")


#: ``true`` or ``false`` in a query string (not ``1``, ``yes`` or ``on``).
QueryBool = Annotated[bool, BeforeValidator(_query_bool), WithJsonSchema({"type": "boolean"})]
#: A decimal integer in a query string.
QueryInt = Annotated[int, BeforeValidator(_query_int)]

#: A topic or subscription name.
Name = Annotated[str, Field(pattern=NAME_REGEX, max_length=249)]
