"""The ``/v1/ws`` endpoint: upgrade, register the socket, serve it, forget it."""

from __future__ import annotations

import asyncio

from aiohttp import web

from pubsubgo.adapters.http.api import RouteTable
from pubsubgo.adapters.http.background import run_in_background
from pubsubgo.adapters.http.keys import BROKER, SETTINGS, SOCKETS
from pubsubgo.adapters.websocket.session import SocketSession

routes = RouteTable(tag="websocket", always=())


@routes.route(
    "GET", "/v1/ws", summary="WebSocket subscriptions and publishing (JSON text frames)",
    description="Client frames: subscribe, unsubscribe, ack, nack, extend, publish. Server "
    "frames: subscribed, message, published, acked, nacked, extended, rebalanced, "
    "unsubscribed, error. See docs/api.md.",
    responses={101: None}, errors=(400,),
)  # fmt: skip
async def websocket(request: web.Request) -> web.WebSocketResponse:
    settings = request.app[SETTINGS]
    ws = web.WebSocketResponse(
        heartbeat=settings.server.websocket_heartbeat_seconds,
        max_msg_size=settings.limits.max_body_bytes,
    )
    await ws.prepare(request)
    sockets = request.app[SOCKETS]
    sockets.add(ws)
    session = SocketSession(ws, request.app[BROKER])
    try:
        await session.run()
    finally:
        sockets.discard(ws)
        # Shielded: a handler cancelled by a lost connection must still leave its groups.
        await asyncio.shield(run_in_background(request.app, session.close(), "closing a socket"))
    return ws
