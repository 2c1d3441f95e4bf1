"""Who the caller is: the token's name and permissions, so that a client (the console) can
offer only what the token may do."""

from __future__ import annotations

from aiohttp import web

from pubsubgo.adapters.wire.access import Access, principal_of
from pubsubgo.adapters.wire.api import RouteTable
from pubsubgo.adapters.wire.guard import GUARD
from pubsubgo.adapters.wire.parsing import json_response
from pubsubgo.adapters.wire.schemas.identity import IdentityView, identity_view

routes = RouteTable(tag="auth", always=())


@routes.route(
    "GET", "/v1/whoami", summary="The caller's token: its name and permissions",
    description="With auth off the caller is 'anonymous', allowed everything, and"
    " authentication is false.",
    access=Access.token("any valid token; describes that token"),
    responses={200: IdentityView},
)  # fmt: skip
async def whoami(request: web.Request) -> web.Response:
    authentication = request.app[GUARD].tokens is not None
    return json_response(identity_view(principal_of(request), authentication))
