"""SyncClient: a blocking wrapper of the asyncio :class:`~pubsubgo.client.asyncio.Client`.

The async client runs on a private event loop in a background (daemon) thread, and every
blocking call submits a coroutine to that loop and waits for its result. Unlike
``asyncio.run`` per call, this works where an event loop is already running in the
caller's thread (Jupyter, IPython, a web framework's worker), keeps one HTTP session and
its connection pool across calls, and lets a subscription stream and a publisher live
between calls. Inside async code use the async client instead: a blocking call stalls the
caller's loop while it waits.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from collections.abc import Callable, Coroutine, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any, ParamSpec, TypeVar

from pubsubgo.client.asyncio import Client, Publishable
from pubsubgo.client.messages import DeliveryMode, OutgoingMessage, Priority, ReceivedMessage
from pubsubgo.client.publisher import Publisher, PublisherStats
from pubsubgo.client.resources import Groups, Subscriptions, Topics
from pubsubgo.client.stream import MessageStream, StreamMessage
from pubsubgo.client.transport import REQUEST_TIMEOUT_SECONDS

P = ParamSpec("P")
T = TypeVar("T")


class LoopThread:
    """An event loop running in its own daemon thread."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self.loop.run_forever, name="pubsubgo-client", daemon=True
        )
        self._thread.start()

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        """Run ``coroutine`` on the loop and wait for its result (Ctrl-C cancels it)."""
        if threading.current_thread() is self._thread:
            coroutine.close()
            raise RuntimeError("a SyncClient call from its own loop would wait forever")
        future = asyncio.run_coroutine_threadsafe(coroutine, self.loop)
        try:
            return future.result()
        except BaseException:
            future.cancel()
            raise

    def wrap(self, method: Callable[P, Coroutine[Any, Any, T]]) -> Callable[P, T]:
        """A blocking version of the coroutine function ``method``."""

        def blocking(*args: P.args, **kwargs: P.kwargs) -> T:
            return self.run(method(*args, **kwargs))

        blocking.__doc__ = method.__doc__
        blocking.__name__ = method.__name__
        return blocking

    def stop(self) -> None:
        """Stop the loop and its thread."""
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join()
        self.loop.close()


class SyncTopics:
    """``SyncClient.topics``: the blocking :class:`~pubsubgo.client.resources.Topics`."""

    def __init__(self, runner: LoopThread, topics: Topics) -> None:
        self.create = runner.wrap(topics.create)
        self.list = runner.wrap(topics.list)
        self.describe = runner.wrap(topics.describe)
        self.stats = runner.wrap(topics.stats)
        self.delete = runner.wrap(topics.delete)
        self.get_message = runner.wrap(topics.get_message)
        self.browse = runner.wrap(topics.browse)


class SyncSubscriptions:
    """``SyncClient.subscriptions``: the blocking
    :class:`~pubsubgo.client.resources.Subscriptions`."""

    def __init__(self, runner: LoopThread, subscriptions: Subscriptions) -> None:
        self.create = runner.wrap(subscriptions.create)
        self.list = runner.wrap(subscriptions.list)
        self.describe = runner.wrap(subscriptions.describe)
        self.delete = runner.wrap(subscriptions.delete)
        self.seek = runner.wrap(subscriptions.seek)
        self.redrive = runner.wrap(subscriptions.redrive)


class SyncGroups:
    """``SyncClient.groups``: the blocking :class:`~pubsubgo.client.resources.Groups`."""

    def __init__(self, runner: LoopThread, groups: Groups) -> None:
        self.join = runner.wrap(groups.join)
        self.heartbeat = runner.wrap(groups.heartbeat)
        self.leave = runner.wrap(groups.leave)
        self.describe = runner.wrap(groups.describe)


