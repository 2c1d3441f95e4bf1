"""MessageStream: a subscription's messages over a WebSocket, as an async iterator.

The stream subscribes on ``/v1/ws``, yields each message it receives (one per ``message``
frame, or several per ``messages`` batch frame) as a :class:`StreamMessage`, settles
messages with ack/nack/extend frames, optionally extends their deadlines while they are
held (``auto_extend``), and when the connection is lost connects and subscribes again with
exponential backoff.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from pubsubgo.client.connection import ConnectionLost, Frame, FrameConnection
from pubsubgo.client.errors import (
    ClientClosed,
    NotFound,
    PubSubClientError,
    RateLimited,
    ServerError,
    ServerUnreachable,
    Unavailable,
    error_for_status,
)
from pubsubgo.client.leases import DEFAULT_MAX_LEASE_SECONDS, LeaseKeeper
from pubsubgo.client.messages import ReceivedMessage, received_fields
from pubsubgo.client.reconnect import ReconnectPolicy
from pubsubgo.client.resources import Subscriptions
from pubsubgo.client.transport import HttpTransport

logger = logging.getLogger(__name__)

#: The client pings this often and drops a connection whose pong does not come back in
#: half of it, so a broker that vanished without closing the socket is noticed.
WS_HEARTBEAT_SECONDS = 10.0
#: A connection that lived this long was healthy: the next loss starts the backoff afresh.
STABLE_CONNECTION_SECONDS = 10.0
#: Failures worth another attempt when reconnecting. NotFound is one: a broker with memory
#: storage comes back empty until whoever provisions it recreates the subscription.
RETRYABLE = (ServerUnreachable, Unavailable, RateLimited, ServerError, NotFound)


@dataclass(frozen=True, slots=True)
class StreamMessage(ReceivedMessage):
    """A message delivered on a stream; settle it with :meth:`ack` or :meth:`nack`."""

    _stream: MessageStream = field(repr=False, compare=False)
    _connection: FrameConnection = field(repr=False, compare=False)

    async def ack(self) -> bool:
        """Acknowledge the message and wait for the broker to confirm.

        Returns:
            True when acked; False when the broker no longer held it (its deadline passed,
            or the connection that delivered it was lost): it will be redelivered.
        """
        return await self._stream.settle(self, "ack")

    async def nack(self, delay: float | None = None) -> bool:
        """Give the message back for redelivery after ``delay`` seconds (default: the
        subscription's retry backoff). Returns False like :meth:`ack`."""
        return await self._stream.settle(self, "nack", delay_seconds=delay)

    async def extend(self, seconds: float | None = None) -> bool:
        """Push the deadline to ``seconds`` from now (default: the ack deadline)."""
        return await self._stream.settle(self, "extend", seconds=seconds)


class _Wake:
    """Queued to wake the iterator: the connection was lost or the stream closed."""


_WAKE = _Wake()


class MessageStream:
    """Messages of one subscription over a WebSocket; build it with ``client.subscribe()``.

    Use it as ``async with client.subscribe("billing") as stream: async for msg in stream``
    (or iterate it directly; it then connects on the first message and closes with the
    client). Flow control: the broker sends at most ``max_in_flight`` unsettled messages.
    """

    def __init__(
        self,
        transport: HttpTransport,
        subscription: str,
        *,
        max_in_flight: int | None = None,
        auto_extend: bool = False,
        max_lease_seconds: float = DEFAULT_MAX_LEASE_SECONDS,
        reconnect: ReconnectPolicy | None = None,
        batch_frames: bool = True,
    ) -> None:
        self.subscription = subscription
        #: The member id and partitions of the current connection in the group.
        self.member_id: str | None = None
        self.assignment: tuple[int, ...] = ()
        self._http = transport
        self._max_in_flight = max_in_flight
        self._auto_extend = auto_extend
        self._max_lease = max_lease_seconds
        self._policy = reconnect
        self._batch_frames = batch_frames
        self._queue: asyncio.Queue[StreamMessage | PubSubClientError | _Wake] = asyncio.Queue()
        self._connection: FrameConnection | None = None
        self._connected_at = 0.0
        self._failures = 0
        self._leases: LeaseKeeper | None = None
        self._lease_task: asyncio.Task[None] | None = None
        self._opened = self._closed = False
        self._deadline_seconds = 0.0

    async def open(self) -> None:
        """Connect and subscribe (once; retries only apply to later reconnects).

        Raises:
            NotFound: the subscription does not exist.
            ServerUnreachable: the broker cannot be reached.
        """
        if self._closed:
            raise ClientClosed("stream")
        if self._opened:
            return
        self._opened = True
        if self._auto_extend:
            found = await Subscriptions(self._http).describe(self.subscription)
            self._deadline_seconds = found.ack_deadline_seconds
            self._leases = LeaseKeeper(self._extend_ids, self._deadline_seconds, self._max_lease)
            self._lease_task = asyncio.create_task(self._leases.run(), name="pubsubgo leases")
        await self._connect()

    async def aclose(self) -> None:
        """Stop: close the socket (the broker redelivers unsettled messages to others)."""
        if self._closed:
            return
        self._closed = True
        if self._lease_task is not None:
            self._lease_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._lease_task
        connection, self._connection = self._connection, None
        if connection is not None:
            await connection.aclose()
        self._queue.put_nowait(_WAKE)

    async def __aenter__(self) -> MessageStream:
        await self.open()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    def __aiter__(self) -> MessageStream:
        return self

    async def __anext__(self) -> StreamMessage:
        if not self._opened:
            await self.open()
        while not self._closed:
            if self._connection is None:
                await self._reconnect()
                continue
            item = await self._queue.get()
            if isinstance(item, StreamMessage):
                if item._connection is self._connection:
                    return item
                continue  # from a lost connection: the broker redelivers it
            if isinstance(item, Unavailable):
                await self._drop()  # storage failed under the stream: subscribe again
            elif isinstance(item, PubSubClientError):
                raise item
        raise StopAsyncIteration

    async def settle(self, message: StreamMessage, kind: str, **options: Any) -> bool:
        """Send an ack, nack or extend frame for ``message``; see :meth:`StreamMessage.ack`."""
        if kind != "extend" and self._leases is not None:
            self._leases.release(message.ack_id)
        connection = message._connection
        if connection is not self._connection or connection.closed:
            return False
        given = {name: value for name, value in options.items() if value is not None}
        frame = {"type": kind, "ack_ids": [message.ack_id], "subscription": self.subscription}
        try:
            answer = await connection.request(frame | given)
        except ConnectionLost:
            return False
        return message.ack_id not in answer.get("unknown", ())

    async def _connect(self) -> None:
        """Open a socket and subscribe on it."""
        connection = FrameConnection(
            await self._open_socket(), self._http.url,
            on_message=self._received, on_error=self._queue.put_nowait, on_closed=self._lost,
        )  # fmt: skip
        self._connection = connection
        connection.start()
        subscribe: Frame = {"type": "subscribe", "subscription": self.subscription}
        if self._max_in_flight is not None:
            subscribe["max_in_flight"] = self._max_in_flight
        if self._batch_frames:
            subscribe["batch"] = True
        try:
            answer = await connection.request(subscribe)
        except BaseException as error:
            self._connection = None
            await connection.aclose()
            if isinstance(error, ConnectionLost):
                raise ServerUnreachable(self._http.url, "the connection closed") from None
            raise
        self._connected_at = asyncio.get_running_loop().time()
        self.member_id = answer.get("member_id")
        self.assignment = tuple(answer.get("assignment", ()))

    async def _open_socket(self) -> aiohttp.ClientWebSocketResponse:
        with self._http.unreachable_as_error():
            try:
                return await self._http.session.ws_connect(
                    self._http.url + "/v1/ws",
                    headers=self._http.headers,
                    heartbeat=WS_HEARTBEAT_SECONDS,
                )
            except aiohttp.WSServerHandshakeError as error:
                raise error_for_status(error.status, None, error.message) from error

    async def _reconnect(self) -> None:
        """Connect again, waiting longer after each failure.

        Raises:
            ServerUnreachable: the connection was lost and reconnecting is off.
            PubSubClientError: a failure that retrying cannot fix, or the last one when
                the policy gives up.
        """
        policy = self._policy
        if policy is None:
            raise ServerUnreachable(self._http.url, "the WebSocket connection was lost")
        loop = asyncio.get_running_loop()
        started = loop.time()
        while not self._closed:
            await asyncio.sleep(policy.delay(self._failures))
            self._failures += 1
            try:
                await self._connect()
                logger.info("resumed %s after %d attempt(s)", self.subscription, self._failures)
                return
            except RETRYABLE as error:
                limit = policy.give_up_after_seconds
                if limit is not None and loop.time() - started >= limit:
                    raise
                logger.warning("reconnecting %s: %s", self.subscription, error)

    async def _drop(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            await connection.aclose()

    def _received(self, connection: FrameConnection, frame: Frame) -> None:
        message = StreamMessage(**received_fields(frame), _stream=self, _connection=connection)
        if self._leases is not None and message.delivery_mode != "at_most_once":
            self._leases.hold(message.ack_id)
        self._failures = 0  # messages flow: the next loss starts the backoff afresh
        self._queue.put_nowait(message)

    def _lost(self, connection: FrameConnection) -> None:
        if connection is not self._connection:
            return
        self._connection = None
        if self._leases is not None:
            self._leases.clear()  # the broker released what that connection held
        if asyncio.get_running_loop().time() - self._connected_at >= STABLE_CONNECTION_SECONDS:
            self._failures = 0
        self._queue.put_nowait(_WAKE)

    async def _extend_ids(self, ack_ids: Sequence[str]) -> Sequence[str]:
        connection = self._connection
        if connection is None:
            raise ConnectionLost
        frame = {
            "type": "extend", "ack_ids": list(ack_ids),
            "subscription": self.subscription, "seconds": self._deadline_seconds,
        }  # fmt: skip
        answer = await connection.request(frame)
        unknown: list[str] = answer.get("unknown", [])
        return unknown
