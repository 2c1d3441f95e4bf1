"""Topic routes: create, list, describe, update, delete, publish, fetch, browse, stats."""

from __future__ import annotations

from aiohttp import web

from pubsubgo.adapters.wire.access import Access, principal_of, require, visible
from pubsubgo.adapters.wire.api import RouteTable
from pubsubgo.adapters.wire.background import run_in_background
from pubsubgo.adapters.wire.keys import BROKER, RATES
from pubsubgo.adapters.wire.parsing import json_response, message_id, read_body, read_query
from pubsubgo.adapters.wire.schemas.messages import MessageView, message_view
from pubsubgo.adapters.wire.schemas.queries import (
    BrowseQuery,
    ForceQuery,
    ListTopicsQuery,
    PublishQuery,
    next_page,
)
from pubsubgo.adapters.wire.schemas.requests import (
    CreateTopic,
    PublishMessages,
    UpdateTopic,
    to_requests,
)
from pubsubgo.adapters.wire.schemas.responses import (
    AcceptedResponse,
    MessageList,
    PublishResponse,
    TopicDescriptionView,
    TopicList,
    TopicStatsView,
    TopicView,
    topic_description_view,
    topic_stats_view,
    topic_view,
)
from pubsubgo.core.access import Action
from pubsubgo.core.messages import MessageId

routes = RouteTable(tag="topics")


@routes.route(
    "POST", "/v1/topics", summary="Create a topic", body=CreateTopic,
    access=Access.token("admin on the new topic's name"), responses={201: TopicView},
    errors=(400, 403, 409), produces={"topic": "$response.body#/name"},
    feeds={"create_subscription": {"topic": "$response.body#/name"}},
)  # fmt: skip
async def create_topic(request: web.Request) -> web.Response:
    spec = await read_body(request, CreateTopic)
    require(request, spec.needs())
    topic = await request.app[BROKER].topics.create(spec.to_topic())
    return json_response(topic_view(topic), 201)


@routes.route(
    "GET", "/v1/topics", summary="List topics (those the token holds a permission on)",
    description="A page of up to limit topics in name order, those starting with prefix; "
    "next_page_token, when not null, asks for the next page.",
    access=Access.token("any valid token; lists the topics it holds a permission on"),
    query=ListTopicsQuery, responses={200: TopicList}, errors=(400,),
)  # fmt: skip
async def list_topics(request: web.Request) -> web.Response:
    query = read_query(request, ListTopicsQuery)
    topics = await request.app[BROKER].topics.list(query.page)
    shown = visible(request, (t.name for t in topics))
    return json_response(
        TopicList(
            topics=[topic_view(t) for t in topics if t.name in shown],
            next_page_token=next_page(topics, query.limit),
        )
    )


@routes.route(
    "GET", "/v1/topics/{topic}", summary="Describe a topic, with its statistics",
    access=Access.read("topic"), responses={200: TopicDescriptionView}, errors=(404,),
)  # fmt: skip
async def describe_topic(request: web.Request) -> web.Response:
    name = request.match_info["topic"]
    found = await request.app[BROKER].topics.describe(name)
    return json_response(topic_description_view(found, request.app[RATES].rates(name)))


@routes.route(
    "PATCH", "/v1/topics/{topic}", summary="Change a topic's settings",
    description="Retention, max_messages, overflow, dedup window and compression; settings "
    "left out stay as they are. partitions cannot change (given, it must be the topic's own "
    "count). A lowered bound applies from the next publish; compression to new messages.",
    body=UpdateTopic, body_required=False, access=Access.to(Action.ADMIN, "topic"),
    responses={200: TopicView},
    errors=(400, 404),
)  # fmt: skip
async def update_topic(request: web.Request) -> web.Response:
    changes = (await read_body(request, UpdateTopic)).to_changes()
    topic = await request.app[BROKER].topics.update(request.match_info["topic"], changes)
    return json_response(topic_view(topic))


@routes.route(
    "DELETE", "/v1/topics/{topic}", summary="Delete a topic (with force: its subscriptions too)",
    access=Access.to(Action.ADMIN, "topic"), query=ForceQuery, responses={204: None},
    errors=(400, 404, 409),
)  # fmt: skip
async def delete_topic(request: web.Request) -> web.Response:
    query = read_query(request, ForceQuery)
    force = query.force == "true"
    await request.app[BROKER].topics.delete(request.match_info["topic"], force=force)
    return web.Response(status=204)


@routes.route(
    "POST", "/v1/topics/{topic}/messages", summary="Publish messages",
    description="With async=true the broker checks the messages as it would for a synchronous"
    " publish and answers 202 before storing: a failure only storing can tell (a full topic, "
    "storage down) is then only logged, so the publisher gives up the storage guarantee for "
    "latency.",
    body=PublishMessages, query=PublishQuery, access=Access.to(Action.PUBLISH, "topic"),
    responses={201: PublishResponse, 202: AcceptedResponse}, errors=(400, 404, 413, 429, 503),
    produces={"id": "$response.body#/ids/0"},
)  # fmt: skip
async def publish(request: web.Request) -> web.Response:
    # Only ?async=true changes anything, and most publishes carry no query at all.
    answer_early = bool(request.query) and read_query(request, PublishQuery).async_ == "true"
    requests = to_requests((await read_body(request, PublishMessages)).messages)
    topic = request.match_info["topic"]
    broker = request.app[BROKER]
    creator = principal_of(request)
    if answer_early:
        # Everything a synchronous publish would refuse is refused now, not after the 202.
        await broker.publisher.check(topic, requests, creator)
        work = broker.publisher.publish(topic, requests, creator=creator)
        run_in_background(request.app, work, f"async publish to {topic}")
        return json_response(AcceptedResponse(accepted=len(requests)), 202)
    ids = await broker.publisher.publish(topic, requests, creator=creator)
    return json_response(PublishResponse(ids=ids), 201)


@routes.route(
    "GET", "/v1/topics/{topic}/messages/{id}", summary="Fetch one stored message",
    access=Access.to(Action.SUBSCRIBE, "topic"), responses={200: MessageView}, errors=(404, 410),
)  # fmt: skip
async def get_message(request: web.Request) -> web.Response:
    topic, id_ = request.match_info["topic"], message_id(request)
    message = await request.app[BROKER].topics.message(topic, id_)
    return json_response(message_view(message))


@routes.route(
    "GET", "/v1/topics/{topic}/messages", summary="Browse stored messages without consuming",
    access=Access.to(Action.SUBSCRIBE, "topic"), query=BrowseQuery,
    responses={200: MessageList}, errors=(400, 404),
)  # fmt: skip
async def browse(request: web.Request) -> web.Response:
    query = read_query(request, BrowseQuery)
    after = None if query.after is None else MessageId(query.after)
    page = await request.app[BROKER].topics.browse(request.match_info["topic"], after, query.limit)
    return json_response(
        MessageList(messages=[message_view(m) for m in page.messages], next_after=page.next_after)
    )


@routes.route(
    "GET", "/v1/topics/{topic}/stats", summary="Counts, bytes, rates and partition depths",
    access=Access.read("topic"), responses={200: TopicStatsView}, errors=(404,),
)  # fmt: skip
async def stats(request: web.Request) -> web.Response:
    name = request.match_info["topic"]
    found = await request.app[BROKER].topics.describe(name)
    return json_response(topic_stats_view(name, found.stats, request.app[RATES].rates(name)))