class SyncClient:
    """A blocking client: the same calls as :class:`Client`, without ``await``.

    ``with SyncClient("http://localhost:8081") as client:`` closes it (and its loop thread)
    at the end. ``publish`` always waits for storage (there is no ``async_`` here).
    """

    def __init__(
        self, url: str, token: str | None = None, *, timeout: float = REQUEST_TIMEOUT_SECONDS
    ) -> None:
        self._runner = LoopThread()
        self._client = Client(url, token, timeout=timeout)
        runner, client = self._runner, self._client
        self.topics = SyncTopics(runner, client.topics)
        self.subscriptions = SyncSubscriptions(runner, client.subscriptions)
        self.groups = SyncGroups(runner, client.groups)
        self.ready = runner.wrap(client.ready)
        self.pull = runner.wrap(client.pull)
        self.ack = runner.wrap(client.ack)
        self.nack = runner.wrap(client.nack)
        self.extend = runner.wrap(client.extend)

    def __enter__(self) -> SyncClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the client's streams and session, then stop the loop thread."""
        self._runner.run(self._client.aclose())
        self._runner.stop()

    def publish(
        self, topic: str, data: bytes | str, *,
        key: str | None = None, attributes: Mapping[str, str] | None = None,
        priority: Priority | None = None, delivery_mode: DeliveryMode | None = None,
        ttl_seconds: float | None = None, delay_seconds: float | None = None,
        deliver_at: datetime | None = None, dedup_id: str | None = None,
    ) -> str:  # fmt: skip
        """Publish one message and return its id (see :meth:`Client.publish`)."""
        message = OutgoingMessage(
            data, key=key, attributes=dict(attributes or {}), priority=priority,
            delivery_mode=delivery_mode, ttl_seconds=ttl_seconds, delay_seconds=delay_seconds,
            deliver_at=deliver_at, dedup_id=dedup_id,
        )  # fmt: skip
        return self.publish_batch(topic, [message])[0]

    def publish_batch(self, topic: str, messages: Iterable[Publishable]) -> list[str]:
        """Publish many messages in one request and return their ids in order."""
        return self._runner.run(self._client.publish_batch(topic, list(messages)))

    def publisher(self, topic: str, **settings: Any) -> SyncPublisher:
        """A batching publisher (the settings of :meth:`Client.publisher`)."""
        return SyncPublisher(self._runner, self._client.publisher(topic, **settings))

    def subscribe(self, subscription: str, **options: Any) -> SyncStream:
        """A blocking iterator of the subscription's messages (the options of
        :meth:`Client.subscribe`); use it as ``with client.subscribe(...) as stream``."""
        return SyncStream(self._runner, self._client.subscribe(subscription, **options))


class SyncPublisher:
    """The blocking :class:`~pubsubgo.client.publisher.Publisher`."""

    def __init__(self, runner: LoopThread, publisher: Publisher) -> None:
        self._runner = runner
        self._publisher = publisher

    @property
    def stats(self) -> PublisherStats:
        """Messages stored, requests sent and messages failed so far."""
        return self._publisher.stats

    def publish(self, message: OutgoingMessage | bytes | str) -> concurrent.futures.Future[str]:
        """Queue one message (waiting only for backpressure); the future gives its id."""
        result: concurrent.futures.Future[str] = concurrent.futures.Future()

        async def enqueue() -> None:
            queued = await self._publisher.publish(message)
            queued.add_done_callback(lambda done: _copy_outcome(done, result))

        self._runner.run(enqueue())
        return result

    def flush(self) -> None:
        """Send what is buffered and wait for every batch."""
        self._runner.run(self._publisher.flush())

    def close(self) -> None:
        """Flush, then refuse further publishes."""
        self._runner.run(self._publisher.aclose())

    def __enter__(self) -> SyncPublisher:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def _copy_outcome(done: asyncio.Future[str], result: concurrent.futures.Future[str]) -> None:
    error = done.exception()
    if error is not None:
        result.set_exception(error)
    else:
        result.set_result(done.result())


@dataclass(frozen=True, slots=True)
class SyncMessage(ReceivedMessage):
    """A message of a :class:`SyncStream`; settle it with :meth:`ack` or :meth:`nack`."""

    _message: StreamMessage = field(repr=False, compare=False)
    _runner: LoopThread = field(repr=False, compare=False)

    def ack(self) -> bool:
        """See :meth:`StreamMessage.ack`."""
        return self._runner.run(self._message.ack())

    def nack(self, delay: float | None = None) -> bool:
        """See :meth:`StreamMessage.nack`."""
        return self._runner.run(self._message.nack(delay))

    def extend(self, seconds: float | None = None) -> bool:
        """See :meth:`StreamMessage.extend`."""
        return self._runner.run(self._message.extend(seconds))


class SyncStream:
    """The blocking :class:`~pubsubgo.client.stream.MessageStream`."""

    def __init__(self, runner: LoopThread, stream: MessageStream) -> None:
        self._runner = runner
        self._stream = stream

    def __enter__(self) -> SyncStream:
        self._runner.run(self._stream.open())
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the socket; unsettled messages go back to the broker."""
        self._runner.run(self._stream.aclose())

    def __iter__(self) -> Iterator[SyncMessage]:
        return self

    def __next__(self) -> SyncMessage:
        try:
            message = self._runner.run(self._stream.__anext__())
        except StopAsyncIteration:
            raise StopIteration from None
        data = {f.name: getattr(message, f.name) for f in fields(ReceivedMessage)}
        return SyncMessage(**data, _message=message, _runner=self._runner)
