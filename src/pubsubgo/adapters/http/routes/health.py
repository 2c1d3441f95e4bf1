"""Inspection routes: a topic's partitions, and the health of topics and subscriptions."""

from __future__ import annotations

from aiohttp import web

from pubsubgo.adapters.wire.access import Access, visible
from pubsubgo.adapters.wire.api import RouteTable
from pubsubgo.adapters.wire.keys import BROKER, RATES
from pubsubgo.adapters.wire.parsing import json_response
from pubsubgo.adapters.wire.schemas.health import (
    PartitionList,
    SubscriptionHealthView,
    TopicHealthView,
    partition_list,
    subscription_health_view,
    topic_health_view,
)

routes = RouteTable(tag="health")


@routes.route(
    "GET", "/v1/topics/{topic}/partitions",
    summary="Per partition: depth, first and last id, owners per subscription",
    description="Owners are listed for the subscriptions the token holds a permission on.",
    access=Access.read("topic"), responses={200: PartitionList}, errors=(404,),
)  # fmt: skip
async def partitions(request: web.Request) -> web.Response:
    topic = request.match_info["topic"]
    found = await request.app[BROKER].health.partitions(topic)
    shown = visible(request, {sub for p in found for sub in p.owners})
    return json_response(partition_list(topic, found, shown))


@routes.route(
    "GET", "/v1/topics/{topic}/health",
    summary="A topic's depth and rates, and the health of each of its subscriptions",
    description="Subscriptions are listed when the token holds a permission on them.",
    access=Access.read("topic"), responses={200: TopicHealthView}, errors=(404,),
)  # fmt: skip
async def topic_health(request: web.Request) -> web.Response:
    topic = request.match_info["topic"]
    found = await request.app[BROKER].health.of_topic(topic)
    shown = visible(request, (h.subscription.name for h in found.subscriptions))
    subscriptions = [h for h in found.subscriptions if h.subscription.name in shown]
    rates = request.app[RATES].rates(topic)
    return json_response(topic_health_view(topic, found.stats, rates, subscriptions))


@routes.route(
    "GET", "/v1/subscriptions/{sub}/health",
    summary="Backlog and its growth, oldest unacked age, dead letters, consumers",
    access=Access.read("sub"), responses={200: SubscriptionHealthView}, errors=(404,),
)  # fmt: skip
async def subscription_health(request: web.Request) -> web.Response:
    health = await request.app[BROKER].health.of_subscription(request.match_info["sub"])
    return json_response(subscription_health_view(health))
