"""Health and the API's own description."""

from __future__ import annotations

from aiohttp import web

from pubsubgo.adapters.prometheus.endpoint import exposition
from pubsubgo.adapters.wire.access import Access, require
from pubsubgo.adapters.wire.api import RouteTable
from pubsubgo.adapters.wire.errors import MetricsDisabled
from pubsubgo.adapters.wire.keys import CONNECTION, METRICS_REGISTRY, OPENAPI, SETTINGS
from pubsubgo.adapters.wire.parsing import json_response
from pubsubgo.adapters.wire.schemas.responses import HealthResponse, OpenApiDocument
from pubsubgo.core.access import Action

routes = RouteTable(tag="system", always=())


@routes.route(
    "GET", "/healthz", summary="Liveness: the process answers", access=Access.open(),
    responses={200: HealthResponse},
)  # fmt: skip
async def healthz(request: web.Request) -> web.Response:
    return json_response(HealthResponse(status="ok"))


@routes.route(
    "GET", "/readyz", summary="Readiness: storage answers", access=Access.open(),
    responses={200: HealthResponse}, errors=(503,),
)  # fmt: skip
async def readyz(request: web.Request) -> web.Response:
    await request.app[CONNECTION].ping()
    return json_response(HealthResponse(status="ready"))


@routes.route(
    "GET", "/metrics", summary="Prometheus metrics",
    description="The Prometheus text exposition format (text/plain; version=0.0.4), also"
    " served without a token on the metrics port (metrics.port). The series name every topic"
    " and subscription, so with auth on this route needs a token with admin on every name"
    " ('*'). 404 when metrics are disabled.",
    access=Access.token("admin on every name ('*')"), responses={200: None}, errors=(404,),
)  # fmt: skip
async def metrics(request: web.Request) -> web.Response:
    if not request.app[SETTINGS].metrics.enabled:
        raise MetricsDisabled()
    require(request, [(Action.ADMIN, "*")])
    return await exposition(request.app[METRICS_REGISTRY])


@routes.route(
    "GET", "/v1/openapi.json", summary="This document (OpenAPI 3.1)", access=Access.open(),
    responses={200: OpenApiDocument},
)  # fmt: skip
async def openapi(request: web.Request) -> web.Response:
    return web.json_response(request.app[OPENAPI])
