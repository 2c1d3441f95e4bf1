"""The observability middleware: a span, metrics and an access log line per request."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from aiohttp import web
from aiohttp.typedefs import Handler
from opentelemetry import context, trace
from opentelemetry.trace import SpanKind, Status, StatusCode

from pubsubgo.adapters.prometheus.metrics import PrometheusMetrics
from pubsubgo.adapters.telemetry import PROPAGATOR
from pubsubgo.adapters.wire.tokens import QUERY_PARAMETER

access_log = logging.getLogger("pubsubgo.access")

#: The route label of requests that matched no route, so that scanners probing random paths
#: cannot create a series per path.
UNMATCHED_ROUTE = "unmatched"
#: Set by the error middleware on an error response: the error's code.
ERROR_CODE = web.ResponseKey("error_code", str)


@dataclass(frozen=True, slots=True)
class Observability:
    """What the middleware reports to; either may be off (None)."""

    metrics: PrometheusMetrics | None
    tracer: trace.Tracer | None
    access_log: bool = True


OBSERVABILITY = web.AppKey("observability", Observability)


@web.middleware
async def observability_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Time, count, trace and log every request under its route template (never raw paths)."""
    seen = request.app.get(OBSERVABILITY)
    if seen is None:
        return await handler(request)
    route = _route_template(request)
    kind = "websocket" if request.headers.get("Upgrade", "").lower() == "websocket" else "http"
    started = time.perf_counter()
    token = _start_span(seen, request, route)
    if seen.metrics:
        seen.metrics.connection_opened(kind)
    status = 500
    try:
        response = await handler(request)
        status = response.status
        return response
    finally:
        elapsed = time.perf_counter() - started
        _finish(seen, request, route, kind, status, elapsed, response if status != 500 else None)
        if token is not None:
            _end_span(token, status)


def _finish(
    seen: Observability,
    request: web.Request,
    route: str,
    kind: str,
    status: int,
    elapsed: float,
    response: web.StreamResponse | None,
) -> None:
    code = response.get(ERROR_CODE) if response is not None else "internal"
    if seen.metrics:
        seen.metrics.request_served(kind, request.method, route, status, elapsed, code)
    # The line's arguments cost more than the call: skip them when INFO is not logged.
    if seen.access_log and access_log.isEnabledFor(logging.INFO):
        access_log.info(
            "%s %s %d %.1fms",
            request.method,
            loggable_target(request),
            status,
            elapsed * 1000,
            extra={"method": request.method, "route": route, "status": status,
                   "duration_ms": round(elapsed * 1000, 3), "remote": request.remote},
        )  # fmt: skip


def loggable_target(request: web.Request) -> str:
    """The path and query as logged: a token passed as ``?access_token=`` (WebSocket
    upgrades from browsers) is masked, so that logs never hold a credential."""
    if QUERY_PARAMETER not in request.query:
        return request.path_qs
    masked = request.rel_url.update_query({QUERY_PARAMETER: "REDACTED"})
    return masked.path_qs


def _route_template(request: web.Request) -> str:
    resource = request.match_info.route.resource
    return resource.canonical if resource is not None else UNMATCHED_ROUTE


def _start_span(
    seen: Observability, request: web.Request, route: str
) -> tuple[trace.Span, object] | None:
    """Open a SERVER span, continuing the caller's ``traceparent`` header, and make it current
    so that publish spans become its children."""
    if seen.tracer is None:
        return None
    parent = PROPAGATOR.extract(dict(request.headers))
    span = seen.tracer.start_span(
        f"{request.method} {route}",
        context=parent,
        kind=SpanKind.SERVER,
        attributes={"http.request.method": request.method, "http.route": route,
                    "url.path": request.path},
    )  # fmt: skip
    return span, context.attach(trace.set_span_in_context(span))


def _end_span(token: tuple[trace.Span, object], status: int) -> None:
    span, attached = token
    span.set_attribute("http.response.status_code", status)
    if status >= 500:
        span.set_status(Status(StatusCode.ERROR))
    context.detach(attached)  # type: ignore[arg-type]
    span.end()
