"""OpenTelemetry tracing: the tracer provider, and the MessageTracer port over it.

A PRODUCER span is opened per published message and its W3C trace context is stored in the
message's attributes (``traceparent``); each delivery records a CONSUMER span whose parent is
that context, so one trace shows the publisher's request, the publish and every delivery.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter
from opentelemetry.trace import Span, SpanKind, Status, StatusCode
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from pubsubgo.core.messages import Delivery, PublishRequest

#: W3C Trace Context only: the attribute names are part of the message format.
PROPAGATOR = TraceContextTextMapPropagator()
#: The attributes trace context occupies in a message.
TRACE_ATTRIBUTES = frozenset({"traceparent", "tracestate"})


def tracer_provider(service_name: str, exporter: SpanExporter) -> TracerProvider:
    """A provider that batches spans to ``exporter``, owned by the caller (never global)."""
    provider = TracerProvider(resource=Resource.create({"service.name": service_name}))
    provider.add_span_processor(BatchSpanProcessor(exporter))
    return provider


def otlp_exporter(endpoint: str) -> SpanExporter:
    """OTLP over HTTP (protobuf) to ``endpoint``, e.g. ``http://otel-collector:4318/v1/traces``."""
    return OTLPSpanExporter(endpoint=endpoint, timeout=5)


def trace_context(attributes: dict[str, str] | None = None) -> Context | None:
    """The trace context stored in message attributes, or None when there is none."""
    if not attributes or "traceparent" not in attributes:
        return None
    return PROPAGATOR.extract(attributes)


class OpenTelemetryTracer:
    """MessageTracer over an OpenTelemetry tracer provider."""

    def __init__(self, provider: trace.TracerProvider) -> None:
        self._tracer = provider.get_tracer("pubsubgo")

    def publishing(
        self, topic: str, requests: Sequence[PublishRequest]
    ) -> AbstractContextManager[Sequence[PublishRequest]]:
        return self._publishing(topic, requests)

    @contextmanager
    def _publishing(
        self, topic: str, requests: Sequence[PublishRequest]
    ) -> Iterator[Sequence[PublishRequest]]:
        spans = [self._producer_span(topic, r) for r in requests]
        try:
            yield [_with_context(r, span) for r, span in zip(requests, spans, strict=True)]
        except Exception as error:
            for span in spans:
                span.record_exception(error)
                span.set_status(Status(StatusCode.ERROR, str(error)))
            raise
        finally:
            for span in spans:
                span.end()

    def delivered(self, deliveries: Sequence[Delivery]) -> None:
        for delivery in deliveries:
            message = delivery.message
            span = self._tracer.start_span(
                f"{message.topic} receive",
                context=trace_context(dict(message.attributes)),
                kind=SpanKind.CONSUMER,
                attributes={
                    "messaging.system": "pubsubgo",
                    "messaging.operation.type": "receive",
                    "messaging.destination.name": message.topic,
                    "messaging.destination.subscription.name": delivery.subscription,
                    "messaging.message.id": message.id,
                    "messaging.pubsubgo.delivery_attempt": delivery.delivery_attempt,
                },
            )
            span.end()

    def _producer_span(self, topic: str, request: PublishRequest) -> Span:
        # A message that already carries a trace context (a client propagated it) continues
        # that trace; otherwise the span is a child of the current one (the HTTP request).
        return self._tracer.start_span(
            f"{topic} publish",
            context=trace_context(dict(request.attributes)),
            kind=SpanKind.PRODUCER,
            attributes={
                "messaging.system": "pubsubgo",
                "messaging.operation.type": "publish",
                "messaging.destination.name": topic,
                "messaging.message.body.size": len(request.data),
            },
        )


def _with_context(request: PublishRequest, span: Span) -> PublishRequest:
    carrier = dict(request.attributes)
    for name in TRACE_ATTRIBUTES:
        carrier.pop(name, None)
    PROPAGATOR.inject(carrier, context=trace.set_span_in_context(span))
    return request._replace(attributes=carrier)
