"""Subscription routes: create, list, describe, delete, pull, ack, nack, extend, seek, redrive."""

from __future__ import annotations

from aiohttp import web

from pubsubgo.adapters.wire.access import Access, require, visible
from pubsubgo.adapters.wire.api import RouteTable
from pubsubgo.adapters.wire.keys import BROKER, RATES
from pubsubgo.adapters.wire.parsing import json_response, read_body, read_query
from pubsubgo.adapters.wire.schemas.dead_letters import DeadLetterSelection
from pubsubgo.adapters.wire.schemas.messages import received_message
from pubsubgo.adapters.wire.schemas.queries import ListSubscriptionsQuery, next_page
from pubsubgo.adapters.wire.schemas.requests import (
    AckRequest,
    CreateSubscription,
    ExtendRequest,
    NackRequest,
    PullRequest,
    SeekRequest,
)
from pubsubgo.adapters.wire.schemas.responses import (
    AckResponse,
    ExtendResponse,
    NackResponse,
    PullResponse,
    RedriveResponse,
    SubscriptionDescriptionView,
    SubscriptionList,
    SubscriptionView,
    subscription_description_view,
    subscription_view,
)
from pubsubgo.core.access import Action
from pubsubgo.core.messages import AckId

routes = RouteTable(tag="subscriptions")

#: The operations that settle what a pull handed out.
_SETTLES = ("ack", "nack", "extend")


@routes.route(
    "POST", "/v1/subscriptions", summary="Create a subscription", body=CreateSubscription,
    access=Access.token(
        "admin on the new subscription's name, subscribe on its topic, publish on its"
        " dead_letter_topic"
    ),
    responses={201: SubscriptionView}, errors=(400, 403, 404, 409),
    produces={"sub": "$response.body#/name", "topic": "$response.body#/topic"},
)  # fmt: skip
async def create_subscription(request: web.Request) -> web.Response:
    spec = await read_body(request, CreateSubscription)
    require(request, spec.needs())
    created = await request.app[BROKER].subscriptions.create(spec.to_subscription())
    return json_response(subscription_view(created), 201)


@routes.route(
    "GET", "/v1/subscriptions", summary="List subscriptions (of one topic with ?topic=)",
    description="Paged like GET /v1/topics.", query=ListSubscriptionsQuery,
    access=Access.token("any valid token; lists the subscriptions it holds a permission on"),
    responses={200: SubscriptionList},
    errors=(400,),
)  # fmt: skip
async def list_subscriptions(request: web.Request) -> web.Response:
    query = read_query(request, ListSubscriptionsQuery)
    found = await request.app[BROKER].subscriptions.list(query.topic, query.page)
    shown = visible(request, (s.name for s in found))
    views = [subscription_view(s) for s in found if s.name in shown]
    return json_response(
        SubscriptionList(subscriptions=views, next_page_token=next_page(found, query.limit))
    )


@routes.route(
    "GET", "/v1/subscriptions/{sub}", summary="Describe: backlog, in flight, group",
    access=Access.read("sub"), responses={200: SubscriptionDescriptionView}, errors=(404,),
)  # fmt: skip
async def describe_subscription(request: web.Request) -> web.Response:
    name = request.match_info["sub"]
    found = await request.app[BROKER].subscriptions.describe(name)
    rate = request.app[RATES].subscription_rate(name)
    return json_response(subscription_description_view(found, rate))


@routes.route(
    "DELETE", "/v1/subscriptions/{sub}", summary="Delete a subscription",
    access=Access.to(Action.ADMIN, "sub"), responses={204: None}, errors=(404,),
)  # fmt: skip
async def delete_subscription(request: web.Request) -> web.Response:
    await request.app[BROKER].subscriptions.delete(request.match_info["sub"])
    return web.Response(status=204)


@routes.route(
    "POST", "/v1/subscriptions/{sub}/pull", summary="Pull messages (long poll)",
    description="Waits up to wait_seconds for the first message and answers as soon as "
    "one arrives.",
    body=PullRequest, body_required=False, responses={200: PullResponse}, errors=(400, 404, 503),
    access=Access.to(Action.SUBSCRIBE, "sub"), long_poll=True,
    feeds={name: {"ack_ids": ["$response.body#/messages/0/ack_id"]} for name in _SETTLES},
)  # fmt: skip
async def pull(request: web.Request) -> web.Response:
    ask = await read_body(request, PullRequest)
    deliveries = await request.app[BROKER].subscriber.pull(
        request.match_info["sub"], ask.max_messages, ask.wait_seconds, ask.member_id
    )
    return json_response(PullResponse(messages=list(map(received_message, deliveries))))


@routes.route(
    "POST", "/v1/subscriptions/{sub}/ack", summary="Acknowledge deliveries",
    body=AckRequest, responses={200: AckResponse}, errors=(400, 404),
    access=Access.to(Action.SUBSCRIBE, "sub"),
)  # fmt: skip
async def ack(request: web.Request) -> web.Response:
    body = await read_body(request, AckRequest)
    done = await request.app[BROKER].acks.ack(request.match_info["sub"], _ack_ids(body))
    return json_response(AckResponse(acked=done.count, unknown=done.unknown))


@routes.route(
    "POST", "/v1/subscriptions/{sub}/nack", summary="Give deliveries back for redelivery",
    body=NackRequest, responses={200: NackResponse}, errors=(400, 404),
    access=Access.to(Action.SUBSCRIBE, "sub"),
)  # fmt: skip
async def nack(request: web.Request) -> web.Response:
    body = await read_body(request, NackRequest)
    done = await request.app[BROKER].acks.nack(
        request.match_info["sub"], _ack_ids(body), body.delay_seconds
    )
    return json_response(NackResponse(nacked=done.count, unknown=done.unknown))


@routes.route(
    "POST", "/v1/subscriptions/{sub}/extend", summary="Push the ack deadline of deliveries",
    body=ExtendRequest, responses={200: ExtendResponse}, errors=(400, 404),
    access=Access.to(Action.SUBSCRIBE, "sub"),
)  # fmt: skip
async def extend(request: web.Request) -> web.Response:
    body = await read_body(request, ExtendRequest)
    done = await request.app[BROKER].acks.extend(
        request.match_info["sub"], _ack_ids(body), body.seconds
    )
    return json_response(ExtendResponse(extended=done.count, unknown=done.unknown))


@routes.route(
    "POST", "/v1/subscriptions/{sub}/seek", summary="Move to earliest, latest or a time",
    body=SeekRequest, responses={204: None}, errors=(400, 404),
    access=Access.to(Action.ADMIN, "sub"),
)  # fmt: skip
async def seek(request: web.Request) -> web.Response:
    body = await read_body(request, SeekRequest)
    await request.app[BROKER].subscriptions.seek(
        request.match_info["sub"], position=body.position, timestamp=body.seconds
    )
    return web.Response(status=204)


@routes.route(
    "POST", "/v1/subscriptions/{sub}/redrive",
    summary="Move its dead letters (all, or the given ids) back to it",
    body=DeadLetterSelection, body_required=False, responses={200: RedriveResponse},
    errors=(400, 404), access=Access.to(Action.ADMIN, "sub"),
)  # fmt: skip
async def redrive(request: web.Request) -> web.Response:
    body = await read_body(request, DeadLetterSelection)
    moved = await request.app[BROKER].subscriptions.redrive(request.match_info["sub"], body.ids)
    return json_response(RedriveResponse(moved=moved))


def _ack_ids(body: AckRequest | NackRequest | ExtendRequest) -> list[AckId]:
    return [AckId(a) for a in body.ack_ids]
