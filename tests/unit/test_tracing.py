"""Tracing: a consumer's span continues the trace its publisher started."""

from __future__ import annotations

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from pubsubgo.adapters.memory import memory_storage
from pubsubgo.adapters.telemetry import PROPAGATOR, OpenTelemetryTracer
from pubsubgo.containers import build_broker
from pubsubgo.core.errors import InvalidMessage
from pubsubgo.core.messages import PublishRequest
from pubsubgo.core.subscriptions import StartPosition, Subscription
from pubsubgo.core.topics import Topic
from pubsubgo.runtime.clock import ManualClock
from pubsubgo.services.broker import Broker


@pytest.fixture
def exporter() -> InMemorySpanExporter:
    return InMemorySpanExporter()


@pytest.fixture
def provider(exporter: InMemorySpanExporter) -> TracerProvider:
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return provider


@pytest.fixture
async def broker(provider: TracerProvider, clock: ManualClock) -> Broker:
    broker = build_broker(memory_storage(), clock, tracer=OpenTelemetryTracer(provider))
    await broker.topics.create(Topic("orders"))
    await broker.subscriptions.create(
        Subscription("billing", "orders", start=StartPosition.EARLIEST)
    )
    return broker


def spans_of(exporter: InMemorySpanExporter, kind: SpanKind) -> list[ReadableSpan]:
    return [s for s in exporter.get_finished_spans() if s.kind is kind]


class TestTracePropagation:
    async def test_the_consumer_span_is_a_child_of_the_producer_span(
        self, broker: Broker, exporter: InMemorySpanExporter
    ) -> None:
        await broker.publisher.publish("orders", [PublishRequest(data=b"x")])
        [delivery] = await broker.subscriber.pull("billing", 1)

        [producer] = spans_of(exporter, SpanKind.PRODUCER)
        [consumer] = spans_of(exporter, SpanKind.CONSUMER)
        assert producer.name == "orders publish"
        assert consumer.context is not None
        assert producer.context is not None
        assert consumer.context.trace_id == producer.context.trace_id
        assert consumer.parent is not None
        assert consumer.parent.span_id == producer.context.span_id
        assert "traceparent" in delivery.message.attributes

    async def test_a_publish_inside_a_request_span_joins_that_trace(
        self, broker: Broker, exporter: InMemorySpanExporter, provider: TracerProvider
    ) -> None:
        # Given a request span, as the HTTP layer opens for a request with a traceparent header
        incoming = {"traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"}
        with provider.get_tracer("test").start_as_current_span(
            "POST /v1/topics/{topic}/messages", context=PROPAGATOR.extract(incoming)
        ):
            await broker.publisher.publish("orders", [PublishRequest(data=b"x")])
        await broker.subscriber.pull("billing", 1)

        [consumer] = spans_of(exporter, SpanKind.CONSUMER)
        assert consumer.context is not None
        assert f"{consumer.context.trace_id:032x}" == "0af7651916cd43dd8448eb211c80319c"

    async def test_a_message_that_carries_its_own_trace_context_continues_it(
        self, broker: Broker, exporter: InMemorySpanExporter
    ) -> None:
        parent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
        request = PublishRequest(data=b"x", attributes={"traceparent": parent})

        await broker.publisher.publish("orders", [request])

        [producer] = spans_of(exporter, SpanKind.PRODUCER)
        assert producer.context is not None
        assert producer.parent is not None
        assert f"{producer.context.trace_id:032x}" == "4bf92f3577b34da6a3ce929d0e0e4736"
        assert f"{producer.parent.span_id:016x}" == "00f067aa0ba902b7"

    async def test_trace_context_does_not_count_against_the_attribute_limit(
        self, broker: Broker
    ) -> None:
        attributes = {f"k{i}": "v" for i in range(64)}

        ids = await broker.publisher.publish(
            "orders", [PublishRequest(b"x", attributes=attributes)]
        )

        [delivery] = await broker.subscriber.pull("billing", 1)
        assert len(ids) == 1
        assert len(delivery.message.attributes) == 65

    async def test_a_refused_publish_marks_its_spans_as_errors(
        self, broker: Broker, exporter: InMemorySpanExporter
    ) -> None:
        with pytest.raises(InvalidMessage):
            await broker.publisher.publish("orders", [PublishRequest(b"x", ttl_seconds=-1)])

        [producer] = spans_of(exporter, SpanKind.PRODUCER)
        assert producer.status.status_code is trace.StatusCode.ERROR
