"""SocketSession: one client's WebSocket, read frame by frame."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from aiohttp import WSMsgType, web

from pubsubgo.adapters.websocket.pipeline import FramePipeline
from pubsubgo.adapters.websocket.policy import SocketPolicy
from pubsubgo.adapters.websocket.protocol import (
    FrameSender,
    SocketClosed,
    domain_error_frame,
    error_frame,
    membership_frame,
)
from pubsubgo.adapters.websocket.publishing import FramePublisher, Publish
from pubsubgo.adapters.websocket.settling import AckSettler, owners
from pubsubgo.adapters.websocket.stream import SubscriptionStream
from pubsubgo.adapters.wire.schemas.frames import (
    AckFrame,
    AnyClientFrame,
    ExtendFrame,
    NackFrame,
    ProtocolError,
    PublishFrame,
    SubscribeFrame,
    UnsubscribeFrame,
    parse_frame,
)
from pubsubgo.adapters.wire.schemas.requests import to_requests
from pubsubgo.core.errors import PubSubError
from pubsubgo.core.messages import AckId
from pubsubgo.services.acknowledgment import AckResult
from pubsubgo.services.broker import Broker

logger = logging.getLogger(__name__)


class SocketSession:
    """Serves one socket: frames in order, one stream per subscribed subscription.

    Ack and publish frames are the exception: a :class:`FramePipeline` handles them in
    order while the next frames are read, runs of them that queue up merged into one
    storage call. Every other frame waits for the pipeline's frames read before it, so its
    effect and answer still come after theirs.

    Args:
        ws: the prepared socket.
        broker: the driving API.
        policy: the permissions, rate and limits the socket's frames obey.
    """

    def __init__(self, ws: web.WebSocketResponse, broker: Broker, policy: SocketPolicy) -> None:
        self._ws = ws
        self._broker = broker
        self._policy = policy
        self._sender = FrameSender(ws)
        self._streams: dict[str, SubscriptionStream] = {}
        self._pipeline = FramePipeline(
            AckSettler(broker.acks, self._sender, self._streams),
            FramePublisher(broker.publisher, self._sender, policy.principal),
        )

    async def run(self) -> None:
        """Read frames until the socket closes; then :meth:`close` must be awaited."""
        try:
            async for message in self._ws:
                if message.type is WSMsgType.TEXT:
                    await self._handle(message.data)
                elif message.type is WSMsgType.BINARY:
                    await self._pipeline.done()
                    await self._sender.send(
                        error_frame("binary_frame", "frames are JSON text, not binary")
                    )
        except SocketClosed:
            pass

    async def close(self) -> None:
        """Settle the acks and store the publishes already read, then stop every stream and
        leave every group: what the socket held is delivered to others at once."""
        await self._pipeline.aclose()
        streams = list(self._streams.values())
        self._streams.clear()
        results = await asyncio.gather(*(s.stop() for s in streams), return_exceptions=True)
        for stream, result in zip(streams, results, strict=True):
            if isinstance(result, Exception):
                # The member could not leave; the group evicts it after its session timeout.
                logger.warning("leaving %s on close failed: %r", stream.name, result)

    async def _handle(self, text: str) -> None:
        request_id = None
        try:
            frame = parse_frame(text)
            request_id = frame.request_id
            self._policy.admit(frame)
            if type(frame) is AckFrame:
                await self._pipeline.put(frame)
            elif isinstance(frame, PublishFrame):
                await self._pipeline.put(Publish(frame, to_requests(frame.messages)))
            else:
                await self._pipeline.done()
                await self._dispatch(frame)
        except ProtocolError as error:
            await self._pipeline.done()
            await self._sender.send(error_frame(error.code, error.message, error.request_id))
        except PubSubError as error:
            await self._pipeline.done()
            await self._sender.send(domain_error_frame(error, request_id))
        except SocketClosed:
            raise
        except Exception:
            logger.exception("handling a WebSocket frame failed")
            await self._pipeline.done()
            await self._sender.send(error_frame("internal", "internal error", request_id))

    async def _dispatch(self, frame: AnyClientFrame) -> None:
        match frame:
            case SubscribeFrame():
                await self._subscribe(frame)
            case UnsubscribeFrame():
                await self._unsubscribe(frame)
            case NackFrame():
                await self._settle(frame, "nacked")
            case ExtendFrame():
                await self._settle(frame, "extended")

    async def _subscribe(self, frame: SubscribeFrame) -> None:
        old = self._streams.get(frame.subscription)
        if old is not None and old.active:
            raise ProtocolError(
                "already_subscribed", f"already subscribed to {frame.subscription!r}",
                frame.request_id,
            )  # fmt: skip
        if old is not None:
            await self._streams.pop(frame.subscription).stop()
        self._policy.room_for(len(self._streams))
        sub = await self._broker.subscriptions.get(frame.subscription)
        limit = min(frame.max_in_flight or sub.max_in_flight, sub.max_in_flight)
        stream = SubscriptionStream(self._broker, self._sender, sub, limit, batch=frame.batch)
        membership = await stream.join()
        self._streams[sub.name] = stream
        reply = membership_frame("subscribed", sub.name, membership) | {"max_in_flight": limit}
        await self._sender.send(_answer(reply, frame.request_id))
        stream.start()

    async def _unsubscribe(self, frame: UnsubscribeFrame) -> None:
        stream = self._streams.pop(frame.subscription, None)
        if stream is None:
            raise ProtocolError(
                "not_subscribed", f"not subscribed to {frame.subscription!r}", frame.request_id
            )
        await stream.stop()
        reply = {"type": "unsubscribed", "subscription": frame.subscription}
        await self._sender.send(_answer(reply, frame.request_id))

    async def _settle(self, frame: NackFrame | ExtendFrame, done: str) -> None:
        """Nack or extend; answered only when the frame has a ``request_id``."""
        count, unknown = 0, []
        grouped = owners(frame.ack_ids, frame.subscription, self._streams)
        for subscription, ack_ids in grouped.items():
            if subscription is None:
                unknown += ack_ids
                continue
            result = await self._apply(frame, subscription, ack_ids)
            count += result.count
            unknown += result.unknown
            stream = self._streams.get(subscription)
            if stream is not None and not isinstance(frame, ExtendFrame):
                stream.settled(ack_ids)
        if frame.request_id is not None:
            reply = {"type": done, done: count, "unknown": unknown}
            await self._sender.send(_answer(reply, frame.request_id))

    async def _apply(
        self, frame: NackFrame | ExtendFrame, subscription: str, ack_ids: list[AckId]
    ) -> AckResult:
        acks = self._broker.acks
        if isinstance(frame, NackFrame):
            return await acks.nack(subscription, ack_ids, frame.delay_seconds)
        seconds = frame.seconds
        if seconds is None:
            seconds = (await self._broker.subscriptions.get(subscription)).ack_deadline_seconds
        return await acks.extend(subscription, ack_ids, seconds)


def _answer(frame: dict[str, Any], request_id: str | int | None) -> dict[str, Any]:
    return frame if request_id is None else frame | {"request_id": request_id}
