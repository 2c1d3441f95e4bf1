"""How entities travel to PostgreSQL and back: drafts as column arrays, rows as messages."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import asyncpg
import orjson

from pubsubgo.core.messages import (
    AckId,
    Compression,
    Delivery,
    DeliveryMode,
    Message,
    MessageDraft,
    MessageId,
    Priority,
)
from pubsubgo.core.subscriptions import InFlight

#: Lane rank -> priority; a position's rank is its value modulo 4.
PRIORITY_BY_RANK = tuple(sorted(Priority, key=lambda p: p.rank))
#: Stored codes of delivery modes and compressions (see tables.sql), both ways.
MODE_CODES = {
    DeliveryMode.AT_LEAST_ONCE: 0,
    DeliveryMode.AT_MOST_ONCE: 1,
    DeliveryMode.EXACTLY_ONCE: 2,
}
MODES = {code: mode for mode, code in MODE_CODES.items()}
COMPRESSION_CODES = {Compression.NONE: 0, Compression.SNAPPY: 1, Compression.LZ4: 2}
COMPRESSIONS = {code: compression for compression, code in COMPRESSION_CODES.items()}
_AT_LEAST_ONCE = DeliveryMode.AT_LEAST_ONCE
_NONE = Compression.NONE
_new = tuple.__new__
#: A draft's fields by position (MessageDraft's order).
_FIELDS = MessageDraft._fields


def draft_columns(drafts: Sequence[MessageDraft]) -> list[Any]:
    """``psg_append``'s column arrays for ``drafts``: partition, rank, data, publish time,
    then key, attributes, mode, expiry, delivery time, dedup id and compression, each None
    when no draft of the batch has it (most batches set none)."""
    columns = list(zip(*drafts, strict=True))
    column = dict(zip(_FIELDS, columns, strict=True))
    ranks = [p.rank for p in column["priority"]]
    result: list[Any] = [list(column["partition"]), ranks, list(column["data"])]
    result.append(list(column["published_at"]))
    result.append(_or_none(column["key"]))
    attributes = column["attributes"]
    result.append([orjson.dumps(a) if a else None for a in attributes] if any(attributes) else None)
    modes = column["delivery_mode"]
    result.append(
        [MODE_CODES[m] for m in modes] if any(m is not _AT_LEAST_ONCE for m in modes) else None
    )
    result += (_or_none(column["expires_at"]), _or_none(column["deliver_at"]))
    result.append(_or_none(column["dedup_id"]))
    compressions = column["compression"]
    result.append(
        [COMPRESSION_CODES[c] for c in compressions]
        if any(c is not _NONE for c in compressions)
        else None
    )
    return result


def _or_none(values: tuple[Any, ...]) -> list[Any] | None:
    return list(values) if any(v is not None for v in values) else None


#: The JSON Schema pattern of the ids this backend issues: a partition below 1000 and a
#: position that fits a bigint.
ID_PATTERN = r"^[0-9]{1,3}-[0-9]{1,18}$"


def split_message_id(message_id: str) -> tuple[int, int] | None:
    """``"3-17"`` -> ``(3, 17)``: partition and position; None if not one of ours."""
    head, sep, tail = message_id.partition("-")
    # A topic has at most 256 partitions, and positions fit in a bigint.
    if not (sep and head.isascii() and tail.isascii() and head.isdigit() and tail.isdigit()):
        return None
    if len(head) > 3 or len(tail) > 18:
        return None
    return int(head), int(tail)


def ack_number(ack_id: str) -> int | None:
    """The number an ack id (hex) stands for, or None when it is not one of ours."""
    if not 0 < len(ack_id) <= 16:
        return None
    try:
        return int(ack_id, 16)
    except ValueError:
        return None


def ack_id(number: int) -> AckId:
    return AckId(f"{number:x}")


def message_from_row(topic: str, row: asyncpg.Record) -> Message:
    """A message from a ``messages`` row (``SELECT *``: topic_id, partition, rank, s, then
    the message's fields)."""
    return _message(topic, row[1], row[3], row, 4)


def _message(topic: str, partition: int, s: int, row: asyncpg.Record, at: int) -> Message:
    """The message whose fields start at column ``at`` of ``row``: published_at, data,
    key, attributes, mode, expires_at, deliver_at, dedup_id, compression."""
    published, data, key, attributes, mode, expires, deliver, dedup, compression = row[at:]
    # Built as the tuple it is: this runs once per message read.
    return _new(Message, (
        f"{partition}-{s}", topic, partition, data, key,
        orjson.loads(attributes) if attributes is not None else {},
        PRIORITY_BY_RANK[s % 4], MODES[mode] if mode else _AT_LEAST_ONCE, published,
        expires, deliver, dedup, COMPRESSIONS[compression] if compression else _NONE,
    ))  # fmt: skip


def deliveries_from_rows(
    topic: str, subscription: str, deadline: float, rows: Sequence[asyncpg.Record]
) -> list[Delivery]:
    """Deliveries from ``psg_claim``'s rows: ack, attempt, partition, s, then the message."""
    return [
        _new(
            Delivery, (_message(topic, r[2], r[3], r, 4), f"{r[0]:x}", r[1], subscription, deadline)
        )
        for r in rows
    ]


#: ``in_flight`` columns read back, in InFlight's order after the ack id.
IN_FLIGHT_COLUMNS = (
    "ack, partition || '-' || s, partition, attempt, deadline, member, key,"
    " exactly_once, published_at"
)


def in_flight_from_row(row: asyncpg.Record) -> InFlight:
    """A delivery awaiting its ack, from a row of ``IN_FLIGHT_COLUMNS``."""
    ack, message, partition, attempt, deadline, member, key, exactly_once, published = row
    return InFlight(
        ack_id(ack),
        MessageId(message),
        partition,
        attempt,
        deadline,
        member or None,
        key,
        exactly_once,
        published,
    )
