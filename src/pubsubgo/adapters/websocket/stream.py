"""SubscriptionStream: one subscription served on one socket, with flow control."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterable

from pubsubgo.adapters.websocket.protocol import (
    FrameSender,
    SocketClosed,
    domain_error_frame,
    error_frame,
    membership_frame,
    message_frame,
    messages_frame,
)
from pubsubgo.core.errors import BackendUnavailable, MemberNotFound, PubSubError
from pubsubgo.core.messages import AckId, DeliveryMode
from pubsubgo.core.subscriptions import Subscription
from pubsubgo.runtime.membership import MemberLease
from pubsubgo.services.broker import Broker
from pubsubgo.services.groups import Membership
from pubsubgo.services.subscriber import MAX_PULL_MESSAGES, MAX_PULL_WAIT_SECONDS

logger = logging.getLogger(__name__)

#: A full socket whose client has been silent this long asks storage which of its deliveries
#: are still in flight: deliveries whose deadline passed were taken back by the broker and no
#: longer count against ``max_in_flight``.
RECONCILE_AFTER_SECONDS = 1.0
#: While storage does not answer, a socket's delivery waits this long between tries: the
#: socket stays subscribed and resumes by itself when storage is back.
STORAGE_RETRY_SECONDS = 1.0


class SubscriptionStream:
    """Pushes a subscription's messages to a socket, at most ``max_in_flight`` unacked.

    The socket is a member of the subscription's group while the stream runs; stopping it
    leaves the group, which makes what the socket held deliverable to others at once. With
    ``batch``, what one pull returned goes out as one ``messages`` frame.
    """

    def __init__(
        self,
        broker: Broker,
        sender: FrameSender,
        subscription: Subscription,
        max_in_flight: int,
        *,
        batch: bool = False,
    ) -> None:
        self.subscription = subscription
        self.max_in_flight = max_in_flight
        self.batch = batch
        self._broker = broker
        self._sender = sender
        #: Ack ids handed to the client and not yet settled by it.
        self.outstanding: set[AckId] = set()
        self._room = asyncio.Event()
        self._room.set()
        self._lease = MemberLease(broker.groups, subscription.name, self._rebalanced)
        self._pump: asyncio.Task[None] | None = None
        self._member_id = ""

    @property
    def name(self) -> str:
        """The subscription's name."""
        return self.subscription.name

    @property
    def active(self) -> bool:
        """True while messages are being pushed."""
        return self._pump is not None and not self._pump.done()

    async def join(self) -> Membership:
        """Join the group (before anything is pushed).

        Raises:
            SubscriptionNotFound: the subscription is gone.
        """
        await self._lease.__aenter__()
        self._member_id = self._lease.member_id
        return self._lease.membership

    def start(self) -> None:
        """Start pushing messages."""
        self._pump = asyncio.create_task(self._run(), name=f"ws push {self.name}")

    async def stop(self) -> None:
        """Stop pushing and leave the group."""
        if self._pump is not None:
            self._pump.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._pump
        await self._lease.__aexit__(None, None, None)

    def settled(self, ack_ids: Iterable[AckId]) -> None:
        """The client acked or nacked ``ack_ids``: they no longer count against the limit."""
        self.outstanding.difference_update(ack_ids)
        if len(self.outstanding) < self.max_in_flight:
            self._room.set()

    async def _run(self) -> None:
        try:
            while True:
                try:
                    await self._wait_for_room()
                    await self._push_batch()
                except BackendUnavailable as error:
                    # Debug only: the background runner warns once per storage outage.
                    logger.debug("pushing %s paused: %s", self.name, error)
                    await asyncio.sleep(STORAGE_RETRY_SECONDS)
        except SocketClosed:
            return
        except PubSubError as error:  # the subscription was deleted...
            await self._tell(domain_error_frame(error, None) | {"subscription": self.name})
        except Exception:
            logger.exception("pushing %s to a socket failed", self.name)
            await self._tell(error_frame("internal", "delivery stopped", subscription=self.name))

    async def _wait_for_room(self) -> None:
        while not self._room.is_set():
            try:
                async with asyncio.timeout(RECONCILE_AFTER_SECONDS):
                    await self._room.wait()
            except TimeoutError:
                await self._reconcile()

    async def _reconcile(self) -> None:
        held = self.outstanding
        still = await self._broker.acks.still_in_flight(self.name, list(held))
        self.settled(held - still)

    async def _push_batch(self) -> None:
        room = self.max_in_flight - len(self.outstanding)
        member_id = self._lease.member_id
        try:
            deliveries = await self._broker.subscriber.pull(
                self.name, min(room, MAX_PULL_MESSAGES), MAX_PULL_WAIT_SECONDS, member_id
            )
        except MemberNotFound:
            await self._lease.rejoin(member_id)
            return
        if not deliveries:
            return
        outstanding = self.outstanding
        for delivery in deliveries:
            # At-most-once messages were acked as they were handed out: nothing to wait for.
            if delivery.message.delivery_mode is not DeliveryMode.AT_MOST_ONCE:
                outstanding.add(delivery.ack_id)
        if len(outstanding) >= self.max_in_flight:
            self._room.clear()
        if self.batch:
            await self._sender.send(messages_frame(self.name, deliveries))
        else:
            await self._sender.send_all(map(message_frame, deliveries))

    async def _rebalanced(self, membership: Membership) -> None:
        if membership.member_id != self._member_id:
            # A new member id: the old one's deliveries went back to the group.
            self._member_id = membership.member_id
            self.outstanding.clear()
            self._room.set()
        await self._sender.send(membership_frame("rebalanced", self.name, membership))

    async def _tell(self, frame: dict[str, object]) -> None:
        with contextlib.suppress(SocketClosed):
            await self._sender.send(frame)
