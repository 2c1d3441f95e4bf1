"""What the WebSocket server sends: frame builders and a sender safe for concurrent tasks."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import Any

from aiohttp import web
from msgspec import Struct

from pubsubgo.adapters.wire.codec import encode
from pubsubgo.adapters.wire.schemas.fields import RequestId
from pubsubgo.adapters.wire.schemas.frames import message_frame, messages_frame
from pubsubgo.core.errors import PubSubError
from pubsubgo.services.groups import Membership

__all__ = ["message_frame", "messages_frame"]

#: A frame the server sends: a schema Struct, or a small object built here.
Frame = Struct | dict[str, Any]


def membership_frame(kind: str, subscription: str, membership: Membership) -> dict[str, Any]:
    """``subscribed`` or ``rebalanced``: who this socket is in the group and what it owns."""
    return {
        "type": kind,
        "subscription": subscription,
        "member_id": membership.member_id,
        "generation": membership.generation,
        "assignment": list(membership.assignment),
    }


def error_frame(
    code: str, message: str, request_id: RequestId | None = None, **details: object
) -> dict[str, Any]:
    """``error``: what went wrong, answering ``request_id`` when the frame had one."""
    frame: dict[str, Any] = {"type": "error", "code": code, "message": message, **details}
    if request_id is not None:
        frame["request_id"] = request_id
    return frame


def domain_error_frame(error: PubSubError, request_id: RequestId | None) -> dict[str, Any]:
    """``error`` for a refusal of the broker, with the same code as over HTTP."""
    return error_frame(error.code, error.message, request_id, **error.details())


class SocketClosed(Exception):
    """Raised when sending on a socket that has closed."""


class FrameSender:
    """Sends frames on one socket, one at a time (pushes and replies come from several tasks)."""

    def __init__(self, ws: web.WebSocketResponse) -> None:
        self._ws = ws
        self._lock = asyncio.Lock()

    async def send(self, frame: Frame) -> None:
        """Send ``frame`` as JSON text.

        Raises:
            SocketClosed: the socket is closing or closed.
        """
        await self.send_all((frame,))

    async def send_all(self, frames: Iterable[Frame]) -> None:
        """Send ``frames`` as JSON text, one after the other, nothing from other tasks
        between them.

        Raises:
            SocketClosed: the socket is closing or closed.
        """
        texts = [encode(frame).decode() for frame in frames]
        async with self._lock:
            for text in texts:
                if self._ws.closed:
                    raise SocketClosed
                try:
                    await self._ws.send_str(text)
                except ConnectionError as error:
                    raise SocketClosed from error
