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

from collections.abc import Awaitable, Iterable, Sequence
from typing import Any, TypeVar

from grpc import aio

from pubsubgo.adapters.grpc.generated import pubsub_pb2 as pb
from pubsubgo.adapters.grpc.generated import pubsub_pb2_grpc
from pubsubgo.client import grpc_models as convert
from pubsubgo.client.grpc_stream import GrpcMessageStream
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


class GrpcCalls:
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

    def __init__(self, calls: GrpcCalls) -> None:
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

    def __init__(self, calls: GrpcCalls) -> None:
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
        self._calls = GrpcCalls(target, token)
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
