"""Dead-letter routes beside ``redrive``: purging a subscription's dead letters."""

from __future__ import annotations

from aiohttp import web

from pubsubgo.adapters.wire.access import Access
from pubsubgo.adapters.wire.api import RouteTable
from pubsubgo.adapters.wire.keys import BROKER
from pubsubgo.adapters.wire.parsing import json_response, read_body
from pubsubgo.adapters.wire.schemas.dead_letters import DeadLetterSelection, PurgeResponse
from pubsubgo.core.access import Action

routes = RouteTable(tag="subscriptions")


@routes.route(
    "POST", "/v1/subscriptions/{sub}/dead-letters/purge",
    summary="Delete its dead letters (all, or the given ids) from the dead-letter topic",
    description="Removes the messages this subscription dead-lettered (x-original-subscription"
    " and x-original-topic name it) from its dead_letter_topic; other subscriptions' dead"
    " letters in the same topic stay. The body may be left out: every one of them is purged.",
    body=DeadLetterSelection, body_required=False, responses={200: PurgeResponse},
    errors=(400, 404), access=Access.to(Action.ADMIN, "sub"),
)  # fmt: skip
async def purge_dead_letters(request: web.Request) -> web.Response:
    body = await read_body(request, DeadLetterSelection)
    purged = await request.app[BROKER].subscriptions.purge_dead_letters(
        request.match_info["sub"], body.ids
    )
    return json_response(PurgeResponse(purged=purged))
