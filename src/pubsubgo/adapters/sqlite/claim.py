"""claim_messages: put a subscription's ready messages in flight (writer thread).

The rules are the memory backend's (``DeliveryQueue.claim``), on tables: within a partition
first the due rows of ``scheduled``, then unread messages lane by lane from the cursors
(critical first), or across lanes in publish order for an ordered subscription. What the
claim decides is written at its end, each kind in one ``executemany``: new scheduled and
held rows, busy keys, moved cursors and the ``in_flight`` rows of the deliveries.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson

from pubsubgo.adapters.sqlite.codec import MESSAGE_FIELDS, message_from_row
from pubsubgo.adapters.sqlite.database import Database
from pubsubgo.adapters.sqlite.definitions import subscription_entry
from pubsubgo.adapters.sqlite.ordering import busy_keys
from pubsubgo.adapters.sqlite.reading import lane_rows, partition_in_order
from pubsubgo.core.errors import MemberNotFound
from pubsubgo.core.messages import Delivery, DeliveryMode, Message
from pubsubgo.core.subscriptions import Subscription

#: Lanes by priority rank, the most urgent first.
_RANKS_BY_URGENCY = (3, 2, 1, 0)
_DUE = (
    "SELECT s.id, s.attempts, "
    + ", ".join(f"m.{name}" for name in MESSAGE_FIELDS)
    + " FROM scheduled s LEFT JOIN messages m ON m.seq = s.seq"
    " WHERE s.sub_id = ? AND s.partition = ? AND s.due <= ? ORDER BY s.due, s.id LIMIT ?"
)
_EXACTLY_ONCE = DeliveryMode.EXACTLY_ONCE
_new = tuple.__new__


@dataclass(slots=True)
class _Claim:
    """One claim: what it reads, and what it has decided so far."""

    db: Database
    sub_id: int
    topic_id: int
    topic: str
    subscription: Subscription
    now: float
    member: str | None
    #: The cursors of every partition, by rank, as read and then moved.
    cursors: dict[int, list[int]]
    #: Whether anything scheduled is due: if not, no partition's schedule is read.
    any_due: bool
    #: (message, attempt, seq) of each delivery, in order.
    out: list[tuple[Message, int, int]] = field(default_factory=list)
    moved: set[int] = field(default_factory=set)
    #: Rows to insert: scheduled (delayed messages), held and busy keys (ordered).
    scheduled: list[tuple[int, int, int, float, int]] = field(default_factory=list)
    held: list[tuple[int, int, str, int, int]] = field(default_factory=list)
    busy: list[tuple[int, int, str]] = field(default_factory=list)


def claim_messages(
    db: Database,
    subscription: Subscription,
    topic: str,
    partitions: Sequence[int],
    limit: int,
    now: float,
    member_id: str | None,
) -> list[Delivery]:
    """``DeliveryQueue.claim`` on the writer thread.

    Raises:
        SubscriptionNotFound: the subscription was deleted.
        MemberNotFound: ``member_id`` is not in the subscription's group.
    """
    sub_id, topic_id, _ = subscription_entry(db, subscription.name)
    connection = db.connection
    if member_id is not None and not _is_member(db, sub_id, member_id):
        raise MemberNotFound(subscription.name, member_id)
    limit = min(limit, subscription.max_in_flight - db.held(sub_id).get(member_id, 0))
    if limit <= 0 or not partitions:
        return []
    any_due = connection.execute(
        "SELECT 1 FROM scheduled WHERE sub_id = ? AND due <= ? LIMIT 1", (sub_id, now)
    ).fetchone()
    cursors = _cursors(db, sub_id)
    claim = _Claim(
        db, sub_id, topic_id, topic, subscription, now, member_id, cursors, bool(any_due)
    )
    _fill(claim, partitions, limit)
    return _finish(claim)


def _cursors(db: Database, sub_id: int) -> dict[int, list[int]]:
    """The subscription's cursors: by partition, the last sequence number read per lane."""
    rows = db.connection.execute(
        "SELECT partition, c0, c1, c2, c3 FROM cursors WHERE sub_id = ?", (sub_id,)
    )
    return {row[0]: list(row[1:]) for row in rows}


def _is_member(db: Database, sub_id: int, member_id: str) -> bool:
    found = db.connection.execute(
        "SELECT 1 FROM members WHERE sub_id = ? AND member_id = ?", (sub_id, member_id)
    ).fetchone()
    return found is not None


