"""FramePipeline: a socket's ack and publish frames, handled in order by a task of their own."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque

from pubsubgo.adapters.websocket.publishing import (
    MAX_RUN_BYTES,
    MAX_RUN_MESSAGES,
    FramePublisher,
    Publish,
)
from pubsubgo.adapters.websocket.settling import AckSettler
from pubsubgo.adapters.wire.schemas.frames import AckFrame
from pubsubgo.services.acknowledgment import MAX_ACK_IDS

logger = logging.getLogger(__name__)

#: Ack ids and messages a socket may have waiting for storage before it stops reading
#: frames: a client that sends faster than storage takes is slowed down instead of filling
#: the broker's memory.
MAX_PENDING_ITEMS = 4 * MAX_ACK_IDS

Item = AckFrame | Publish


def _weight(item: Item) -> int:
    return len(item.ack_ids) if isinstance(item, AckFrame) else len(item.requests)


class FramePipeline:
    """Handles a socket's ack and publish frames in the order they came, while the socket
    keeps reading.

    Frames that arrive while storage is busy with earlier ones queue up, and the next call
    takes the whole run of the same kind at the head of the queue: consecutive acks are
    settled together, consecutive publishes to one topic stored together. A client acking
    or publishing one message per frame is then not held to one storage round trip per
    frame. Each frame is still answered on its own and in order.

    Args:
        settler: settles runs of ack frames.
        publisher: stores runs of publish frames.
    """

    def __init__(self, settler: AckSettler, publisher: FramePublisher) -> None:
        self._settler = settler
        self._publisher = publisher
        self._pending: deque[Item] = deque()
        self._pending_items = 0
        self._wake = asyncio.Event()
        self._idle = asyncio.Event()
        self._idle.set()
        self._room = asyncio.Event()
        self._room.set()
        self._task: asyncio.Task[None] | None = None

    async def put(self, item: Item) -> None:
        """Queue an ack frame or a publish; waits only while MAX_PENDING_ITEMS are queued."""
        self._pending.append(item)
        self._pending_items += _weight(item)
        self._idle.clear()
        self._wake.set()
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="ws frames")
        if self._pending_items >= MAX_PENDING_ITEMS:
            self._room.clear()
            await self._room.wait()

    async def done(self) -> None:
        """Wait until every queued frame is handled and answered."""
        if not self._idle.is_set():
            await self._idle.wait()

    async def aclose(self) -> None:
        """Handle what is queued, then stop."""
        if self._task is None:
            return
        await self.done()
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._pending:
                try:
                    await self._handle_head()
                except Exception:
                    # Never expected: the settler and publisher answer failures themselves.
                    logger.exception("handling WebSocket frames failed")
            self._idle.set()

    async def _handle_head(self) -> None:
        if isinstance(self._pending[0], AckFrame):
            await self._settler.settle(self._take_acks())
        else:
            await self._publisher.publish(self._take_publishes())

    def _take_acks(self) -> list[AckFrame]:
        """The ack frames at the head, as many as one settle call may take."""
        head = self._pending.popleft()
        assert isinstance(head, AckFrame)
        run, size = [head], len(head.ack_ids)
        while self._pending:
            following = self._pending[0]
            if not isinstance(following, AckFrame):
                break
            if size + len(following.ack_ids) > MAX_ACK_IDS:
                break
            size += len(following.ack_ids)
            run.append(following)
            self._pending.popleft()
        self._taken(size)
        return run

    def _take_publishes(self) -> list[Publish]:
        """The publishes to one topic at the head that one publisher call may take."""
        head = self._pending.popleft()
        assert isinstance(head, Publish)
        run, messages, size = [head], len(head.requests), head.size
        while self._pending:
            following = self._pending[0]
            if not isinstance(following, Publish) or following.frame.topic != head.frame.topic:
                break
            more, larger = messages + len(following.requests), size + following.size
            if more > MAX_RUN_MESSAGES or larger > MAX_RUN_BYTES:
                break
            messages, size = more, larger
            run.append(following)
            self._pending.popleft()
        self._taken(messages)
        return run

    def _taken(self, items: int) -> None:
        self._pending_items -= items
        if self._pending_items < MAX_PENDING_ITEMS:
            self._room.set()
