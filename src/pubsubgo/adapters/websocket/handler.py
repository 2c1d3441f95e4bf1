"""The ``/v1/ws`` endpoint: upgrade, register the socket, serve it, forget it."""

from __future__ import annotations

import asyncio
import logging

from aiohttp import WSCloseCode, web

from pubsubgo.adapters.websocket.policy import SocketPolicy
from pubsubgo.adapters.websocket.session import SocketSession
from pubsubgo.adapters.wire.access import Access
from pubsubgo.adapters.wire.api import RouteTable
from pubsubgo.adapters.wire.background import run_in_background
from pubsubgo.adapters.wire.keys import BROKER, SETTINGS, SOCKETS
from pubsubgo.adapters.wire.tokens import SUBPROTOCOL
from pubsubgo.core.errors import TooManyWebSockets

logger = logging.getLogger(__name__)

routes = RouteTable(tag="websocket", always=())


@routes.route(
    "GET", "/v1/ws", summary="WebSocket subscriptions and publishing (JSON text frames)",
    description="Client frames: subscribe, unsubscribe, ack, nack, extend, publish. Server "
    "frames: subscribed, message, messages, published, acked, nacked, extended, "
    "rebalanced, unsubscribed, error. See docs/api.md. Browsers cannot set headers on an "
    "upgrade: they offer the subprotocols 'pubsubgo' and 'pubsubgo.bearer.<the token in "
    "unpadded base64url>' (the server selects 'pubsubgo'), or send ?access_token=; "
    "503 too_many_websockets "
    "when the broker holds limits.max_websockets sockets.",
    access=Access.token(query_token=True), websocket=True,
    responses={101: None}, errors=(400,),
)  # fmt: skip
async def websocket(request: web.Request) -> web.WebSocketResponse:
    settings = request.app[SETTINGS]
    sockets = request.app[SOCKETS]
    limit = settings.limits.max_websockets
    if limit and len(sockets) >= limit:
        raise TooManyWebSockets(limit)
    ws = web.WebSocketResponse(
        protocols=(SUBPROTOCOL,),
        heartbeat=settings.server.websocket_heartbeat_seconds,
        max_msg_size=settings.limits.max_body_bytes,
    )
    # Counted before the first await, so that concurrent upgrades cannot overshoot the limit.
    sockets.add(ws)
    try:
        await ws.prepare(request)
        await _serve(request, ws)
    finally:
        sockets.discard(ws)
    return ws


async def _serve(request: web.Request, ws: web.WebSocketResponse) -> None:
    session = SocketSession(ws, request.app[BROKER], SocketPolicy.of(request))
    try:
        await session.run()
    except Exception:
        # Never let the error middleware write an HTTP answer into an upgraded stream: the
        # client gets a close frame that says what happened.
        logger.exception("serving a WebSocket failed")
        await ws.close(code=WSCloseCode.INTERNAL_ERROR, message=b"internal error")
    finally:
        # Shielded: a handler cancelled by a lost connection must still leave its groups.
        await asyncio.shield(run_in_background(request.app, session.close(), "closing a socket"))