def _fill(claim: _Claim, partitions: Sequence[int], limit: int) -> None:
    """A first pass gives each partition a fair share; a second fills what is left from
    the partitions that filled their share (one that did not has nothing more to give)."""
    out = claim.out
    share = max(1, -(-limit // len(partitions)))
    exhausted: set[int] = set()
    for quota in (share, limit):
        for partition in partitions:
            room = min(quota, limit - len(out))
            if room > 0 and partition not in exhausted:
                before = len(out)
                _claim_partition(claim, partition, room)
                if len(out) - before < room:
                    exhausted.add(partition)
        if len(out) >= limit:
            return


def _claim_partition(claim: _Claim, partition: int, room: int) -> None:
    stop_at = len(claim.out) + room
    if claim.any_due:
        _claim_scheduled(claim, partition, stop_at)
    if len(claim.out) >= stop_at:
        return
    if claim.subscription.ordered:
        _claim_in_order(claim, partition, stop_at)
        return
    for rank in _RANKS_BY_URGENCY:
        _claim_lane(claim, partition, rank, stop_at)
        if len(claim.out) >= stop_at:
            return


def _claim_scheduled(claim: _Claim, partition: int, stop_at: int) -> None:
    """Due redeliveries, earliest first; messages removed meanwhile are skipped."""
    connection, out = claim.db.connection, claim.out
    while len(out) < stop_at:
        rows = connection.execute(
            _DUE, (claim.sub_id, partition, claim.now, stop_at - len(out))
        ).fetchall()
        if not rows:
            return
        connection.execute(
            "DELETE FROM scheduled WHERE id IN (SELECT value FROM json_each(?))",
            (orjson.dumps([row[0] for row in rows]),),
        )
        for row in rows:
            if row[2] is not None:
                out.append((message_from_row(claim.topic, row[2:]), row[1] + 1, row[2]))


def _claim_lane(claim: _Claim, partition: int, rank: int, stop_at: int) -> None:
    """Unread messages of one lane in publish order; delayed ones go to the schedule. The
    hot loop of every pull."""
    db, out, topic, now = claim.db, claim.out, claim.topic, claim.now
    cursors = claim.cursors[partition]
    after = cursors[rank]
    # Most pulls find most lanes read to their end: look only into those that are not.
    if db.tails(claim.topic_id, partition)[rank] <= after:
        return
    while len(out) < stop_at:
        wanted = stop_at - len(out)
        rows = lane_rows(db, claim.topic_id, partition, rank, after, wanted)
        for row in rows:
            message = message_from_row(topic, row)
            deliver_at = message.deliver_at
            if deliver_at is not None and deliver_at > now:
                claim.scheduled.append((claim.sub_id, partition, row[0], deliver_at, 0))
            else:
                out.append((message, 1, row[0]))
        if rows:
            after = rows[-1][0]
        if len(rows) < wanted:
            break
    cursors[rank] = after
    claim.moved.add(partition)


def _claim_in_order(claim: _Claim, partition: int, stop_at: int) -> None:
    """Ordered: across lanes in publish order, one message out per key; a key's later
    messages are held until it is settled."""
    db, sub_id, out = claim.db, claim.sub_id, claim.out
    cursors = claim.cursors[partition]
    busy = busy_keys(db, sub_id, partition)
    for row in partition_in_order(db, claim.topic_id, partition, cursors):
        message = message_from_row(claim.topic, row)
        seq, rank, key, deliver_at = row[0], row[2], message.key, message.deliver_at
        cursors[rank] = seq
        claim.moved.add(partition)
        if key is not None:
            if key in busy:
                claim.held.append((sub_id, partition, key, seq, seq))
                continue
            busy.add(key)
            claim.busy.append((sub_id, partition, key))
        if deliver_at is not None and deliver_at > claim.now:
            claim.scheduled.append((sub_id, partition, seq, deliver_at, 0))
            continue
        out.append((message, 1, seq))
        if len(out) >= stop_at:
            return


def _finish(claim: _Claim) -> list[Delivery]:
    """Write what the claim decided; the deliveries."""
    connection, sub_id = claim.db.connection, claim.sub_id
    if claim.scheduled:
        connection.executemany(
            "INSERT INTO scheduled (sub_id, partition, seq, due, attempts) VALUES (?, ?, ?, ?, ?)",
            claim.scheduled,
        )
    if claim.held:
        connection.executemany("INSERT INTO held VALUES (?, ?, ?, ?, ?)", claim.held)
    if claim.busy:
        connection.executemany("INSERT INTO busy_keys VALUES (?, ?, ?)", claim.busy)
    if claim.moved:
        connection.executemany(
            "UPDATE cursors SET c0 = ?, c1 = ?, c2 = ?, c3 = ? WHERE sub_id = ? AND partition = ?",
            [(*claim.cursors[p], sub_id, p) for p in claim.moved],
        )
    return _hand_out(claim) if claim.out else []


def _hand_out(claim: _Claim) -> list[Delivery]:
    """The deliveries, each with a new ack id, and their ``in_flight`` rows."""
    subscription, member = claim.subscription, claim.member
    name, ordered = subscription.name, subscription.ordered
    deadline = claim.now + subscription.ack_deadline_seconds
    deliveries: list[Delivery] = []
    rows: list[tuple[Any, ...]] = []
    hand, record = deliveries.append, rows.append
    first = claim.db.take_acks(len(claim.out))
    for ack, (message, attempt, seq) in enumerate(claim.out, first):
        # Delivery(message, ack id, attempt, ...), built as the tuple it is.
        hand(_new(Delivery, (message, format(ack, "x"), attempt, name, deadline)))
        record((
            ack, claim.sub_id, message.partition, seq, attempt, deadline, member,
            message.key if ordered else None, message.delivery_mode is _EXACTLY_ONCE,
            message.published_at,
        ))  # fmt: skip
    claim.db.connection.executemany(
        "INSERT INTO in_flight VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows
    )
    held = claim.db.held(claim.sub_id)
    held[member] = held.get(member, 0) + len(rows)
    return deliveries
