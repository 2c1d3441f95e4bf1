"""BacklogBounds: subscriptions' ``max_backlog`` on PostgreSQL, around each publish call.

A publish call (one per topic and process at a time, see ``message_log.py``) first checks
every bounded subscription of the topic that rejects (``psg_sub_stats``), then, once the
batch is stored, moves the read positions of those that drop their oldest past their
oldest unread messages. The check is not in the append's transaction: publishes from
several broker processes at the same moment may pass it together, by a batch each.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from pubsubgo.adapters.postgres.database import Database
from pubsubgo.adapters.records import subscription_from_record
from pubsubgo.core.errors import SubscriptionBacklogFull, SubscriptionNotFound
from pubsubgo.core.messages import MessageDraft
from pubsubgo.core.subscriptions import Subscription
from pubsubgo.core.topics import Overflow, Topic

#: The dedup ids among ``$2`` that topic ``$1`` holds a record of, unexpired at ``$3``.
_SEEN = """
SELECT d.dedup_id FROM topics t JOIN dedup d ON d.topic_id = t.id
 WHERE t.name = $1 AND d.dedup_id = ANY ($2::text[]) AND d.expires_at > $3
"""
_BOUNDED = """
SELECT s.record FROM subscriptions s JOIN topics t ON t.id = s.topic_id WHERE t.name = $1
"""
#: The ``$2`` oldest unread messages of subscription ``$1`` (by publish time, then
#: partition, then publish order): its read positions move past them; an ordered
#: subscription's four lanes move together, as it reads in publish order across them.
_SKIP_OLDEST = """
WITH sub AS (SELECT id, topic_id, ordered FROM subscriptions WHERE name = $1),
victims AS (
    SELECT m.partition, m.rank, m.s
      FROM sub CROSS JOIN cursors c CROSS JOIN generate_series(0, 3) AS r
     CROSS JOIN LATERAL (
           SELECT partition, rank, s, published_at FROM messages
            WHERE topic_id = sub.topic_id AND partition = c.partition AND rank = r
              AND s > c.c[r + 1]
            ORDER BY s LIMIT $2) AS m
     WHERE c.sub_id = sub.id
     ORDER BY m.published_at, m.partition, m.s
     LIMIT $2
), moved AS (
    SELECT partition, max(s) AS top,
           max(s) FILTER (WHERE rank = 0) AS l0, max(s) FILTER (WHERE rank = 1) AS l1,
           max(s) FILTER (WHERE rank = 2) AS l2, max(s) FILTER (WHERE rank = 3) AS l3
      FROM victims GROUP BY partition
)
UPDATE cursors c
   SET c = CASE WHEN sub.ordered THEN array_fill(greatest(c.c[1], v.top), ARRAY[4])
           ELSE ARRAY[greatest(c.c[1], coalesce(v.l0, -1)), greatest(c.c[2], coalesce(v.l1, -1)),
                      greatest(c.c[3], coalesce(v.l2, -1)), greatest(c.c[4], coalesce(v.l3, -1))]
           END
  FROM moved v, sub
 WHERE c.sub_id = sub.id AND c.partition = v.partition
"""


class BacklogBounds:
    """The bounded subscriptions of each topic (read at most every ``ttl`` seconds per
    process, and again at once after this process creates or deletes one), checked and
    enforced around publishes."""

    def __init__(self, db: Database, ttl: float) -> None:
        self._db = db
        self._ttl = ttl
        self._bounded: dict[str, tuple[float, list[Subscription]]] = {}

    def forget(self, topic: str) -> None:
        """Read ``topic``'s bounded subscriptions afresh at its next publish."""
        self._bounded.pop(topic, None)

    async def check(self, topic: Topic, drafts: Sequence[MessageDraft]) -> list[Subscription]:
        """Refuse ``drafts`` to a subscription that rejects them for want of room; returns
        the subscriptions that drop their oldest instead (for :meth:`trim`).

        Raises:
            SubscriptionBacklogFull: a subscription with overflow ``reject`` has no room.
        """
        dropping: list[Subscription] = []
        incoming: int | None = None
        for sub in await self._of(topic.name):
            if sub.overflow is Overflow.DROP_OLDEST:
                dropping.append(sub)
                continue
            if incoming is None:
                incoming = await self._fresh(topic, drafts)
            if await self._backlog(sub) + incoming > sub.max_backlog:
                raise SubscriptionBacklogFull(sub.name, sub.max_backlog)
        return dropping

    async def trim(self, dropping: list[Subscription]) -> None:
        """Skip the oldest unread messages of each subscription over its bound."""
        for sub in dropping:
            excess = await self._backlog(sub) - sub.max_backlog
            if excess > 0:
                await self._db.fetch("skip oldest", _SKIP_OLDEST, sub.name, excess)

    async def _fresh(self, topic: Topic, drafts: Sequence[MessageDraft]) -> int:
        """How many of ``drafts`` will be stored: duplicates (of a stored message in the
        window, or of an earlier draft of the batch) take no room."""
        keyed = {d.dedup_id: d.published_at for d in drafts if d.dedup_id}
        if not keyed or not topic.dedup_window_seconds:
            return len(drafts)
        seen = await self._db.fetch(
            "dedup records", _SEEN, topic.name, list(keyed), drafts[0].published_at
        )
        unkeyed = sum(1 for d in drafts if not d.dedup_id)
        return unkeyed + len(keyed) - len(seen)

    async def _of(self, topic: str) -> list[Subscription]:
        entry = self._bounded.get(topic)
        if entry is not None and entry[0] > time.monotonic():
            return entry[1]
        rows = await self._db.fetch("bounded subscriptions", _BOUNDED, topic)
        found = [s for s in (subscription_from_record(r[0]) for r in rows) if s.max_backlog]
        self._bounded[topic] = (time.monotonic() + self._ttl, found)
        return found

    async def _backlog(self, sub: Subscription) -> int:
        rows = await self._db.fetch(
            "subscription backlog",
            "SELECT r_unread + r_scheduled + r_in_flight FROM psg_sub_stats($1)",
            sub.name,
            refusal=lambda _: SubscriptionNotFound(sub.name),
        )
        return int(rows[0][0])
