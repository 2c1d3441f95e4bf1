"""PubSubService: ``pubsubgo.v1.PubSub``, the broker's own gRPC API (proto/pubsubgo/v1).

Each RPC checks the caller's permission as the REST route of the same operation does, calls
one service method and converts the answer; errors, auth and metrics are the wrappers' job.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncGenerator, AsyncIterator, Iterable

from google.protobuf.empty_pb2 import Empty

from pubsubgo.adapters.grpc import messages, resources
from pubsubgo.adapters.grpc.calls import Context, Edge, streaming, unary
from pubsubgo.adapters.grpc.gate import may_see, require
from pubsubgo.adapters.grpc.generated import pubsub_pb2 as pb
from pubsubgo.adapters.grpc.generated import pubsub_pb2_grpc
from pubsubgo.adapters.grpc.streaming import StreamingPull
from pubsubgo.core.access import Action, Principal
from pubsubgo.core.messages import AckId, MessageId
from pubsubgo.services.acknowledgment import AckResult

SERVICE = "pubsubgo.v1.PubSub"
EMPTY = Empty()


class PubSubService(pubsub_pb2_grpc.PubSubServicer):
    """The ``pubsubgo.v1.PubSub`` servicer."""

    def __init__(self, edge: Edge) -> None:
        self.edge = edge
        self._broker = edge.broker

    @unary(f"{SERVICE}/CreateTopic")
    async def CreateTopic(self, request: pb.Topic, caller: Principal) -> pb.Topic:
        require(caller, [(Action.ADMIN, request.name)])
        created = await self._broker.topics.create(resources.topic_of(request))
        return resources.topic_pb(created)

    @unary(f"{SERVICE}/GetTopic")
    async def GetTopic(self, request: pb.GetTopicRequest, caller: Principal) -> pb.TopicDescription:
        require(caller, [(None, request.name)])
        return resources.topic_description_pb(await self._broker.topics.describe(request.name))

    @unary(f"{SERVICE}/ListTopics")
    async def ListTopics(
        self, request: pb.ListTopicsRequest, caller: Principal
    ) -> pb.ListTopicsResponse:
        topics = await self._broker.topics.list()
        shown = [resources.topic_pb(t) for t in topics if may_see(caller, t.name)]
        return pb.ListTopicsResponse(topics=shown)

    @unary(f"{SERVICE}/DeleteTopic")
    async def DeleteTopic(self, request: pb.DeleteTopicRequest, caller: Principal) -> Empty:
        require(caller, [(Action.ADMIN, request.name)])
        await self._broker.topics.delete(request.name, force=request.force)
        return EMPTY

    @unary(f"{SERVICE}/CreateSubscription")
    async def CreateSubscription(
        self, request: pb.Subscription, caller: Principal
    ) -> pb.Subscription:
        # It will read its topic and may publish to its dead-letter topic, which no token may
        # gain by creating one (as over REST).
        needs = [(Action.ADMIN, request.name), (Action.SUBSCRIBE, request.topic)]
        if request.dead_letter_topic:
            needs.append((Action.PUBLISH, request.dead_letter_topic))
        require(caller, needs)
        created = await self._broker.subscriptions.create(resources.subscription_of(request))
        return resources.subscription_pb(created)

    @unary(f"{SERVICE}/GetSubscription")
    async def GetSubscription(
        self, request: pb.GetSubscriptionRequest, caller: Principal
    ) -> pb.SubscriptionDescription:
        require(caller, [(None, request.name)])
        found = await self._broker.subscriptions.describe(request.name)
        return resources.subscription_description_pb(found)

    @unary(f"{SERVICE}/ListSubscriptions")
    async def ListSubscriptions(
        self, request: pb.ListSubscriptionsRequest, caller: Principal
    ) -> pb.ListSubscriptionsResponse:
        found = await self._broker.subscriptions.list(request.topic or None)
        shown = [resources.subscription_pb(s) for s in found if may_see(caller, s.name)]
        return pb.ListSubscriptionsResponse(subscriptions=shown)

    @unary(f"{SERVICE}/DeleteSubscription")
    async def DeleteSubscription(
        self, request: pb.DeleteSubscriptionRequest, caller: Principal
    ) -> Empty:
        require(caller, [(Action.ADMIN, request.name)])
        await self._broker.subscriptions.delete(request.name)
        return EMPTY

    @unary(f"{SERVICE}/Publish")
    async def Publish(self, request: pb.PublishRequest, caller: Principal) -> pb.PublishResponse:
        require(caller, [(Action.PUBLISH, request.topic)])
        requests = messages.publish_requests(request.messages)
        return pb.PublishResponse(ids=await self._broker.publisher.publish(request.topic, requests))

    @unary(f"{SERVICE}/Fetch")
    async def Fetch(self, request: pb.FetchRequest, caller: Principal) -> pb.Message:
        require(caller, [(Action.SUBSCRIBE, request.topic)])
        found = await self._broker.topics.message(request.topic, MessageId(request.id))
        return messages.message_pb(found)

    @unary(f"{SERVICE}/Pull")
    async def Pull(self, request: pb.PullRequest, caller: Principal) -> pb.PullResponse:
        require(caller, [(Action.SUBSCRIBE, request.subscription)])
        deliveries = await self._broker.subscriber.pull(
            request.subscription,
            request.max_messages or DEFAULT_PULL_MESSAGES,
            request.wait_seconds,
            request.member_id or None,
        )
        return pb.PullResponse(received_messages=map(messages.received_pb, deliveries))

    @streaming(f"{SERVICE}/StreamingPull")
    async def StreamingPull(
        self,
        requests: AsyncIterator[pb.StreamingPullRequest],
        caller: Principal,
        context: Context,
    ) -> AsyncGenerator[pb.StreamingPullResponse, None]:
        first = await anext(aiter(requests), None)
        if first is None:
            return  # the client closed its side before asking for anything
        require(caller, [(Action.SUBSCRIBE, first.subscription)])
        sub = await self._broker.subscriptions.get(first.subscription)
        stream = StreamingPull(self.edge, sub, first.max_in_flight or sub.max_in_flight)
        async with contextlib.aclosing(stream.run(first, requests, self.edge.closing)) as answers:
            async for answer in answers:
                yield answer

    @unary(f"{SERVICE}/Ack")
    async def Ack(self, request: pb.AckRequest, caller: Principal) -> pb.SettleResponse:
        require(caller, [(Action.SUBSCRIBE, request.subscription)])
        done = await self._broker.acks.ack(request.subscription, _ack_ids(request.ack_ids))
        return _settled(done)

    @unary(f"{SERVICE}/Nack")
    async def Nack(self, request: pb.NackRequest, caller: Principal) -> pb.SettleResponse:
        require(caller, [(Action.SUBSCRIBE, request.subscription)])
        delay = request.delay_seconds if request.HasField("delay_seconds") else None
        done = await self._broker.acks.nack(request.subscription, _ack_ids(request.ack_ids), delay)
        return _settled(done)

    @unary(f"{SERVICE}/Extend")
    async def Extend(self, request: pb.ExtendRequest, caller: Principal) -> pb.SettleResponse:
        require(caller, [(Action.SUBSCRIBE, request.subscription)])
        done = await self._broker.acks.extend(
            request.subscription, _ack_ids(request.ack_ids), request.seconds
        )
        return _settled(done)

    @unary(f"{SERVICE}/Seek")
    async def Seek(self, request: pb.SeekRequest, caller: Principal) -> Empty:
        require(caller, [(Action.ADMIN, request.subscription)])
        target = request.WhichOneof("target")
        position = timestamp = None
        if target == "position":
            position = messages.enum_value(_SEEK_POSITIONS, request.position, "position")
        elif target == "time":
            timestamp = messages.seconds_of(request.time)
        await self._broker.subscriptions.seek(request.subscription, position, timestamp)
        return EMPTY

    @unary(f"{SERVICE}/Redrive")
    async def Redrive(self, request: pb.RedriveRequest, caller: Principal) -> pb.RedriveResponse:
        require(caller, [(Action.ADMIN, request.subscription)])
        return pb.RedriveResponse(
            moved=await self._broker.subscriptions.redrive(request.subscription)
        )


#: Where a seek may go by name (an unspecified position is no position).
_SEEK_POSITIONS = {
    n: v for n, v in resources.START_OF.items() if n != pb.START_POSITION_UNSPECIFIED
}
#: A pull that does not say how many messages it takes gets at most this many (as over REST).
DEFAULT_PULL_MESSAGES = 100


def _ack_ids(ack_ids: Iterable[str]) -> list[AckId]:
    return [AckId(a) for a in ack_ids]


def _settled(done: AckResult) -> pb.SettleResponse:
    return pb.SettleResponse(count=done.count, unknown_ack_ids=done.unknown)
