"""Subscriptions' ``max_backlog`` on SQLite (writer thread): checked and enforced inside the
publish, which the one writer makes atomic."""

from __future__ import annotations

from pubsubgo.adapters.records import subscription_from_record
from pubsubgo.adapters.sqlite.database import Database
from pubsubgo.adapters.sqlite.deliveries import unread_messages
from pubsubgo.core.errors import SubscriptionBacklogFull
from pubsubgo.core.subscriptions import Subscription
from pubsubgo.core.topics import Overflow

#: A subscription with its row id.
Bounded = tuple[int, Subscription]
#: The ``?`` oldest unread messages of subscription ``?`` of topic ``?`` (by publish time,
#: then partition, then publish order), per lane its newest one: what its cursors move to.
_SKIPPED = """
WITH victims AS (
    SELECT m.partition, m.priority, m.seq FROM messages m
      JOIN cursors c ON c.sub_id = ? AND c.partition = m.partition
     WHERE m.topic_id = ? AND m.seq > CASE m.priority
           WHEN 0 THEN c.c0 WHEN 1 THEN c.c1 WHEN 2 THEN c.c2 ELSE c.c3 END
     ORDER BY m.published_at, m.partition, m.seq LIMIT ?
)
SELECT partition, priority, MAX(seq) FROM victims GROUP BY partition, priority
"""


def check_bounds(db: Database, topic_id: int, incoming: int) -> list[Bounded]:
    """Refuse ``incoming`` more messages to a subscription that rejects them for want of
    room; returns those that drop their oldest instead (for :func:`skip_oldest`).

    Raises:
        SubscriptionBacklogFull: a subscription with overflow ``reject`` has no room.
    """
    dropping: list[Bounded] = []
    for sub_id, sub in bounded(db, topic_id):
        if sub.overflow is Overflow.DROP_OLDEST:
            dropping.append((sub_id, sub))
        elif backlog(db, sub_id, topic_id) + incoming > sub.max_backlog:
            raise SubscriptionBacklogFull(sub.name, sub.max_backlog)
    return dropping


def skip_oldest(db: Database, topic_id: int, dropping: list[Bounded]) -> None:
    """Move the cursors of each subscription over its bound past its oldest unread
    messages (what is in flight or scheduled stays)."""
    for sub_id, sub in dropping:
        excess = backlog(db, sub_id, topic_id) - sub.max_backlog
        if excess <= 0:
            continue
        for partition, rank, seq in db.connection.execute(
            _SKIPPED, (sub_id, topic_id, excess)
        ).fetchall():
            db.connection.execute(
                f"UPDATE cursors SET c{int(rank)} = MAX(c{int(rank)}, ?)"
                " WHERE sub_id = ? AND partition = ?",
                (seq, sub_id, partition),
            )


def bounded(db: Database, topic_id: int) -> list[Bounded]:
    """The topic's subscriptions with a ``max_backlog`` (read once, then kept until one of
    the topic's subscriptions is created or deleted)."""
    found = db.bounded.get(topic_id)
    if found is None:
        rows = db.connection.execute(
            "SELECT id, definition FROM subscriptions WHERE topic_id = ?", (topic_id,)
        ).fetchall()
        subs = ((sub_id, subscription_from_record(raw)) for sub_id, raw in rows)
        found = db.bounded[topic_id] = [(i, s) for i, s in subs if s.max_backlog]
    return found


def backlog(db: Database, sub_id: int, topic_id: int) -> int:
    """What the subscription has not settled: unread, scheduled, held and in flight."""
    unread, _ = unread_messages(db, sub_id, topic_id)
    [(waiting,)] = db.connection.execute(
        "SELECT (SELECT COUNT(*) FROM scheduled WHERE sub_id = ?)"
        " + (SELECT COUNT(*) FROM held WHERE sub_id = ?)"
        " + (SELECT COUNT(*) FROM in_flight WHERE sub_id = ?)",
        (sub_id, sub_id, sub_id),
    ).fetchall()
    return unread + int(waiting)
