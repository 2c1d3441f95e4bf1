"""Consumer-group routes: join, heartbeat, leave."""

from __future__ import annotations

from aiohttp import web

from pubsubgo.adapters.wire.access import Access
from pubsubgo.adapters.wire.api import RouteTable
from pubsubgo.adapters.wire.keys import BROKER
from pubsubgo.adapters.wire.parsing import json_response, read_body
from pubsubgo.adapters.wire.schemas.requests import JoinRequest
from pubsubgo.adapters.wire.schemas.responses import (
    HeartbeatResponse,
    MembershipView,
    membership_view,
)
from pubsubgo.core.access import Action

routes = RouteTable(tag="consumer groups")


@routes.route(
    "POST", "/v1/subscriptions/{sub}/members", summary="Join the subscription's group",
    body=JoinRequest, body_required=False, responses={201: MembershipView}, errors=(400, 404, 409),
    access=Access.to(Action.SUBSCRIBE, "sub"), produces={"member": "$response.body#/member_id"},
)  # fmt: skip
async def join(request: web.Request) -> web.Response:
    body = await read_body(request, JoinRequest)
    membership = await request.app[BROKER].groups.join(request.match_info["sub"], body.member_id)
    return json_response(membership_view(membership), 201)


@routes.route(
    "POST", "/v1/subscriptions/{sub}/members/{member}/heartbeat",
    summary="Keep a member alive; a new generation means a rebalance",
    access=Access.to(Action.SUBSCRIBE, "sub"), responses={200: HeartbeatResponse},
    errors=(404, 409),
)  # fmt: skip
async def heartbeat(request: web.Request) -> web.Response:
    sub, member = request.match_info["sub"], request.match_info["member"]
    membership = await request.app[BROKER].groups.heartbeat(sub, member)
    return json_response(
        HeartbeatResponse(generation=membership.generation, assignment=list(membership.assignment))
    )


@routes.route(
    "DELETE", "/v1/subscriptions/{sub}/members/{member}",
    summary="Leave the group; what the member held is redelivered at once",
    access=Access.to(Action.SUBSCRIBE, "sub"), responses={204: None}, errors=(404, 409),
)  # fmt: skip
async def leave(request: web.Request) -> web.Response:
    sub, member = request.match_info["sub"], request.match_info["member"]
    await request.app[BROKER].groups.leave(sub, member)
    return web.Response(status=204)
