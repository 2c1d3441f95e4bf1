"""StreamingPull: one subscription pushed on one bidirectional stream, with flow control.

The stream is a member of the subscription's consumer group while it lasts, like a
WebSocket subscription (docs/api.md): it learns its membership first, and again after each
rebalance. At most ``max_in_flight`` delivered messages are unsettled at once; the client
settles them with ack, nack and extend ids on the same stream (each such request answered
by a ``settled`` response) or with the unary RPCs. Ending the stream leaves the group, which
makes what it held deliverable to the other members at once.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncGenerator, AsyncIterator, Iterable
from dataclasses import dataclass

from pubsubgo.adapters.grpc.calls import BrokerClosing, Edge
from pubsubgo.adapters.grpc.generated import pubsub_pb2 as pb
from pubsubgo.adapters.grpc.messages import received_pb
from pubsubgo.core.errors import BackendUnavailable, MemberNotFound, PubSubError
from pubsubgo.core.messages import AckId, DeliveryMode
from pubsubgo.core.subscriptions import Subscription
from pubsubgo.runtime.membership import MemberLease
from pubsubgo.services.groups import Membership
from pubsubgo.services.subscriber import MAX_PULL_MESSAGES, MAX_PULL_WAIT_SECONDS

logger = logging.getLogger(__name__)

#: A full stream whose client has been silent this long asks storage which of its deliveries
#: are still in flight: those whose deadline passed were taken back and no longer count.
RECONCILE_AFTER_SECONDS = 1.0
#: While storage does not answer, the stream waits this long between pulls; it stays open
#: and resumes by itself when storage is back.
STORAGE_RETRY_SECONDS = 1.0


@dataclass(frozen=True, slots=True)
class _End:
    """Queued to end the stream: cleanly, or with ``error`` as its status."""

    error: Exception | None = None


class StreamingPull:
    """Serves one StreamingPull call.

    Args:
        edge: what the gRPC services share (the broker, clean-ups).
        subscription: the subscription consumed.
        max_in_flight: the client's limit (capped at the subscription's).
    """

    def __init__(self, edge: Edge, subscription: Subscription, max_in_flight: int) -> None:
        broker = edge.broker
        self._edge = edge
        self._broker = broker
        self._sub = subscription
        self._limit = min(max_in_flight, subscription.max_in_flight)
        #: Ack ids handed to the client and not yet settled by it.
        self._outstanding: set[str] = set()
        self._room = asyncio.Event()
        self._room.set()
        self._out: asyncio.Queue[pb.StreamingPullResponse | _End] = asyncio.Queue()
        self._lease = MemberLease(broker.groups, subscription.name, self._rebalanced)
        self._member_id = ""

    async def run(
        self,
        first: pb.StreamingPullRequest,
        requests: AsyncIterator[pb.StreamingPullRequest],
        closing: asyncio.Event,
    ) -> AsyncGenerator[pb.StreamingPullResponse, None]:
        """Join the group, then yield what goes to the client until the stream ends.

        Raises:
            PubSubError: the stream ends with that status (the subscription was deleted,
                a request was malformed, the broker is closing...).
        """
        await self._lease.__aenter__()
        try:
            self._member_id = self._lease.member_id
            yield self._membership(self._lease.membership)
            await self._apply(first)
            tasks = [
                asyncio.create_task(self._pump(), name=f"grpc pull {self._sub.name}"),
                asyncio.create_task(self._read(requests), name="grpc pull requests"),
                asyncio.create_task(self._close_on(closing), name="grpc pull closing"),
            ]
            try:
                while not isinstance(item := await self._out.get(), _End):
                    yield item
                if item.error is not None:
                    raise item.error
            finally:
                for task in tasks:
                    task.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)
        finally:
            # Shielded: a stream cancelled by its client must still leave the group.
            await self._edge.clean_up(self._lease.__aexit__(None, None, None))

    async def _read(self, requests: AsyncIterator[pb.StreamingPullRequest]) -> None:
        """Apply the client's requests; a client that closes its side keeps receiving."""
        try:
            async for request in requests:
                await self._apply(request)
        except PubSubError as error:
            self._out.put_nowait(_End(error))

    async def _close_on(self, closing: asyncio.Event) -> None:
        await closing.wait()
        self._out.put_nowait(_End(BrokerClosing()))

    async def _apply(self, request: pb.StreamingPullRequest) -> None:
        """Flow control and settling, answered with ``settled`` when ids were given."""
        if request.max_in_flight:
            self._limit = min(request.max_in_flight, self._sub.max_in_flight)
            self._check_room()
        if not (request.ack_ids or request.nack_ids or request.extend_ids):
            return
        acks, name = self._broker.acks, self._sub.name
        settled = pb.Settled(request_id=request.request_id)
        if request.ack_ids:
            done = await acks.ack(name, _ids(request.ack_ids))
            settled.acked = done.count
            settled.unknown_ack_ids.extend(done.unknown)
            self._settled(request.ack_ids)
        if request.nack_ids:
            delay = request.nack_delay_seconds if request.HasField("nack_delay_seconds") else None
            done = await acks.nack(name, _ids(request.nack_ids), delay)
            settled.nacked = done.count
            settled.unknown_ack_ids.extend(done.unknown)
            self._settled(request.nack_ids)
        if request.extend_ids:
            seconds = request.extend_seconds if request.HasField("extend_seconds") else None
            deadline = self._sub.ack_deadline_seconds if seconds is None else seconds
            done = await acks.extend(name, _ids(request.extend_ids), deadline)
            settled.extended = done.count
            settled.unknown_ack_ids.extend(done.unknown)
        self._out.put_nowait(pb.StreamingPullResponse(settled=settled))

    def _settled(self, ack_ids: Iterable[str]) -> None:
        self._outstanding.difference_update(ack_ids)
        self._check_room()

    def _check_room(self) -> None:
        if len(self._outstanding) < self._limit:
            self._room.set()
        else:
            self._room.clear()

    async def _pump(self) -> None:
        try:
            while True:
                try:
                    await self._wait_for_room()
                    await self._push_batch()
                except BackendUnavailable as error:
                    logger.warning("streaming %s paused: %s", self._sub.name, error)
                    await asyncio.sleep(STORAGE_RETRY_SECONDS)
        except PubSubError as error:  # the subscription was deleted...
            self._out.put_nowait(_End(error))
        except Exception as error:
            logger.exception("streaming %s failed", self._sub.name)
            self._out.put_nowait(_End(error))

    async def _wait_for_room(self) -> None:
        while not self._room.is_set():
            try:
                async with asyncio.timeout(RECONCILE_AFTER_SECONDS):
                    await self._room.wait()
            except TimeoutError:
                held = set(self._outstanding)
                still = await self._broker.acks.still_in_flight(self._sub.name, _ids(held))
                self._settled(held - still)

    async def _push_batch(self) -> None:
        room = self._limit - len(self._outstanding)
        member_id = self._lease.member_id
        try:
            deliveries = await self._broker.subscriber.pull(
                self._sub.name, min(room, MAX_PULL_MESSAGES), MAX_PULL_WAIT_SECONDS, member_id
            )
        except MemberNotFound:
            await self._lease.rejoin(member_id)
            return
        if not deliveries:
            return
        for delivery in deliveries:
            # At-most-once messages were acked as they were handed out: nothing to wait for.
            if delivery.message.delivery_mode is not DeliveryMode.AT_MOST_ONCE:
                self._outstanding.add(delivery.ack_id)
        self._check_room()
        batch = pb.StreamingPullResponse(received_messages=map(received_pb, deliveries))
        self._out.put_nowait(batch)

    async def _rebalanced(self, membership: Membership) -> None:
        if membership.member_id != self._member_id:
            # A new member id: the old one's deliveries went back to the group.
            self._member_id = membership.member_id
            self._outstanding.clear()
            self._check_room()
        self._out.put_nowait(self._membership(membership))

    def _membership(self, membership: Membership) -> pb.StreamingPullResponse:
        return pb.StreamingPullResponse(
            membership=pb.Membership(
                member_id=membership.member_id,
                generation=membership.generation,
                assignment=membership.assignment,
                max_in_flight=self._limit,
            )
        )


def _ids(ack_ids: Iterable[str]) -> list[AckId]:
    return [AckId(a) for a in ack_ids]
