"""GrpcClient: the asyncio client over the broker's gRPC API (``pubsubgo.v1.PubSub``).

It has the REST client's surface (``topics``, ``subscriptions``, ``groups.describe``,
``publish``, ``publish_batch``, ``publisher``, ``pull``, ``ack``, ``nack``, ``extend``,
``subscribe``) and returns the same models and exceptions, so code and ``pubsub-cli --grpc``
switch transport without changes::

    async with GrpcClient("localhost:50051") as client:
        await client.publish("orders", b"hello")
        async with client.subscribe("billing") as stream:
            async for message in stream:
                await message.ack()
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from grpc import aio

from pubsubgo.adapters.grpc.generated import pubsub_pb2 as pb
from pubsubgo.adapters.grpc.generated import pubsub_pb2_grpc
from pubsubgo.client import grpc_models as convert
from pubsubgo.client.errors import ClientClosed
from pubsubgo.client.messages import Message, OutgoingMessage, ReceivedMessage, SettleResult
from pubsubgo.client.models import (
    Group,
    RetryPolicy,
    Subscription,
    SubscriptionDescription,
    Topic,
    TopicDescription,
)
from pubsubgo.client.publisher import Publisher

T = TypeVar("T")
Publishable = OutgoingMessage | bytes | str


class _Calls:
    """The stub of one channel, with failures as the client's exceptions."""

    def __init__(self, target: str, token: str | None) -> None:
        self.target = target.removeprefix("grpc://")
        self.metadata = (("authorization", f"Bearer {token}"),) if token else ()
        self.channel = aio.insecure_channel(self.target)
        self.stub: Any = pubsub_pb2_grpc.PubSubStub(self.channel)  # typed for sync channels

    async def __call__(self, method: str, request: Any) -> Any:
        try:
            return await getattr(self.stub, method)(request, metadata=self.metadata)
        except aio.AioRpcError as error:
            raise convert.client_error(error, self.target) from None

    async def safely(self, call: Awaitable[T]) -> T:
        try:
            return await call
        except aio.AioRpcError as error:
            raise convert.client_error(error, self.target) from None


class GrpcTopics:
    """``client.topics`` over gRPC."""

    def __init__(self, calls: _Calls) -> None:
        self._calls = calls

    async def create(self, name: str, **options: Any) -> Topic:
        """Create a topic (options as ``Client.topics.create``; None: the default)."""
        given = {k: v for k, v in options.items() if v is not None}
        for enum in ("overflow", "compression"):
            if enum in given:
                given[enum] = convert.enum_number(enum, given[enum])
        return convert.topic(await self._calls("CreateTopic", pb.Topic(name=name, **given)))

    async def list(self) -> list[Topic]:
        answer = await self._calls("ListTopics", pb.ListTopicsRequest())
        return [convert.topic(t) for t in answer.topics]

    async def describe(self, name: str) -> TopicDescription:
        answer = await self._calls("GetTopic", pb.GetTopicRequest(name=name))
        return convert.topic_description(answer)

    async def delete(self, name: str, *, force: bool = False) -> None:
        await self._calls("DeleteTopic", pb.DeleteTopicRequest(name=name, force=force))

    async def get_message(self, topic: str, message_id: str) -> Message:
        return convert.message(
            await self._calls("Fetch", pb.FetchRequest(topic=topic, id=message_id))
        )


class GrpcSubscriptions:
    """``client.subscriptions`` over gRPC."""

    def __init__(self, calls: _Calls) -> None:
        self._calls = calls

    async def create(
        self, name: str, topic: str, *, retry_policy: RetryPolicy | None = None, **options: Any
    ) -> Subscription:
        """Create a subscription (options as ``Client.subscriptions.create``)."""
        given = {k: v for k, v in options.items() if v is not None}
        for enum in ("type", "start"):
            if enum in given:
                given[enum] = convert.enum_number(enum, given[enum])
        if retry_policy is not None:
            given["retry_policy"] = pb.RetryPolicy(
                minimum_backoff_seconds=retry_policy.minimum_backoff_seconds,
                maximum_backoff_seconds=retry_policy.maximum_backoff_seconds,
            )
        spec = pb.Subscription(name=name, topic=topic, **given)
        return convert.subscription(await self._calls("CreateSubscription", spec))

    async def list(self, topic: str | None = None) -> list[Subscription]:
        answer = await self._calls(
            "ListSubscriptions", pb.ListSubscriptionsRequest(topic=topic or "")
        )
        return [convert.subscription(s) for s in answer.subscriptions]

    async def describe(self, name: str) -> SubscriptionDescription:
        answer = await self._calls("GetSubscription", pb.GetSubscriptionRequest(name=name))
        return convert.subscription_description(answer)

    async def delete(self, name: str) -> None:
        await self._calls("DeleteSubscription", pb.DeleteSubscriptionRequest(name=name))

    async def seek(self, name: str, *, position: str | None = None, timestamp: Any = None) -> None:
        """Move to ``earliest``/``latest`` or a time (an aware datetime or epoch seconds)."""
        request = pb.SeekRequest(subscription=name)
        if position is not None:
            request.position = pb.StartPosition.ValueType(convert.enum_number("start", position))
        if timestamp is not None:
            seconds = timestamp if isinstance(timestamp, int | float) else timestamp.timestamp()
            request.time.FromNanoseconds(int(seconds * 1e9))
        await self._calls("Seek", request)

    async def redrive(self, name: str) -> int:
        return int((await self._calls("Redrive", pb.RedriveRequest(subscription=name))).moved)


