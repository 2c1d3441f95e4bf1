"""The MessageLog port: a topic's stored messages."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from pubsubgo.core.messages import Message, MessageDraft, MessageId
from pubsubgo.core.topics import PartitionSummary, Topic, TopicStats


class MessageLog(Protocol):
    """Appends, reads and trims the messages of topics."""

    async def append(self, topic: Topic, drafts: Sequence[MessageDraft]) -> list[MessageId]:
        """Store a batch atomically and return one id per draft, in order.

        Ids increase within a partition. A draft whose ``dedup_id`` was stored less than
        ``topic.dedup_window_seconds`` before its ``published_at`` (earlier in the same batch
        included) stores nothing and gets the first message's id. On a bounded topic the
        ``overflow`` policy applies: ``reject`` stores nothing of the batch if it does not fit,
        ``drop_oldest`` removes the oldest messages to make room.

        Raises:
            TopicNotFound: the topic was deleted.
            TopicFull: the batch does not fit a ``reject`` topic.
        """
        ...

    async def fetch(self, topic: str, ids: Sequence[MessageId]) -> dict[MessageId, Message]:
        """The stored messages among ``ids``; ids not (or no longer) stored are left out."""
        ...

    async def browse(self, topic: str, after: MessageId | None, limit: int) -> list[Message]:
        """Up to ``limit`` stored messages in order (partition by partition), after ``after``.

        ``after`` need not be stored any more (browsing goes on from where it was), but it
        must be an id of the form this backend issues.

        Raises:
            TopicNotFound: no such topic.
            InvalidArgument: ``after`` is not of the form of this backend's ids (or names a
                position past what the backend counts to), so it names no place to go on from.
        """
        ...

    async def stats(self, topic: str) -> TopicStats:
        """Counts and sizes of what the topic holds.

        Raises:
            TopicNotFound: no such topic.
        """
        ...

    async def partitions(self, topic: str) -> list[PartitionSummary]:
        """Each partition of the topic, in order: its stored messages (expired ones
        included until retention removes them), its oldest and its newest message's id.
        One round trip's worth of reads; meant for inspection, not a hot path.

        Raises:
            TopicNotFound: no such topic.
        """
        ...

    async def remove(self, topic: str, ids: Sequence[MessageId]) -> int:
        """Delete the given messages from the topic; returns how many were stored."""
        ...

    async def trim(self, topic: str, published_before: float) -> int:
        """Delete messages published before ``published_before``; returns how many."""
        ...
