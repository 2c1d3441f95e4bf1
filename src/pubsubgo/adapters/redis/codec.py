"""How entities are written to Redis and read back: records, stream entries, script args."""

from __future__ import annotations

import re
import struct
from collections.abc import Iterable, Sequence
from typing import Any

import orjson

from pubsubgo.adapters.records import (
    group_from_record,
    group_record,
    subscription_from_record,
    subscription_record,
    topic_fields,
    topic_from_fields,
)
from pubsubgo.core.messages import (
    AckId,
    Compression,
    DeliveryMode,
    Message,
    MessageDraft,
    MessageId,
    Priority,
)
from pubsubgo.core.subscriptions import InFlight
from pubsubgo.core.topics import Topic

__all__ = [
    "group_from_record",
    "group_record",
    "subscription_from_record",
    "subscription_record",
]

#: Lane rank -> priority; a stream entry's rank is its id's sequence modulo 4.
PRIORITY_BY_RANK = (Priority.LOW, Priority.NORMAL, Priority.HIGH, Priority.CRITICAL)
#: Values looked up once: enum construction is slow on a per-message path.
_MODES = {b"": DeliveryMode.AT_LEAST_ONCE, **{m.value.encode(): m for m in DeliveryMode}}
_COMPRESSIONS = {c.value.encode(): c for c in Compression}
_AT_LEAST_ONCE = DeliveryMode.AT_LEAST_ONCE
_NONE = Compression.NONE
_LENGTH = struct.Struct(">I").pack
#: A draft's head in the append script's arguments: partition, rank, and what the draft has
#: in the times and options arguments (the sum of these flags).
_HEAD = struct.Struct(">HBB").pack
_HAS_TIME, _HAS_OPTIONS = 1, 2
_new = tuple.__new__
#: Flat fields of an entry without options: ``n``, ``t``, ``d`` and their values.
_PLAIN_FIELDS = 6


def topic_record(topic: Topic, colocated: bool) -> bytes:
    """A topic as stored in the registry, with where its partitions live."""
    return orjson.dumps({**topic_fields(topic), "colocated": colocated})


def topic_from_record(raw: bytes | str) -> tuple[Topic, bool]:
    """The topic and whether its partitions are co-located."""
    fields = orjson.loads(raw)
    colocated = bool(fields.pop("colocated"))
    return topic_from_fields(fields), colocated


def draft_args(drafts: Sequence[MessageDraft], indexes: Iterable[int]) -> list[bytes]:
    """The append script's arguments for ``drafts[i]`` of each index (format in
    append.lua): a fixed-size head per draft (partition, rank, what it has in the next
    two), the publish times where they change, the options of drafts that have any, then
    each draft's payload as an argument of its own."""
    heads = bytearray()
    times: list[bytes] = []
    options: list[bytes] = []
    args = [b"", b"", b""]
    add_data = args.append
    # A batch's drafts share their publish time: send it once, not once per message.
    last_time: float | None = None
    for i in indexes:
        d = drafts[i]
        has = 0
        if d.published_at != last_time:
            last_time = d.published_at
            published = repr(last_time).encode()
            times += (_LENGTH(len(published)), published)
            has = _HAS_TIME
        if not _is_plain(d):
            options.append(_options(d))
            has += _HAS_OPTIONS
        heads += _HEAD(d.partition, d.priority.rank, has)
        add_data(d.data)
    args[0], args[1], args[2] = bytes(heads), b"".join(times), b"".join(options)
    return args


def _is_plain(d: MessageDraft) -> bool:
    return (
        d.key is None
        and not d.attributes
        and d.delivery_mode is _AT_LEAST_ONCE
        and d.expires_at is None
        and d.deliver_at is None
        and not d.dedup_id
        and d.compression is _NONE
    )


def _options(d: MessageDraft) -> bytes:
    fields = (
        b"" if d.key is None else b"+" + d.key.encode(),
        orjson.dumps(d.attributes) if d.attributes else b"",
        b"" if d.delivery_mode is _AT_LEAST_ONCE else d.delivery_mode.value.encode(),
        b"" if d.expires_at is None else repr(d.expires_at).encode(),
        b"" if d.deliver_at is None else repr(d.deliver_at).encode(),
        d.dedup_id.encode() if d.dedup_id else b"",
        b"" if d.compression is _NONE else d.compression.value.encode(),
    )
    return b"".join(_LENGTH(len(f)) + f for f in fields)