class GrpcGroups:
    """``client.groups`` over gRPC: describe (membership comes with a StreamingPull)."""

    def __init__(self, subscriptions: GrpcSubscriptions) -> None:
        self._subscriptions = subscriptions

    async def describe(self, subscription: str) -> Group:
        found = await self._subscriptions.describe(subscription)
        return Group(subscription=found.name, generation=found.generation, members=found.members)


class GrpcClient:
    """An asyncio client of one broker's gRPC listener.

    Args:
        target: ``host:port`` of the listener (``grpc://`` in front is accepted).
        token: a bearer token, sent as the ``authorization`` metadata.
    """

    def __init__(self, target: str, token: str | None = None) -> None:
        self._calls = _Calls(target, token)
        self.topics = GrpcTopics(self._calls)
        self.subscriptions = GrpcSubscriptions(self._calls)
        self.groups = GrpcGroups(self.subscriptions)
        self._streams: set[GrpcMessageStream] = set()

    @property
    def url(self) -> str:
        return f"grpc://{self._calls.target}"

    async def __aenter__(self) -> GrpcClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close every stream and the channel."""
        for stream in list(self._streams):
            await stream.aclose()
        await self._calls.channel.close()

    async def publish(self, topic: str, data: bytes | str, **options: Any) -> str:
        """Publish one message (options as :class:`OutgoingMessage`); its id."""
        return (await self.publish_batch(topic, [OutgoingMessage(data, **options)]))[0]

    async def publish_batch(self, topic: str, messages: Iterable[Publishable]) -> list[str]:
        """Publish many messages in one call; the ids, in order."""
        request = pb.PublishRequest(topic=topic, messages=[convert.outgoing(m) for m in messages])
        return list((await self._calls("Publish", request)).ids)

    def publisher(self, topic: str, **options: Any) -> Publisher:
        """A :class:`Publisher` batching many small publishes to ``topic``."""
        return Publisher(self._send_batch, topic, **options)

    async def _send_batch(self, topic: str, messages: Sequence[OutgoingMessage]) -> list[str]:
        return await self.publish_batch(topic, messages)

    async def pull(
        self, subscription: str, max_messages: int = 100, *, wait_seconds: float = 0.0,
        member_id: str | None = None,
    ) -> list[ReceivedMessage]:  # fmt: skip
        """Up to ``max_messages`` deliveries, waiting up to ``wait_seconds`` for one."""
        request = pb.PullRequest(
            subscription=subscription, max_messages=max_messages,
            wait_seconds=wait_seconds, member_id=member_id or "",
        )  # fmt: skip
        answer = await self._calls("Pull", request)
        return [convert.received(m) for m in answer.received_messages]

    async def ack(self, subscription: str, ack_ids: Sequence[str]) -> SettleResult:
        request = pb.AckRequest(subscription=subscription, ack_ids=ack_ids)
        return convert.settled(await self._calls("Ack", request))

    async def nack(
        self, subscription: str, ack_ids: Sequence[str], *, delay_seconds: float | None = None
    ) -> SettleResult:
        request = pb.NackRequest(
            subscription=subscription, ack_ids=ack_ids, delay_seconds=delay_seconds
        )
        return convert.settled(await self._calls("Nack", request))

    async def extend(
        self, subscription: str, ack_ids: Sequence[str], seconds: float
    ) -> SettleResult:
        request = pb.ExtendRequest(subscription=subscription, ack_ids=ack_ids, seconds=seconds)
        return convert.settled(await self._calls("Extend", request))

    def subscribe(
        self, subscription: str, *, max_in_flight: int | None = None, **_: Any
    ) -> GrpcMessageStream:
        """A StreamingPull of ``subscription`` (other options of ``Client.subscribe`` are
        accepted and ignored: the stream does not reconnect)."""
        stream = GrpcMessageStream(self._calls, subscription, max_in_flight)
        self._streams.add(stream)
        return stream


@dataclass(frozen=True, slots=True)
class GrpcStreamMessage(ReceivedMessage):
    """A message delivered on a StreamingPull; settle it with :meth:`ack` or :meth:`nack`."""

    _stream: GrpcMessageStream = field(repr=False, compare=False)

    async def ack(self) -> bool:
        """Acknowledge; False when the broker no longer held it (it will come again)."""
        return await self._stream.settle(pb.StreamingPullRequest(ack_ids=[self.ack_id]))

    async def nack(self, delay: float | None = None) -> bool:
        request = pb.StreamingPullRequest(nack_ids=[self.ack_id], nack_delay_seconds=delay)
        return await self._stream.settle(request)

    async def extend(self, seconds: float | None = None) -> bool:
        request = pb.StreamingPullRequest(extend_ids=[self.ack_id], extend_seconds=seconds)
        return await self._stream.settle(request)


class GrpcMessageStream:
    """A subscription's messages over a StreamingPull, as an async iterator."""

    def __init__(self, calls: _Calls, subscription: str, max_in_flight: int | None) -> None:
        self.subscription = subscription
        self.member_id: str | None = None
        self.assignment: tuple[int, ...] = ()
        self._calls = calls
        self._max_in_flight = max_in_flight or 0
        self._call: Any = None
        self._messages: asyncio.Queue[GrpcStreamMessage | Exception | None] = asyncio.Queue()
        self._waiting: dict[int, asyncio.Future[pb.Settled]] = {}
        self._requests = 0
        self._reader: asyncio.Task[None] | None = None

    async def open(self) -> None:
        """Start the stream and wait for its membership.

        Raises:
            NotFound: no such subscription.
        """
        if self._call is not None:
            return
        self._call = self._calls.stub.StreamingPull(metadata=self._calls.metadata)
        first = pb.StreamingPullRequest(
            subscription=self.subscription, max_in_flight=self._max_in_flight
        )
        await self._calls.safely(self._call.write(first))
        answer = await self._calls.safely(self._call.read())
        if answer is aio.EOF:
            raise ClientClosed("stream")
        self._membership(answer.membership)
        self._reader = asyncio.create_task(self._read(), name="pubsubgo grpc stream")

    async def aclose(self) -> None:
        """End the stream: the broker redelivers what was not settled."""
        if self._call is not None:
            self._call.cancel()
        if self._reader is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
        self._messages.put_nowait(None)

    async def __aenter__(self) -> GrpcMessageStream:
        await self.open()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    def __aiter__(self) -> AsyncIterator[GrpcStreamMessage]:
        return self

    async def __anext__(self) -> GrpcStreamMessage:
        await self.open()
        item = await self._messages.get()
        if item is None:
            self._messages.put_nowait(None)  # later calls end too
            raise StopAsyncIteration
        if isinstance(item, Exception):
            raise item
        return item

    async def settle(self, request: pb.StreamingPullRequest) -> bool:
        """Send an ack, nack or extend and wait for the broker's ``settled`` answer."""
        if self._call is None or self._call.done():
            return False
        self._requests += 1
        request.request_id = self._requests
        answer: asyncio.Future[pb.Settled] = asyncio.get_running_loop().create_future()
        self._waiting[request.request_id] = answer
        await self._calls.safely(self._call.write(request))
        settled = await answer
        return not settled.unknown_ack_ids

    async def _read(self) -> None:
        try:
            while (answer := await self._call.read()) is not aio.EOF:
                self._dispatch(answer)
        except asyncio.CancelledError:
            pass  # the stream was closed
        except aio.AioRpcError as error:
            if error.code().name != "CANCELLED":
                self._messages.put_nowait(convert.client_error(error, self._calls.target))
        finally:
            for waiting in self._waiting.values():
                if not waiting.done():
                    waiting.set_result(pb.Settled(unknown_ack_ids=["?"]))
            self._messages.put_nowait(None)

    def _dispatch(self, answer: pb.StreamingPullResponse) -> None:
        if answer.HasField("settled"):
            waiting = self._waiting.pop(answer.settled.request_id, None)
            if waiting is not None and not waiting.done():
                waiting.set_result(answer.settled)
        elif answer.HasField("membership"):
            self._membership(answer.membership)
        for received in answer.received_messages:
            fields = convert.received_fields(received)
            self._messages.put_nowait(GrpcStreamMessage(**fields, _stream=self))

    def _membership(self, membership: pb.Membership) -> None:
        self.member_id = membership.member_id
        self.assignment = tuple(membership.assignment)
