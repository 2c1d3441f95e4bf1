"""Client: the asyncio Python client of the broker (REST over aiohttp, WebSocket streams)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Literal, overload

import aiohttp

from pubsubgo.client.errors import Unavailable
from pubsubgo.client.leases import DEFAULT_MAX_LEASE_SECONDS
from pubsubgo.client.messages import (
    DeliveryMode,
    OutgoingMessage,
    Priority,
    ReceivedMessage,
    SettleResult,
)
from pubsubgo.client.publisher import (
    DEFAULT_LINGER_SECONDS,
    DEFAULT_MAX_BYTES,
    DEFAULT_MAX_CONCURRENT_BATCHES,
    DEFAULT_MAX_MESSAGES,
    Publisher,
)
from pubsubgo.client.reconnect import ReconnectPolicy
from pubsubgo.client.resources import Groups, Subscriptions, Topics, segment
from pubsubgo.client.stream import MessageStream
from pubsubgo.client.transport import REQUEST_TIMEOUT_SECONDS, HttpTransport

#: Streams reconnect by default, retrying until they are closed.
DEFAULT_RECONNECT = ReconnectPolicy()
#: What ``publish_batch`` takes: messages, or bare payloads.
Publishable = OutgoingMessage | bytes | str


class Client:
    """An asyncio client of one broker.

    ``async with Client("http://localhost:8081") as client:`` opens it and closes its
    session, publishers' pending batches aside (close those first), and its streams.
    Administrative calls live under ``client.topics``, ``client.subscriptions`` and
    ``client.groups``; messaging calls are methods of the client.

    Args:
        url: the broker's base URL.
        token: a bearer token, sent as ``Authorization: Bearer <token>``.
        timeout: seconds per HTTP request (a long-poll pull gets its wait on top).
        session: an aiohttp session to use (the caller closes it), e.g. with trace configs.
    """

    def __init__(
        self,
        url: str,
        token: str | None = None,
        *,
        timeout: float = REQUEST_TIMEOUT_SECONDS,
        session: aiohttp.ClientSession | None = None,
    ) -> None:
        self._http = HttpTransport(url, token, timeout=timeout, session=session)
        self.topics = Topics(self._http)
        self.subscriptions = Subscriptions(self._http)
        self.groups = Groups(self._http)
        self._streams: set[MessageStream] = set()

    @property
    def url(self) -> str:
        """The broker's base URL."""
        return self._http.url

    async def __aenter__(self) -> Client:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close every stream and the HTTP session."""
        streams, self._streams = list(self._streams), set()
        await asyncio.gather(*(s.aclose() for s in streams))
        await self._http.aclose()

    async def ready(self) -> bool:
        """True when the broker answers ``/readyz`` (its storage is reachable).

        Raises:
            ServerUnreachable: no answer at all.
        """
        try:
            await self._http.request("GET", "/readyz")
        except Unavailable:
            return False
        return True

    @overload
    async def publish(
        self, topic: str, data: bytes | str, *, async_: Literal[False] = False,
        key: str | None = None, attributes: Mapping[str, str] | None = None,
        priority: Priority | None = None, delivery_mode: DeliveryMode | None = None,
        ttl_seconds: float | None = None, delay_seconds: float | None = None,
        deliver_at: datetime | None = None, dedup_id: str | None = None,
    ) -> str: ...  # fmt: skip
    @overload
    async def publish(
        self, topic: str, data: bytes | str, *, async_: Literal[True],
        key: str | None = None, attributes: Mapping[str, str] | None = None,
        priority: Priority | None = None, delivery_mode: DeliveryMode | None = None,
        ttl_seconds: float | None = None, delay_seconds: float | None = None,
        deliver_at: datetime | None = None, dedup_id: str | None = None,
    ) -> None: ...  # fmt: skip
    async def publish(
        self, topic: str, data: bytes | str, *, async_: bool = False,
        key: str | None = None, attributes: Mapping[str, str] | None = None,
        priority: Priority | None = None, delivery_mode: DeliveryMode | None = None,
        ttl_seconds: float | None = None, delay_seconds: float | None = None,
        deliver_at: datetime | None = None, dedup_id: str | None = None,
    ) -> str | None:  # fmt: skip
        """Publish one message (the options are those of :class:`OutgoingMessage`).

        Args:
            topic: where to publish.
            data: the payload.
            async_: let the broker answer 202 before storing (faster; a storage failure
                is then only logged by the broker).

        Returns:
            The message id, or None with ``async_``.

        Raises:
            NotFound: no such topic.
            TooLarge: the message is over the size limit.
            RateLimited: the topic is full (``topic_full``).
        """
        message = OutgoingMessage(
            data, key=key, attributes=dict(attributes or {}), priority=priority,
            delivery_mode=delivery_mode, ttl_seconds=ttl_seconds, delay_seconds=delay_seconds,
            deliver_at=deliver_at, dedup_id=dedup_id,
        )  # fmt: skip
        if async_:
            await self.publish_batch(topic, [message], async_=True)
            return None
        return (await self.publish_batch(topic, [message]))[0]

    @overload
    async def publish_batch(
        self, topic: str, messages: Iterable[Publishable], *, async_: Literal[False] = False
    ) -> list[str]: ...
    @overload
    async def publish_batch(
        self, topic: str, messages: Iterable[Publishable], *, async_: Literal[True]
    ) -> int: ...
    async def publish_batch(
        self, topic: str, messages: Iterable[Publishable], *, async_: bool = False
    ) -> list[str] | int:
        """Publish many messages in one request (at most 1000 by default).

        Returns:
            The ids in order; with ``async_``, how many messages the broker accepted.

        Raises:
            TooLarge: too many messages, or too many bytes, for one batch.
        """
        body = {"messages": [_outgoing(m).to_json() for m in messages]}
        params = {"async": "true"} if async_ else None
        path = f"/v1/topics/{segment(topic)}/messages"
        answer = await self._http.request("POST", path, body, params=params)
        if async_:
            return int(answer["accepted"])
        return list(answer["ids"])

    def publisher(
        self,
        topic: str,
        *,
        max_messages: int = DEFAULT_MAX_MESSAGES,
        max_bytes: int = DEFAULT_MAX_BYTES,
        linger_seconds: float = DEFAULT_LINGER_SECONDS,
        max_concurrent_batches: int = DEFAULT_MAX_CONCURRENT_BATCHES,
    ) -> Publisher:
        """A :class:`Publisher` that batches many small publishes to ``topic``."""
        return Publisher(
            self._send_batch, topic, max_messages=max_messages, max_bytes=max_bytes,
            linger_seconds=linger_seconds, max_concurrent_batches=max_concurrent_batches,
        )  # fmt: skip

    async def _send_batch(self, topic: str, messages: Sequence[OutgoingMessage]) -> list[str]:
        return await self.publish_batch(topic, messages)

    async def pull(
        self,
        subscription: str,
        max_messages: int = 100,
        *,
        wait_seconds: float = 0.0,
        member_id: str | None = None,
    ) -> list[ReceivedMessage]:
        """Take up to ``max_messages`` deliveries, waiting up to ``wait_seconds`` for one.

        Raises:
            NotFound: no such subscription (or member).
        """
        body: dict[str, object] = {"max_messages": max_messages, "wait_seconds": wait_seconds}
        if member_id is not None:
            body["member_id"] = member_id
        path = f"/v1/subscriptions/{segment(subscription)}/pull"
        answer = await self._http.request(
            "POST", path, body, time_limit=self._http.timeout + wait_seconds
        )
        return [ReceivedMessage.from_json(m) for m in answer["messages"]]

    async def ack(self, subscription: str, ack_ids: Sequence[str]) -> SettleResult:
        """Acknowledge deliveries; ``unknown`` lists those no longer in flight."""
        return await self._settle(subscription, "ack", "acked", {"ack_ids": list(ack_ids)})

    async def nack(
        self, subscription: str, ack_ids: Sequence[str], *, delay_seconds: float | None = None
    ) -> SettleResult:
        """Give deliveries back, redelivered after ``delay_seconds`` or the retry backoff."""
        body: dict[str, object] = {"ack_ids": list(ack_ids)}
        if delay_seconds is not None:
            body["delay_seconds"] = delay_seconds
        return await self._settle(subscription, "nack", "nacked", body)

    async def extend(
        self, subscription: str, ack_ids: Sequence[str], seconds: float
    ) -> SettleResult:
        """Move the deadline of deliveries to ``seconds`` from now."""
        body = {"ack_ids": list(ack_ids), "seconds": seconds}
        return await self._settle(subscription, "extend", "extended", body)

    async def _settle(
        self, subscription: str, verb: str, count_key: str, body: Mapping[str, object]
    ) -> SettleResult:
        path = f"/v1/subscriptions/{segment(subscription)}/{verb}"
        return SettleResult.from_json(await self._http.request("POST", path, body), count_key)

    def subscribe(
        self,
        subscription: str,
        *,
        max_in_flight: int | None = None,
        auto_extend: bool = False,
        max_lease_seconds: float = DEFAULT_MAX_LEASE_SECONDS,
        reconnect: ReconnectPolicy | None = DEFAULT_RECONNECT,
        batch_frames: bool = True,
    ) -> MessageStream:
        """A stream of the subscription's messages over a WebSocket.

        Args:
            subscription: the subscription to consume.
            max_in_flight: at most this many unsettled messages at once (default: the
                subscription's setting).
            auto_extend: extend the deadline of every message held (received, not yet
                acked or nacked) before it passes, for up to ``max_lease_seconds``.
            max_lease_seconds: how long auto-extension keeps one message.
            reconnect: how to reconnect and resubscribe when the connection is lost;
                None raises :class:`ServerUnreachable` instead.
            batch_frames: ask the broker to send what it pulls at once in one frame (the
                stream still yields one message at a time); False: one frame per message,
                for brokers older than batch frames.
        """
        stream = MessageStream(
            self._http, subscription, max_in_flight=max_in_flight, auto_extend=auto_extend,
            max_lease_seconds=max_lease_seconds, reconnect=reconnect, batch_frames=batch_frames,
        )  # fmt: skip
        self._streams.add(stream)
        return stream


def _outgoing(message: Publishable) -> OutgoingMessage:
    return message if isinstance(message, OutgoingMessage) else OutgoingMessage(message)
