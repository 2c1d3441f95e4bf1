"""Publisher: client-side batching of many small publishes into few requests."""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from pubsubgo.client.errors import ClientClosed
from pubsubgo.client.messages import OutgoingMessage

logger = logging.getLogger(__name__)

#: Messages per request by default: enough to amortise a round trip, far below the broker's
#: limit of 1000 per batch.
DEFAULT_MAX_MESSAGES = 100
#: Payload bytes per request by default (the broker takes up to 10 MiB per batch).
DEFAULT_MAX_BYTES = 1024 * 1024
#: How long a message may wait for companions before its batch is sent: a few milliseconds
#: of latency buy batches of many messages when publishes come quickly.
DEFAULT_LINGER_SECONDS = 0.005
#: Requests in flight at once. One keeps the publish order of the messages; more raise
#: throughput but batches may then be stored out of order.
DEFAULT_MAX_CONCURRENT_BATCHES = 1

SendBatch = Callable[[str, Sequence[OutgoingMessage]], Awaitable[list[str]]]


@dataclass(frozen=True, slots=True)
class PublisherStats:
    """What a publisher has done so far.

    Attributes:
        messages: messages the broker stored.
        batches: requests sent (successful or not).
        errors: messages whose batch failed.
    """

    messages: int
    batches: int
    errors: int


@dataclass(slots=True)
class _Pending:
    message: OutgoingMessage
    future: asyncio.Future[str]


class Publisher:
    """Collects publishes to one topic and sends them in batches.

    A batch is sent when it reaches ``max_messages`` or ``max_bytes``, or ``linger_seconds``
    after its first message arrived. Batches leave in order through at most
    ``max_concurrent_batches`` requests at a time. :meth:`publish` returns a future for the
    message id; it waits only while that many batches are already queued (backpressure).
    Build one with ``client.publisher(topic)``; ``await publisher.aclose()`` (or leaving
    ``async with``) sends what is left and waits for it.
    """

    def __init__(
        self,
        send: SendBatch,
        topic: str,
        *,
        max_messages: int = DEFAULT_MAX_MESSAGES,
        max_bytes: int = DEFAULT_MAX_BYTES,
        linger_seconds: float = DEFAULT_LINGER_SECONDS,
        max_concurrent_batches: int = DEFAULT_MAX_CONCURRENT_BATCHES,
    ) -> None:
        self.topic = topic
        self._send = send
        self._max_messages = max_messages
        self._max_bytes = max_bytes
        self._linger = linger_seconds
        self._max_senders = max_concurrent_batches
        self._buffer: list[_Pending] = []
        self._buffered_bytes = 0
        self._timer: asyncio.TimerHandle | None = None
        #: Batches waiting for a sender, oldest first.
        self._queue: deque[list[_Pending]] = deque()
        self._room = asyncio.Event()
        self._senders: set[asyncio.Task[None]] = set()
        self._closed = False
        self._messages = self._batches = self._errors = 0

    @property
    def stats(self) -> PublisherStats:
        """Messages stored, requests sent and messages failed so far."""
        return PublisherStats(self._messages, self._batches, self._errors)

    async def publish(self, message: OutgoingMessage | bytes | str) -> asyncio.Future[str]:
        """Queue one message.

        Returns:
            A future for the message id; it fails with the batch's error
            (:class:`~pubsubgo.client.errors.PubSubClientError`).

        Raises:
            ClientClosed: the publisher was closed.
        """
        if self._closed:
            raise ClientClosed("publisher")
        if not isinstance(message, OutgoingMessage):
            message = OutgoingMessage(message)
        while len(self._queue) >= self._max_senders:
            self._room.clear()
            await self._room.wait()
        if self._buffer and self._buffered_bytes + message.size > self._max_bytes:
            self._seal()
        future: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        self._buffer.append(_Pending(message, future))
        self._buffered_bytes += message.size
        if len(self._buffer) >= self._max_messages:
            self._seal()
        elif self._timer is None:
            self._timer = asyncio.get_running_loop().call_later(self._linger, self._seal)
        return future

    async def flush(self) -> None:
        """Send what is buffered now and wait until every batch is answered."""
        self._seal()
        while self._senders:
            await asyncio.wait(list(self._senders))

    async def aclose(self) -> None:
        """Flush, then refuse further publishes."""
        self._closed = True
        await self.flush()

    async def __aenter__(self) -> Publisher:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    def _seal(self) -> None:
        """Close the current batch: queue it and make sure a sender will take it."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if not self._buffer:
            return
        self._queue.append(self._buffer)
        self._buffer, self._buffered_bytes = [], 0
        if len(self._senders) < self._max_senders:
            task = asyncio.create_task(self._run_sender(), name=f"publisher {self.topic}")
            self._senders.add(task)
            task.add_done_callback(self._senders.discard)

    async def _run_sender(self) -> None:
        """Send queued batches one after the other until none is left."""
        while self._queue:
            batch = self._queue.popleft()
            self._room.set()
            await self._deliver(batch)

    async def _deliver(self, batch: list[_Pending]) -> None:
        """Send one batch and settle its futures."""
        self._batches += 1
        try:
            ids = await self._send(self.topic, [p.message for p in batch])
        except Exception as error:
            self._errors += len(batch)
            logger.debug("a batch of %d to %s failed: %s", len(batch), self.topic, error)
            for pending in batch:
                if not pending.future.done():
                    pending.future.set_exception(error)
            return
        self._messages += len(batch)
        for pending, message_id in zip(batch, ids, strict=True):
            if not pending.future.done():
                pending.future.set_result(message_id)
