"""The OTLP/HTTP exporter delivers the broker's spans to a collector."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from aiohttp import web
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from pubsubgo.adapters.memory import memory_storage
from pubsubgo.adapters.telemetry import OpenTelemetryTracer, otlp_exporter, tracer_provider
from pubsubgo.containers import build_broker
from pubsubgo.core.messages import PublishRequest
from pubsubgo.core.topics import Topic
from pubsubgo.runtime.clock import ManualClock


@pytest.fixture
async def collector() -> AsyncIterator[tuple[str, list[ExportTraceServiceRequest]]]:
    """A local OTLP/HTTP receiver: records every export it is sent."""
    received: list[ExportTraceServiceRequest] = []

    async def traces(request: web.Request) -> web.Response:
        received.append(ExportTraceServiceRequest.FromString(await request.read()))
        return web.Response(content_type="application/x-protobuf", body=b"")

    app = web.Application()
    app.router.add_post("/v1/traces", traces)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    yield f"http://127.0.0.1:{port}/v1/traces", received
    await runner.cleanup()


async def test_published_spans_reach_the_collector(
    collector: tuple[str, list[ExportTraceServiceRequest]], clock: ManualClock
) -> None:
    endpoint, received = collector
    provider = tracer_provider("pubsubgo-test", otlp_exporter(endpoint))
    broker = build_broker(memory_storage(), clock, tracer=OpenTelemetryTracer(provider))
    await broker.topics.create(Topic("orders"))

    await broker.publisher.publish("orders", [PublishRequest(data=b"x")])
    # The exporter posts from its own thread; flush there while this loop keeps serving.
    flushed = await asyncio.to_thread(provider.force_flush, 5000)
    await asyncio.to_thread(provider.shutdown)

    names = [
        span.name
        for export in received
        for resource in export.resource_spans
        for scope in resource.scope_spans
        for span in scope.spans
    ]
    assert flushed
    assert names == ["orders publish"]
    resource = {
        a.key: a.value.string_value for a in received[0].resource_spans[0].resource.attributes
    }
    assert resource["service.name"] == "pubsubgo-test"
