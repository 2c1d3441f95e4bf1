"""Open sockets: closed with GOING_AWAY when the server shuts down."""

from __future__ import annotations

import asyncio

from aiohttp import WSCloseCode, web

from pubsubgo.adapters.http.keys import SOCKETS


async def close_sockets(app: web.Application) -> None:
    """``on_shutdown``: tell every client the server is going away.

    Runs before the cleanup context exits, so sockets leave their groups while storage is
    still there.
    """
    open_sockets = app[SOCKETS]
    sockets = list(open_sockets)
    await asyncio.gather(
        *(ws.close(code=WSCloseCode.GOING_AWAY, message=b"server shutdown") for ws in sockets),
        return_exceptions=True,
    )
