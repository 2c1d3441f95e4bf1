"""The Server-Sent Events route: a subscription's messages streamed to one HTTP response."""

from __future__ import annotations

from aiohttp import web

from pubsubgo.adapters.http.events import EventStream, resumed_member
from pubsubgo.adapters.wire.access import Access
from pubsubgo.adapters.wire.api import RouteTable
from pubsubgo.adapters.wire.keys import BROKER, STREAMS
from pubsubgo.core.access import Action

routes = RouteTable(tag="subscriptions")

#: Headers of an event stream: never cached, never buffered by a proxy (nginx honours
#: X-Accel-Buffering).
_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


@routes.route(
    "GET", "/v1/subscriptions/{sub}/events",
    summary="Stream messages as Server-Sent Events (acks over REST)",
    description="Events: subscribed, message (a pulled message's fields), rebalanced, error. "
    "The stream is a member of the subscription's group while open; every event's id is "
    "'<member id>:<n>', and a reconnect with Last-Event-ID goes on as that member (its "
    "unacked messages stay its own). The bearer token may also come as ?access_token= "
    "(EventSource cannot set headers). See docs/api.md.",
    access=Access(action=Action.SUBSCRIBE, parameter="sub", query_token=True),
    responses={200: None}, errors=(404,), stream=True,
)  # fmt: skip
async def events(request: web.Request) -> web.StreamResponse:
    stream = EventStream(request.app[BROKER], request.match_info["sub"], web.StreamResponse())
    await stream.open(resumed_member(request.headers.get("Last-Event-ID")))
    response = stream.response
    response.content_type = "text/event-stream"
    response.headers.update(_HEADERS)
    if origin := request.headers.get("Origin"):
        # The guard let this origin in; a stream's headers go out before any middleware
        # could add the CORS ones.
        response.headers.update({"Access-Control-Allow-Origin": origin, "Vary": "Origin"})
    await response.prepare(request)
    streams = request.app[STREAMS]
    streams.add(stream.stop)
    try:
        await stream.run()
    finally:
        streams.discard(stream.stop)
    return response