def message_from_entry(topic: str, partition: int, entry_id: bytes, flat: list[bytes]) -> Message:
    """A stored message from its stream entry (id ``<ms>-<order*4+rank>``, flat fields)."""
    entry = entry_id.decode()
    if len(flat) == _PLAIN_FIELDS:
        # n, t, d and nothing else (append.lua writes them first, in that order): no option
        # is set. Most messages are such; reading them needs no dict of their fields, and
        # the Message is built as the tuple it is (its __new__ is a Python-level call).
        return _new(Message, (
            f"{partition}-{entry}", topic, partition, flat[5], None, {},
            PRIORITY_BY_RANK[int(entry.rpartition("-")[2]) % 4], _AT_LEAST_ONCE, float(flat[3]),
            None, None, None, _NONE,
        ))  # fmt: skip
    f = dict(zip(flat[::2], flat[1::2], strict=True))
    key, attributes, expires, deliver_at = f.get(b"k"), f.get(b"a"), f.get(b"x"), f.get(b"w")
    dedup_id = f.get(b"u")
    return Message(
        MessageId(f"{partition}-{entry}"),
        topic,
        partition,
        f[b"d"],
        None if key is None else key.decode(),
        orjson.loads(attributes) if attributes else {},
        PRIORITY_BY_RANK[int(entry.rpartition("-")[2]) % 4],
        _MODES[f.get(b"m", b"")],
        float(f[b"t"]),
        None if expires is None else float(expires),
        None if deliver_at is None else float(deliver_at),
        None if dedup_id is None else dedup_id.decode(),
        _COMPRESSIONS[f[b"c"]] if b"c" in f else _NONE,
    )


def split_message_id(message_id: str) -> tuple[int, str] | None:
    """``"3-1700000000000-9"`` -> ``(3, "1700000000000-9")``; None if not one of ours: not
    three parts of ASCII digits, or a part past what a stream id holds (64 bits), which
    Redis would refuse as an argument rather than find nothing."""
    head, _, entry = message_id.partition("-")
    ms, sep, seq = entry.partition("-")
    if not (_DIGITS(head) and sep and _DIGITS(ms) and _DIGITS(seq)):
        return None
    if int(ms) > _STREAM_ID_PART_MAX or int(seq) > _STREAM_ID_PART_MAX:
        return None
    return int(head), entry


#: A stream id is two unsigned 64-bit integers.
_STREAM_ID_PART_MAX = 2**64 - 1
#: The JSON Schema pattern of the message ids this backend issues: a partition below 1000
#: and a stream id, each part of at most 19 digits (below 2^64 whatever the digits).
ID_PATTERN = r"^[0-9]{1,3}-[0-9]{1,19}-[0-9]{1,19}$"
#: Only ASCII digits: ``str.isdigit`` also takes other scripts' digits and superscripts.
_DIGITS = re.compile(r"[0-9]+").fullmatch


def partition_of_ack(ack_id: str) -> int | None:
    """The partition an ack id (``"<partition>.<hex>"``) names, or None if malformed."""
    head, sep, tail = ack_id.partition(".")
    return int(head) if sep and head.isdigit() and tail else None


def in_flight_from_record(ack_id: bytes | str, raw: bytes) -> InFlight:
    """An in-flight record written by ``claim.lua`` (see ``record`` in common.lua)."""
    p, entry, attempt, deadline, member, key, exactly_once, published = orjson.loads(raw)
    return InFlight(
        AckId(ack_id.decode() if isinstance(ack_id, bytes) else ack_id),
        MessageId(f"{p}-{entry}"),
        p,
        attempt,
        float(deadline),
        member or None,
        key,
        bool(exactly_once),
        float(published),
    )


def text(value: Any) -> str:
    """A reply value as text."""
    return value.decode() if isinstance(value, bytes) else str(value)
