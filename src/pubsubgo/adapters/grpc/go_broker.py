"""BrokerService: go-broker's ``broker.Broker`` (its broker.proto unchanged) over the broker.

A subject is a topic of one partition, created on first use. ``Publish`` stores the body
with ``expirationSeconds`` as its TTL and answers the subject's next int32 id
(:class:`SubjectIds`); an expiration of 0 is fire-and-forget: delivered to live subscribers
(within FIRE_AND_FORGET_TTL_SECONDS) and never fetchable. ``Subscribe`` streams what is
published after it started, through a non-durable subscription of its own that goes away
with the stream: a slow or gone subscriber holds only its own backlog, never a publisher.
``Fetch`` of an id that is missing or expired is INVALID_ARGUMENT, as go-broker answers;
while the broker shuts down every call is UNAVAILABLE.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncGenerator, Sequence
from typing import Any

from pubsubgo.adapters.grpc.calls import BrokerClosing, Context, Edge, streaming, unary
from pubsubgo.adapters.grpc.gate import require
from pubsubgo.adapters.grpc.generated import broker_pb2 as pb
from pubsubgo.adapters.grpc.generated import broker_pb2_grpc
from pubsubgo.adapters.grpc.subjects import SubjectIds
from pubsubgo.core.access import Action, Principal
from pubsubgo.core.errors import (
    BackendUnavailable,
    InvalidArgument,
    MemberNotFound,
    MessageExpired,
    MessageNotFound,
    TopicAlreadyExists,
    TopicNotFound,
)
from pubsubgo.core.messages import AckId, Delivery, MessageId, PublishRequest
from pubsubgo.core.subscriptions import StartPosition, Subscription
from pubsubgo.core.topics import Topic
from pubsubgo.ports.clock import Clock
from pubsubgo.runtime.membership import MemberLease
from pubsubgo.services.subscriber import MAX_PULL_WAIT_SECONDS

SERVICE = "broker.Broker"
#: A fire-and-forget message (expiration 0) reaches live subscribers for this long at most:
#: long enough for one that lags, short enough that it is never a stored message.
FIRE_AND_FORGET_TTL_SECONDS = 60.0
#: Messages a subscriber's stream takes from storage at a time.
SUBSCRIBE_BATCH = 100
#: While storage does not answer, a subscriber's stream waits this long between tries.
STORAGE_RETRY_SECONDS = 1.0
#: The name of each subscriber's own subscription (DESIGN's naming rule holds).
LIVE_PREFIX = "broker-live-"


class UnknownId(InvalidArgument):
    """Raised when a go-broker id names no fetchable message: never published, published
    fire-and-forget, or expired (go-broker answers INVALID_ARGUMENT for all three)."""

    code = "message_not_found"

    def __init__(self, subject: str, id_: int) -> None:
        super().__init__(f"id {id_} of subject {subject!r} is expired or not present", field="id")
        self.subject = subject
        self.id = id_

    def details(self) -> dict[str, object]:
        return {"subject": self.subject, "id": self.id}


class BrokerService(broker_pb2_grpc.BrokerServicer):
    """The ``broker.Broker`` servicer.

    Args:
        edge: what the gRPC services share.
        clock: the broker's clock (expirations of fetchable messages).
    """

    def __init__(self, edge: Edge, clock: Clock) -> None:
        self.edge = edge
        self._broker = edge.broker
        self._clock = clock
        self._ids = SubjectIds()

    @unary(f"{SERVICE}/Publish")
    async def Publish(self, request: pb.PublishRequest, caller: Principal) -> pb.PublishResponse:
        subject, expiration = request.subject, request.expirationSeconds
        require(caller, [(Action.PUBLISH, subject)])
        if expiration < 0:
            raise InvalidArgument("expirationSeconds must be 0 or more", field="expirationSeconds")
        ttl = float(expiration or FIRE_AND_FORGET_TTL_SECONDS)
        message_id = await self._publish(subject, PublishRequest(request.body, ttl_seconds=ttl))
        now = self._clock.now()
        expires_at = now + expiration if expiration else None
        return pb.PublishResponse(id=self._ids.assign(subject, message_id, expires_at, now))

    @unary(f"{SERVICE}/Fetch")
    async def Fetch(self, request: pb.FetchRequest, caller: Principal) -> pb.MessageResponse:
        subject = request.subject
        require(caller, [(Action.SUBSCRIBE, subject)])
        message_id = self._ids.lookup(subject, request.id, self._clock.now())
        if message_id is None:
            raise UnknownId(subject, request.id)
        try:
            message = await self._broker.topics.message(subject, message_id)
        except (MessageNotFound, MessageExpired, TopicNotFound):
            raise UnknownId(subject, request.id) from None
        return pb.MessageResponse(body=message.data)

    @streaming(f"{SERVICE}/Subscribe")
    async def Subscribe(
        self, request: pb.SubscribeRequest, caller: Principal, context: Context
    ) -> AsyncGenerator[pb.MessageResponse, None]:
        subject = request.subject
        require(caller, [(Action.SUBSCRIBE, subject)])
        await self._create_topic(subject)
        sub = Subscription(
            f"{LIVE_PREFIX}{uuid.uuid4().hex}", subject, start=StartPosition.LATEST, durable=False
        )
        await self._broker.subscriptions.create(sub)
        lease = MemberLease(self._broker.groups, sub.name)
        try:
            await lease.__aenter__()
        except BaseException:
            await self.edge.clean_up(self._broker.subscriptions.delete(sub.name))
            raise
        try:
            # The client may now publish and count on receiving it (a go-broker client
            # cannot tell; one that waits for the initial metadata can).
            await context.send_initial_metadata(())
            async with contextlib.aclosing(self._live(sub.name, lease)) as batches:
                async for deliveries in batches:
                    for delivery in deliveries:
                        yield pb.MessageResponse(body=delivery.message.data)
        finally:
            # Leaving the group deletes the non-durable subscription with what it held.
            await self.edge.clean_up(lease.__aexit__(None, None, None))

    async def _live(
        self, subscription: str, lease: MemberLease
    ) -> AsyncGenerator[Sequence[Delivery], None]:
        """What reaches the subscription, batch by batch, each acked as it is taken: the
        subscription is the stream's alone and ends with it, so nothing is owed to anyone
        once the stream has it."""
        closing: asyncio.Future[Any] = asyncio.ensure_future(self.edge.closing.wait())
        try:
            while True:
                deliveries = await self._pull(subscription, lease, closing)
                if deliveries:
                    ack_ids = [AckId(d.ack_id) for d in deliveries]
                    await self._broker.acks.ack(subscription, ack_ids)
                    yield deliveries
        finally:
            closing.cancel()

    async def _pull(
        self, subscription: str, lease: MemberLease, closing: asyncio.Future[Any]
    ) -> Sequence[Delivery]:
        member_id = lease.member_id
        pull: asyncio.Future[Any] = asyncio.ensure_future(
            self._broker.subscriber.pull(
                subscription, SUBSCRIBE_BATCH, MAX_PULL_WAIT_SECONDS, member_id
            )
        )
        try:
            await asyncio.wait({pull, closing}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            pull.cancel()  # the stream ended or the broker closes: the pull is not wanted
        if closing.done():
            raise BrokerClosing
        try:
            deliveries: Sequence[Delivery] = pull.result()
            return deliveries
        except MemberNotFound:
            await lease.rejoin(member_id)
        except BackendUnavailable:
            await asyncio.sleep(STORAGE_RETRY_SECONDS)  # the stream resumes with storage
        return ()

    async def _publish(self, subject: str, request: PublishRequest) -> MessageId:
        """Store one message; the subject's topic is created on its first publish."""
        try:
            return (await self._broker.publisher.publish(subject, [request]))[0]
        except TopicNotFound:
            await self._create_topic(subject)
            return (await self._broker.publisher.publish(subject, [request]))[0]

    async def _create_topic(self, subject: str) -> None:
        """The subject's topic: one partition, so that ids and order are one sequence."""
        with contextlib.suppress(TopicAlreadyExists):
            await self._broker.topics.create(Topic(subject))
