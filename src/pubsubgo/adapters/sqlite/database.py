"""Database: the connection and what the writer thread keeps beside it.

Only the writer thread uses it once the backend runs. Besides the connection it counts
message sequence numbers and ack ids, remembers each lane's newest sequence number (so that
a pull skips lanes with nothing new without a query) and how many deliveries each consumer
holds (so that a pull does not count them). What it remembers is read from the database
when first needed and forgotten when an operation is undone.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field

from pubsubgo.core.subscriptions import Subscription
from pubsubgo.core.topics import Topic

#: Ack ids are ``epoch << ACK_EPOCH_SHIFT | n``: the epoch counts the starts of the
#: broker, so an ack id is never handed out twice even though settled ones are deleted.
ACK_EPOCH_SHIFT = 40
#: (topic id, partition) -> the newest sequence number of each lane, by priority rank.
LaneTails = dict[tuple[int, int], list[int]]
#: A topic's row id and definition.
TopicEntry = tuple[int, Topic]
#: A subscription's row id, its topic's row id, and its definition.
SubscriptionEntry = tuple[int, int, Subscription]
#: Deliveries in flight by the member holding them (None: pulls without a member).
Holdings = dict[str | None, int]


@dataclass(slots=True)
class Database:
    """The connection, the counters and the lane tails.

    Attributes:
        connection: in autocommit mode; the writer opens and commits transactions.
        next_seq: the next message sequence number. Sequence numbers are global, so they
            increase within every partition; ``meta.seq_high`` keeps the highest handed out
            when messages are deleted, so a restart never hands one out again.
        next_ack: the next ack id.
        topics: definitions read so far, by name. Definitions change only through this
            thread (created, updated, deleted), so they stay exact; the event loop reads
            them without a hop to the thread (a dict read is atomic).
        subscriptions: the same for subscriptions.
    """

    connection: sqlite3.Connection
    next_seq: int
    next_ack: int
    lane_tails: LaneTails = field(default_factory=dict)
    topics: dict[str, TopicEntry] = field(default_factory=dict)
    subscriptions: dict[str, SubscriptionEntry] = field(default_factory=dict)
    #: Holdings by subscription row id.
    holdings: dict[int, Holdings] = field(default_factory=dict)
    #: By topic row id, its subscriptions with a ``max_backlog`` (row id, definition): read
    #: at the topic's first publish, dropped when one of its subscriptions comes or goes.
    bounded: dict[int, list[tuple[int, Subscription]]] = field(default_factory=dict)

    def take_seqs(self, count: int) -> int:
        """Reserve ``count`` sequence numbers; the first of them."""
        first = self.next_seq
        self.next_seq = first + count
        return first

    def take_acks(self, count: int) -> int:
        """Reserve ``count`` ack ids; the first of them."""
        first = self.next_ack
        self.next_ack = first + count
        return first

    def tails(self, topic_id: int, partition: int) -> list[int]:
        """The newest sequence number of each lane of a partition (0 for an empty lane)."""
        found = self.lane_tails.get((topic_id, partition))
        if found is None:
            # One query per lane: MAX over an index prefix is a single lookup.
            found = [
                self.connection.execute(
                    "SELECT MAX(seq) FROM messages"
                    " WHERE topic_id = ? AND partition = ? AND priority = ?",
                    (topic_id, partition, rank),
                ).fetchone()[0]
                or 0
                for rank in range(4)
            ]
            self.lane_tails[(topic_id, partition)] = found
        return found

    def held(self, sub_id: int) -> Holdings:
        """How many deliveries each consumer of a subscription holds (kept up to date by the
        operations that hand out, settle and release them)."""
        found = self.holdings.get(sub_id)
        if found is None:
            rows = self.connection.execute(
                "SELECT member, COUNT(*) FROM in_flight WHERE sub_id = ? GROUP BY member",
                (sub_id,),
            )
            found = self.holdings[sub_id] = dict(rows)
        return found

    def unhold(self, sub_id: int, members: list[str | None]) -> None:
        """Deliveries of these members (one entry each) were just deleted from in flight."""
        held = self.holdings.get(sub_id)
        if held is None:
            return  # not read yet: when it is, the table already lacks them
        for member in members:
            held[member] -= 1

    def keep_seq_high(self) -> None:
        """Record the highest sequence number handed out: about to delete messages, which
        may include the newest one, whose number must not come back after a restart."""
        self.connection.execute(
            "UPDATE meta SET value = ? WHERE name = 'seq_high'", (self.next_seq - 1,)
        )

    def rolled_back(self) -> None:
        """An operation was undone: forget what it may have changed in the caches (they are
        read again when needed). The counters stay ahead, which only leaves gaps."""
        self.lane_tails.clear()
        self.topics.clear()
        self.subscriptions.clear()
        self.holdings.clear()

    def close(self) -> None:
        self.connection.close()
