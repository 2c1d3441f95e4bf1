"""EventStream: a subscription's messages as Server-Sent Events, for clients that cannot
open a WebSocket (browsers behind proxies, curl). Acks go over REST.

The stream is a member of the subscription's group, like a WebSocket: it joins, heartbeats
while open, and receives what a member receives (at most the subscription's
``max_in_flight`` unacked). Every event's id is ``<member id>:<n>``; a client that
reconnects sends the last one as ``Last-Event-ID`` (browsers do by themselves) and goes on
as the same member, so what it received before and has not acked stays its own and its ack
ids keep working. A stream that ends without the server stopping (a proxy cut it, the
client went away) leaves its member in the group until the session timeout, for that
reconnection; the member then leaves like any silent one, and what it held is redelivered.
``DELETE /v1/subscriptions/{sub}/members/{id}`` leaves at once.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field

from aiohttp import web

from pubsubgo.adapters.wire.codec import encode
from pubsubgo.adapters.wire.schemas.frames import message_frame
from pubsubgo.core.errors import MemberNotFound, PubSubError
from pubsubgo.services.broker import Broker
from pubsubgo.services.groups import Membership

#: Messages one pull may hand the stream.
PULL_BATCH = 100
#: What comments say while nothing happens: proxies keep an active stream open, and a
#: write is how the server learns that the client went away.
KEEPALIVE = b": keepalive\n\n"


@dataclass
class EventStream:
    """One subscription streamed to one HTTP response.

    Attributes:
        broker: the driving API.
        subscription: the subscription streamed.
        response: the prepared ``text/event-stream`` response.
        stop: set by the server's shutdown; the stream then ends and leaves the group.
    """

    broker: Broker
    subscription: str
    response: web.StreamResponse
    stop: asyncio.Event = field(default_factory=asyncio.Event)
    _membership: Membership | None = None
    _sent: int = 0

    async def open(self, resume: str | None) -> None:
        """Join the group (as member ``resume``, from a ``Last-Event-ID``, when given), before
        the response starts: a missing subscription is still an ordinary 404.

        Raises:
            SubscriptionNotFound: no such subscription.
        """
        groups = self.broker.groups
        membership = None
        if resume:
            with contextlib.suppress(MemberNotFound):
                membership = await groups.heartbeat(self.subscription, resume)
        self._membership = membership or await groups.join(self.subscription, resume)

    async def run(self) -> None:
        """Stream until the client goes away or the server stops (the response prepared)."""
        interval = self.broker.groups.settings.heartbeat_interval_seconds
        try:
            await self._send("subscribed", self._membership_event())
            while not self.stop.is_set():
                await self._deliver(interval)
                await self._heartbeat()
        except ConnectionError:
            return  # the client went away: its member stays for a reconnection
        except PubSubError as error:
            # The subscription was deleted, or storage failed: said as an event, since the
            # status is sent; EventSource clients reconnect by themselves.
            await self._send_error(error)
            return
        # The server is going away: the others should have what this member held.
        with contextlib.suppress(PubSubError):
            await self.broker.groups.leave(self.subscription, self.member_id)

    @property
    def member_id(self) -> str:
        """The member this stream is."""
        assert self._membership is not None
        return self._membership.member_id

    async def _deliver(self, wait_seconds: float) -> None:
        try:
            deliveries = await self.broker.subscriber.pull(
                self.subscription, PULL_BATCH, wait_seconds, self.member_id
            )
        except MemberNotFound:
            await self._rejoin()
            return
        if not deliveries:
            await self.response.write(KEEPALIVE)
            return
        for delivery in deliveries:
            await self._send("message", encode(message_frame(delivery)))

    async def _heartbeat(self) -> None:
        before = self._membership
        try:
            membership = await self.broker.groups.heartbeat(self.subscription, self.member_id)
        except MemberNotFound:
            await self._rejoin()
            return
        self._membership = membership
        if before is None or (membership.generation, membership.assignment) != (
            before.generation,
            before.assignment,
        ):
            await self._send("rebalanced", self._membership_event())

    async def _rejoin(self) -> None:
        """The group expelled this member (a stalled stream): join again under its id."""
        self._membership = await self.broker.groups.join(self.subscription, self.member_id)
        await self._send("rebalanced", self._membership_event())

    def _membership_event(self) -> bytes:
        membership = self._membership
        assert membership is not None
        return encode(
            {
                "subscription": self.subscription,
                "member_id": membership.member_id,
                "generation": membership.generation,
                "assignment": list(membership.assignment),
            }
        )

    async def _send(self, event: str, data: bytes) -> None:
        """One event: its type, its id (``<member id>:<n>``) and its JSON data (one line)."""
        self._sent += 1
        head = f"event: {event}\nid: {self.member_id}:{self._sent}\ndata: ".encode()
        await self.response.write(head + data + b"\n\n")

    async def _send_error(self, error: PubSubError) -> None:
        body = encode({"code": error.code, "message": error.message, **error.details()})
        with contextlib.suppress(ConnectionError):
            await self.response.write(b"event: error\ndata: " + body + b"\n\n")


def resumed_member(last_event_id: str | None) -> str | None:
    """The member id a ``Last-Event-ID`` names (``<member id>:<n>``), if any."""
    if not last_event_id:
        return None
    member, sep, count = last_event_id.rpartition(":")
    if not (sep and member and count.isdigit()) or len(member) > MAX_MEMBER_ID:
        return None
    return member


#: The longest member id a client may resume (the length a REST join allows).
MAX_MEMBER_ID = 256
