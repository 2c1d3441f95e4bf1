"""How entities become rows and rows become entities again.

Rows are read and written once per message on the hot paths, so these functions build the
NamedTuples as the tuples they are and look enums up in dicts (enum construction and a
NamedTuple's ``__new__`` are Python-level calls).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import orjson

from pubsubgo.core.messages import (
    NO_ATTRIBUTES,
    AckId,
    Compression,
    DeliveryMode,
    Message,
    MessageDraft,
    MessageId,
    Priority,
)
from pubsubgo.core.subscriptions import InFlight

#: Lane rank (the ``priority`` column) -> priority.
PRIORITY_BY_RANK = (Priority.LOW, Priority.NORMAL, Priority.HIGH, Priority.CRITICAL)
RANK = {priority: priority.rank for priority in Priority}
#: The columns a Message is read from, in the order ``message_from_row`` takes them.
MESSAGE_FIELDS = ("seq", "partition", "priority", "published_at", "data", "options")
MESSAGE_COLUMNS = ", ".join(MESSAGE_FIELDS)
#: The columns an InFlight is read from, in the order ``in_flight_from_row`` takes them.
IN_FLIGHT_COLUMNS = (
    "ack, partition, seq, attempt, deadline, member, key, exactly_once, published_at"
)
_MODES: dict[str | None, DeliveryMode] = {
    None: DeliveryMode.AT_LEAST_ONCE,
    **{m.value: m for m in DeliveryMode},
}
_COMPRESSIONS: dict[str | None, Compression] = {
    None: Compression.NONE,
    **{c.value: c for c in Compression},
}
_AT_LEAST_ONCE = DeliveryMode.AT_LEAST_ONCE
_UNCOMPRESSED = Compression.NONE
_new = tuple.__new__
#: Ack ids are SQLite integers: below 2**63.
_MAX_ACK = 2**63
#: What a message id this backend hands out looks like: ``"{partition}-{seq}"``.
_MESSAGE_ID = re.compile(r"([0-9]{1,3})-([0-9]{1,18})")
#: The JSON Schema pattern of the ids this backend issues.
ID_PATTERN = r"^[0-9]{1,3}-[0-9]{1,18}$"


def draft_rows(topic_id: int, first_seq: int, drafts: Sequence[MessageDraft]) -> list[Any]:
    """The ``messages`` rows of ``drafts``, numbered from ``first_seq``."""
    rows: list[Any] = []
    add = rows.append
    for seq, d in enumerate(drafts, first_seq):
        mode, compression = d.delivery_mode, d.compression
        plain = (
            d.key is None
            and not d.attributes
            and mode is _AT_LEAST_ONCE
            and d.expires_at is None
            and d.deliver_at is None
            and d.dedup_id is None
            and compression is _UNCOMPRESSED
        )
        options = None if plain else orjson.dumps((
            d.key, d.attributes or None, None if mode is _AT_LEAST_ONCE else mode.value,
            d.expires_at, d.deliver_at, d.dedup_id,
            None if compression is _UNCOMPRESSED else compression.value,
        ))  # fmt: skip
        add((seq, topic_id, d.partition, RANK[d.priority], d.published_at, d.data, options))
    return rows


def message_from_row(topic: str, row: Sequence[Any]) -> Message:
    """A message from its ``MESSAGE_COLUMNS``."""
    seq, partition, rank, published, data, options = row
    if options is None:
        return _new(Message, (
            f"{partition}-{seq}", topic, partition, data, None, NO_ATTRIBUTES,
            PRIORITY_BY_RANK[rank], _AT_LEAST_ONCE, published, None, None, None, _UNCOMPRESSED,
        ))  # fmt: skip
    key, attributes, mode, expires_at, deliver_at, dedup_id, compression = orjson.loads(options)
    return _new(Message, (
        f"{partition}-{seq}", topic, partition, data, key, attributes or NO_ATTRIBUTES,
        PRIORITY_BY_RANK[rank], _MODES[mode], published, expires_at, deliver_at, dedup_id,
        _COMPRESSIONS[compression],
    ))  # fmt: skip


def in_flight_from_row(row: Sequence[Any]) -> InFlight:
    """An in-flight delivery from its ``IN_FLIGHT_COLUMNS``."""
    ack, partition, seq, attempt, deadline, member, key, exactly_once, published_at = row
    return InFlight(
        ack_id(ack),
        MessageId(f"{partition}-{seq}"),
        partition,
        attempt,
        deadline,
        member,
        key,
        bool(exactly_once),
        published_at,
    )


def ack_id(ack: int) -> AckId:
    """The ack id of the ``in_flight`` row ``ack``: its number in hex."""
    return AckId(format(ack, "x"))


def parse_ack(text: str) -> int | None:
    """The ``in_flight`` row an ack id names, or None when it is not one of ours."""
    try:
        ack = int(text, 16)
    except ValueError:
        return None
    return ack if 0 < ack < _MAX_ACK else None


def parse_message_id(message_id: str) -> tuple[int, int] | None:
    """``"3-1042"`` -> ``(3, 1042)``; None when the id is not one of this backend's."""
    found = _MESSAGE_ID.fullmatch(message_id)
    return (int(found[1]), int(found[2])) if found else None
