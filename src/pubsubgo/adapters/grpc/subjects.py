"""SubjectIds: go-broker's message ids, int32 per subject from 1, kept by this process.

A go-broker id names a message of a subject; the broker's own ids (``"0-17"``) belong to
the storage backend. This process numbers the messages it publishes per subject and keeps
the id of each fetchable one (published with an expiration) until it expires, so memory
follows what can still be fetched. The numbering lives in the process: it starts again
from 1 when the broker restarts, and with several replicas a Fetch must reach the replica
that published (docs/api.md).
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field

from pubsubgo.core.errors import LimitError
from pubsubgo.core.messages import MessageId

#: go-broker's ids are protobuf int32.
MAX_ID = 2**31 - 1


class SubjectExhausted(LimitError):
    """Raised when a subject has used every int32 id (restart the broker to start over)."""

    code = "subject_ids_exhausted"

    def __init__(self, subject: str) -> None:
        super().__init__(f"subject {subject!r} has used all {MAX_ID} ids")
        self.subject = subject


@dataclass(slots=True)
class _Subject:
    last_id: int = 0
    #: go-broker id -> the broker's id, for the fetchable messages not yet expired.
    ids: dict[int, MessageId] = field(default_factory=dict)
    #: (expires at, go-broker id): a heap, earliest first.
    expiries: list[tuple[float, int]] = field(default_factory=list)

    def forget_expired(self, now: float) -> None:
        while self.expiries and self.expiries[0][0] <= now:
            self.ids.pop(heapq.heappop(self.expiries)[1], None)


class SubjectIds:
    """Numbers each subject's messages and finds them again by number."""

    def __init__(self) -> None:
        self._subjects: dict[str, _Subject] = {}

    def assign(
        self, subject: str, message_id: MessageId, expires_at: float | None, now: float
    ) -> int:
        """The next id of ``subject`` for the stored message ``message_id``; fetchable until
        ``expires_at`` (None: never, a fire-and-forget message).

        Raises:
            SubjectExhausted: the subject has used every int32 id.
        """
        found = self._subjects.get(subject)
        if found is None:
            found = self._subjects[subject] = _Subject()
        if found.last_id >= MAX_ID:
            raise SubjectExhausted(subject)
        found.last_id += 1
        found.forget_expired(now)
        if expires_at is not None:
            found.ids[found.last_id] = message_id
            heapq.heappush(found.expiries, (expires_at, found.last_id))
        return found.last_id

    def lookup(self, subject: str, id_: int, now: float) -> MessageId | None:
        """The stored message ``id_`` names, or None when it is not (or no longer) known."""
        found = self._subjects.get(subject)
        if found is None:
            return None
        found.forget_expired(now)
        return found.ids.get(id_)
