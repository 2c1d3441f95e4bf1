"""GroupCommit: concurrent publishes to one topic, stored by one storage call while another
is in flight (the Redis and PostgreSQL backends share it)."""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

from pubsubgo.core.errors import SubscriptionBacklogFull, TopicFull
from pubsubgo.core.messages import MessageDraft, MessageId
from pubsubgo.core.topics import Topic

logger = logging.getLogger(__name__)

#: A merged call stores at most this many messages and payload bytes, so that one call
#: never holds storage for long (a batch of 1000 × 1 KiB takes about 6 ms of Redis's time).
MAX_MERGED_DRAFTS = 1000
MAX_MERGED_BYTES = 4 << 20
#: Calls for one topic at once: two keep storage busy with one while the broker sends the
#: next; more would only queue there (Redis runs scripts one at a time, PostgreSQL
#: serialises a partition's publishes on its row).
MAX_IN_FLIGHT = 2

Store = Callable[[Topic, Sequence[MessageDraft]], Awaitable[list[MessageId]]]


@dataclass(slots=True)
class _Waiting:
    """A publish that arrived while a call for its topic was in flight."""

    topic: Topic
    drafts: Sequence[MessageDraft]
    ids: asyncio.Future[list[MessageId]]
    size: int = field(init=False)

    def __post_init__(self) -> None:
        self.size = sum(len(d.data) for d in self.drafts)


class GroupCommit:
    """Stores one topic's publishes, merging those that arrive while calls are in flight.

    Up to ``max_in_flight`` publishes go out at once, each as its own call: with capacity
    to spare no wait is added, and Redis works on one call while the broker prepares the
    next. Publishes that arrive while all are busy wait for a call to finish, then go out
    together in one call (in the order they arrived, each batch contiguous and in its own
    order), which turns a burst of single-message requests into a few script calls
    instead of one round trip each.

    Each batch stays atomic: a merged call is one script per slot group, like a single
    batch. When a merged call is refused because the topic or a subscription's backlog is
    full (overflow ``reject``),
    each batch is stored alone for its own answer; any other failure (no such topic,
    storage unavailable) is every waiting batch's, as it would have been alone.

    Args:
        store: stores one batch (the message log's own append).
        idle: called when nothing is in flight or waiting any more.
        max_in_flight: calls for this topic at once.
    """

    def __init__(
        self, store: Store, idle: Callable[[], None], max_in_flight: int = MAX_IN_FLIGHT
    ) -> None:
        self._store = store
        self._idle = idle
        self._max_in_flight = max_in_flight
        self._in_flight = 0
        self._waiting: deque[_Waiting] = deque()

    async def append(self, topic: Topic, drafts: Sequence[MessageDraft]) -> list[MessageId]:
        """Store ``drafts``; their ids in order."""
        if self._in_flight >= self._max_in_flight:
            waiting = _Waiting(topic, drafts, asyncio.get_running_loop().create_future())
            self._waiting.append(waiting)
            return await waiting.ids
        self._in_flight += 1
        try:
            return await self._store(topic, drafts)
        finally:
            self._call_done()

    def _call_done(self) -> None:
        """A call finished: store what waited meanwhile, or be idle."""
        self._in_flight -= 1
        if self._waiting:
            self._in_flight += 1
            asyncio.get_running_loop().create_task(self._drain(), name="redis group commit")
        elif self._in_flight == 0:
            self._idle()

    async def _drain(self) -> None:
        try:
            await self._store_merged(self._take())
        except Exception:
            # Never expected: failures are handed to the waiting publishes themselves.
            logger.exception("storing merged publishes failed")
        finally:
            self._call_done()

    def _take(self) -> list[_Waiting]:
        """The oldest waiting publishes (not given up by their caller) within the caps."""
        taken: list[_Waiting] = []
        drafts = size = 0
        while self._waiting:
            head = self._waiting[0]
            if head.ids.done():  # its caller went away before it was sent: not stored
                self._waiting.popleft()
                continue
            if taken and (
                drafts + len(head.drafts) > MAX_MERGED_DRAFTS or size + head.size > MAX_MERGED_BYTES
            ):
                break
            taken.append(self._waiting.popleft())
            drafts += len(head.drafts)
            size += head.size
        return taken

    async def _store_merged(self, batch: list[_Waiting]) -> None:
        if not batch:
            return
        if len(batch) == 1:
            await _settle(batch[0], self._store(batch[0].topic, batch[0].drafts))
            return
        merged = [draft for waiting in batch for draft in waiting.drafts]
        try:
            ids = await self._store(batch[-1].topic, merged)
        except (TopicFull, SubscriptionBacklogFull):
            # Together they did not fit; alone some may: each gets its own answer.
            for waiting in batch:
                await _settle(waiting, self._store(waiting.topic, waiting.drafts))
            return
        except Exception as error:
            for waiting in batch:
                _fail(waiting, error)
            return
        start = 0
        for waiting in batch:
            end = start + len(waiting.drafts)
            if not waiting.ids.done():
                waiting.ids.set_result(ids[start:end])
            start = end


async def _settle(waiting: _Waiting, stored: Awaitable[list[MessageId]]) -> None:
    try:
        ids = await stored
    except Exception as error:
        _fail(waiting, error)
    else:
        if not waiting.ids.done():
            waiting.ids.set_result(ids)


def _fail(waiting: _Waiting, error: Exception) -> None:
    if not waiting.ids.done():
        waiting.ids.set_exception(error)
