"""FrameConnection: one WebSocket to the broker, with replies matched to requests."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
from collections.abc import Callable, Mapping
from typing import Any

import aiohttp
import orjson

from pubsubgo.client.errors import PubSubClientError, ServerUnreachable, error_for_frame

logger = logging.getLogger(__name__)

#: How long a frame that asks for an answer (subscribe, ack...) waits for it: the broker
#: answers at once, so silence this long means the connection is dead.
REPLY_TIMEOUT_SECONDS = 30.0

Frame = dict[str, Any]


class ConnectionLost(Exception):
    """Raised when a reply cannot come because the socket closed."""


class FrameConnection:
    """Reads every frame of one socket in a task and sends frames on it.

    Frames with a ``request_id`` answer a :meth:`request`; messages (each of a ``message``
    frame or of a ``messages`` batch frame) and errors that answer nothing go to the
    callbacks. When the socket ends, ``on_closed`` is called
    once and pending requests fail with :class:`ConnectionLost`.

    Args:
        ws: the connected socket.
        url: the broker's URL, for error messages.
        on_message: called with each message, as the fields of a ``message`` frame.
        on_error: called with an unsolicited ``error`` frame (a subscription's delivery
            stopped: deleted, storage down...).
        on_closed: called once when the socket has ended.
    """

    def __init__(
        self,
        ws: aiohttp.ClientWebSocketResponse,
        url: str,
        *,
        on_message: Callable[[FrameConnection, Frame], None],
        on_error: Callable[[PubSubClientError], None],
        on_closed: Callable[[FrameConnection], None],
    ) -> None:
        self._ws = ws
        self._url = url
        self._on_message = on_message
        self._on_error = on_error
        self._on_closed = on_closed
        self._ids = itertools.count(1)
        self._waiting: dict[int, asyncio.Future[Frame]] = {}
        self._reader: asyncio.Task[None] | None = None

    @property
    def closed(self) -> bool:
        """True once the socket has ended (or is ending)."""
        return self._ws.closed or (self._reader is not None and self._reader.done())

    def start(self) -> None:
        """Start reading frames."""
        self._reader = asyncio.create_task(self._read(), name="pubsubgo websocket reader")

    async def send(self, frame: Mapping[str, Any]) -> None:
        """Send a frame that expects no answer.

        Raises:
            ConnectionLost: the socket is closed.
        """
        if self._ws.closed:
            raise ConnectionLost
        try:
            await self._ws.send_str(orjson.dumps(frame).decode())
        except (ConnectionError, aiohttp.ClientError) as error:
            raise ConnectionLost from error

    async def request(self, frame: Mapping[str, Any]) -> Frame:
        """Send a frame with a fresh ``request_id`` and return the frame answering it.

        Raises:
            ConnectionLost: the socket closed before the answer.
            ServerUnreachable: no answer within :data:`REPLY_TIMEOUT_SECONDS`.
            PubSubClientError: the broker answered with an ``error`` frame.
        """
        request_id = next(self._ids)
        answer: asyncio.Future[Frame] = asyncio.get_running_loop().create_future()
        self._waiting[request_id] = answer
        try:
            await self.send({**frame, "request_id": request_id})
            async with asyncio.timeout(REPLY_TIMEOUT_SECONDS):
                return await answer
        except TimeoutError:
            raise ServerUnreachable(self._url, "no answer on the WebSocket in time") from None
        finally:
            self._waiting.pop(request_id, None)

    async def aclose(self) -> None:
        """Close the socket and wait for the reader to finish."""
        await self._ws.close()
        if self._reader is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader

    async def _read(self) -> None:
        try:
            async for received in self._ws:
                if received.type is aiohttp.WSMsgType.TEXT:
                    self._dispatch_text(received.data)
        except (ConnectionError, aiohttp.ClientError) as error:
            logger.debug("WebSocket to %s failed: %r", self._url, error)
        finally:
            for waiting in self._waiting.values():
                if not waiting.done():
                    waiting.set_exception(ConnectionLost())
            self._on_closed(self)

    def _dispatch_text(self, text: str) -> None:
        try:
            frame = orjson.loads(text)
            if frame.get("type") == "messages":
                for message in frame["messages"]:
                    self._deliver(message)
            else:
                self._dispatch(frame)
        except (AttributeError, KeyError, TypeError, ValueError) as error:
            # One frame this client does not understand must not end the connection.
            self._ignored(error)

    def _deliver(self, message: Frame) -> None:
        """One message of a ``messages`` frame: a malformed one costs only itself."""
        try:
            self._on_message(self, message)
        except (AttributeError, KeyError, TypeError, ValueError) as error:
            self._ignored(error)

    def _ignored(self, error: Exception) -> None:
        logger.warning("ignored a malformed frame from %s: %r", self._url, error)

    def _dispatch(self, frame: Frame) -> None:
        kind = frame.get("type")
        answer = self._waiting.get(frame.get("request_id", -1))
        if answer is not None and not answer.done():
            if kind == "error":
                answer.set_exception(error_for_frame(frame))
            else:
                answer.set_result(frame)
        elif kind == "message":
            self._on_message(self, frame)
        elif kind == "error":
            self._on_error(error_for_frame(frame))
        else:
            logger.debug("WebSocket frame %s from %s", kind, self._url)
