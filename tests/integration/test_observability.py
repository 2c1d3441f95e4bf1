"""Observability through the real app: metrics by route, traces across publish and pull, logs."""

from __future__ import annotations

import asyncio
import json
import logging
import shutil
import subprocess

import pytest
from aiohttp.pytest_plugin import AiohttpClient
from dependency_injector import providers
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind
from prometheus_client.parser import text_string_to_metric_families

from pubsubgo.containers import Container, api_app
from pubsubgo.log import JsonFormatter, TraceContextFilter
from tests.integration.conftest import Client, create_subscription, create_topic, publish, pull


@pytest.fixture
def exporter() -> InMemorySpanExporter:
    return InMemorySpanExporter()


@pytest.fixture
def traced_container(container: Container, exporter: InMemorySpanExporter) -> Container:
    """The production container with tracing on, spans kept in memory instead of OTLP."""
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    container.tracer_provider.override(providers.Object(provider))
    return container


TRACEPARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"


async def scrape(client: Client) -> str:
    response = await client.get("/metrics")
    assert response.status == 200
    assert response.headers["Content-Type"].startswith("text/plain")
    return await response.text()


def value(text: str, name: str, **labels: str) -> float:
    """The value of the sample ``name`` with exactly ``labels`` in a scrape (0 when absent)."""
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and sample.labels == labels:
                return sample.value
    return 0.0


class TestMetricsEndpoint:
    async def test_broker_counters_move_with_traffic(self, client: Client) -> None:
        topic = await create_topic(client)
        subscription = await create_subscription(client, topic)
        await publish(client, topic, "a", "b")
        delivered = await pull(client, subscription)
        await client.post(
            f"/v1/subscriptions/{subscription}/ack",
            json={"ack_ids": [m["ack_id"] for m in delivered]},
        )

        text = await scrape(client)

        labels = {"topic": topic, "subscription": subscription}
        assert value(text, "pubsubgo_messages_published_total", topic=topic) == 2
        assert value(text, "pubsubgo_messages_consumed_total", **labels) == 2
        assert value(text, "pubsubgo_messages_acked_total", **labels) == 2
        assert value(text, "pubsubgo_message_latency_seconds_count", **labels) == 2

    async def test_requests_are_counted_by_route_template_not_raw_path(
        self, client: Client
    ) -> None:
        topic = await create_topic(client)
        await client.get(f"/v1/topics/{topic}")
        await client.get("/v1/topics/no-such-topic")
        await client.get("/no/such/path/at/all")

        text = await scrape(client)

        route = {"method": "GET", "route": "/v1/topics/{topic}"}
        assert value(text, "pubsubgo_http_requests_total", status="200", **route) == 1
        assert value(text, "pubsubgo_http_requests_total", status="404", **route) == 1
        unmatched = {"method": "GET", "route": "unmatched", "status": "404"}
        assert value(text, "pubsubgo_http_requests_total", **unmatched) == 1
        assert "/no/such/path" not in text
        assert value(text, "pubsubgo_errors_total", code="topic_not_found") == 1

    @pytest.mark.promtool
    async def test_the_scrape_passes_promtool(self, client: Client) -> None:
        promtool = shutil.which("promtool")
        assert promtool is not None  # tests/conftest.py skips this test without it
        topic = await create_topic(client)
        await create_subscription(client, topic)
        await publish(client, topic, "x")

        text = await scrape(client)
        checked = await asyncio.to_thread(
            subprocess.run, [promtool, "check", "metrics"], input=text, capture_output=True,
            text=True, check=False,
        )  # fmt: skip

        assert checked.returncode == 0, checked.stdout + checked.stderr

    async def test_metrics_can_be_switched_off(
        self, aiohttp_client: AiohttpClient, container: Container
    ) -> None:
        container.settings().metrics.enabled = False
        client = await aiohttp_client(api_app(container))

        response = await client.get("/metrics")

        assert response.status == 404
        assert (await response.json())["error"]["code"] == "metrics_disabled"


class TestTracing:
    async def test_a_consumer_span_continues_the_publishers_http_trace(
        self,
        aiohttp_client: AiohttpClient,
        traced_container: Container,
        exporter: InMemorySpanExporter,
    ) -> None:
        client = await aiohttp_client(api_app(traced_container))
        topic = await create_topic(client)
        subscription = await create_subscription(client, topic)

        response = await client.post(
            f"/v1/topics/{topic}/messages",
            json={"messages": [{"data": "traced"}]},
            headers={"traceparent": TRACEPARENT},
        )
        assert response.status == 201
        [message] = await pull(client, subscription)

        spans = exporter.get_finished_spans()
        server = [s for s in spans if s.kind is SpanKind.SERVER and "messages" in s.name]
        [producer] = [s for s in spans if s.kind is SpanKind.PRODUCER]
        [consumer] = [s for s in spans if s.kind is SpanKind.CONSUMER]
        trace_id = int(TRACEPARENT.split("-")[1], 16)
        assert server[0].context is not None
        assert server[0].context.trace_id == trace_id
        assert producer.parent is not None
        assert producer.parent.span_id == server[0].context.span_id
        assert consumer.context is not None
        assert consumer.context.trace_id == trace_id
        assert message["attributes"]["traceparent"].split("-")[1] == TRACEPARENT.split("-")[1]


class TestLogs:
    async def test_access_lines_carry_the_route_and_the_trace(
        self,
        aiohttp_client: AiohttpClient,
        traced_container: Container,
        caplog: pytest.LogCaptureFixture,
    ) -> None:
        client = await aiohttp_client(api_app(traced_container))
        caplog.set_level(logging.INFO, logger="pubsubgo.access")
        caplog.handler.addFilter(TraceContextFilter())

        await client.get("/v1/topics", headers={"traceparent": TRACEPARENT})

        [record] = [r for r in caplog.records if r.name == "pubsubgo.access"]
        entry = json.loads(JsonFormatter().format(record))
        assert entry["level"] == "INFO"
        assert entry["route"] == "/v1/topics"
        assert entry["status"] == 200
        assert entry["trace_id"] == TRACEPARENT.split("-")[1]
        assert len(entry["span_id"]) == 16
