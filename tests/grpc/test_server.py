"""The listener around the services: health, reflection, metrics, tracing, shutdown, and
the generated code matching the .proto files."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import grpc
import pytest
from dependency_injector import providers
from grpc import aio
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from pubsubgo.adapters.grpc.generated import broker_pb2
from pubsubgo.adapters.grpc.generated import pubsub_pb2 as pb
from pubsubgo.containers import Container
from pubsubgo.ports.storage import Storage
from tests.conftest import unique
from tests.grpc.conftest import HttpClient, new_subscription, new_topic, refused

if TYPE_CHECKING:
    from pubsubgo.adapters.grpc.generated.broker_pb2_grpc import BrokerAsyncStub
    from pubsubgo.adapters.grpc.generated.pubsub_pb2_grpc import PubSubAsyncStub

REPO = Path(__file__).resolve().parents[2]
TRACE_ID = "0af7651916cd43dd8448eb211c80319c"
TRACEPARENT = f"00-{TRACE_ID}-b7ad6b7169203331-01"


@pytest.fixture
def storage(memory_storage_backend: Storage) -> Storage:
    """The listener is the same whatever the storage: memory only."""
    return memory_storage_backend


class TestStandardServices:
    async def test_health_says_serving_for_the_server_and_each_service(
        self, channel: aio.Channel
    ) -> None:
        health: Any = health_pb2_grpc.HealthStub(channel)  # typed for sync channels only
        for service in ("", "pubsubgo.v1.PubSub", "broker.Broker"):
            answer = await health.Check(health_pb2.HealthCheckRequest(service=service))
            assert answer.status == health_pb2.HealthCheckResponse.SERVING, service

    async def test_reflection_lists_the_services(self, channel: aio.Channel) -> None:
        stub: Any = reflection_pb2_grpc.ServerReflectionStub(channel)  # type: ignore[arg-type]
        ask = reflection_pb2.ServerReflectionRequest(list_services="")
        async for answer in stub.ServerReflectionInfo(iter([ask])):
            names = {s.name for s in answer.list_services_response.service}
            break
        assert {"pubsubgo.v1.PubSub", "broker.Broker", "grpc.health.v1.Health"} <= names


class TestMetrics:
    async def test_calls_are_counted_by_method_and_status_and_refusals_by_code(
        self, pubsub: PubSubAsyncStub, http: HttpClient
    ) -> None:
        await new_topic(pubsub)
        await refused(pubsub.GetTopic(pb.GetTopicRequest(name="missing-topic")))
        exposition = await (await http.get("/metrics")).text()
        assert (
            'pubsubgo_grpc_requests_total{code="OK",method="pubsubgo.v1.PubSub/CreateTopic"} 1.0'
            in exposition
        )
        assert (
            'pubsubgo_grpc_requests_total{code="NOT_FOUND",method="pubsubgo.v1.PubSub/GetTopic"}'
            in exposition
        )
        assert 'pubsubgo_errors_total{code="topic_not_found"} 1.0' in exposition
        assert "pubsubgo_grpc_request_duration_seconds_bucket" in exposition


class TestTracing:
    @pytest.fixture
    def exporter(self) -> InMemorySpanExporter:
        return InMemorySpanExporter()

    @pytest.fixture
    def container(self, container: Container, exporter: InMemorySpanExporter) -> Container:
        provider = TracerProvider()
        provider.add_span_processor(SimpleSpanProcessor(exporter))
        container.tracer_provider.override(providers.Object(provider))
        return container

    async def test_a_call_continues_the_callers_trace_and_parents_the_publish_span(
        self, pubsub: PubSubAsyncStub, exporter: InMemorySpanExporter
    ) -> None:
        topic = await new_topic(pubsub)
        request = pb.PublishRequest(topic=topic, messages=[pb.OutgoingMessage(data=b"x")])
        await pubsub.Publish(request, metadata=(("traceparent", TRACEPARENT),))
        spans = exporter.get_finished_spans()
        [server] = [s for s in spans if s.name == "/pubsubgo.v1.PubSub/Publish"]
        assert server.kind is SpanKind.SERVER
        assert format(server.context.trace_id, "032x") == TRACE_ID
        producers = [s for s in spans if s.kind is SpanKind.PRODUCER]
        assert producers
        assert all(s.parent is not None for s in producers)
        assert {s.parent.span_id for s in producers if s.parent} == {server.context.span_id}


class TestShutdown:
    async def test_open_streams_end_unavailable_when_the_broker_stops(
        self, pubsub: PubSubAsyncStub, go_broker: BrokerAsyncStub, http: HttpClient
    ) -> None:
        # Given an open go-broker subscriber and an open StreamingPull
        subscriber = go_broker.Subscribe(broker_pb2.SubscribeRequest(subject=unique("closing")))
        await subscriber.initial_metadata()
        sub = await new_subscription(pubsub, await new_topic(pubsub))
        stream = pubsub.StreamingPull()
        await stream.write(pb.StreamingPullRequest(subscription=sub))
        first = await stream.read()
        assert isinstance(first, pb.StreamingPullResponse)
        assert first.HasField("membership")
        # When the broker stops
        async with asyncio.timeout(10):
            await http.close()
            # Then both end with UNAVAILABLE, as go-broker's clients expect
            assert await subscriber.code() == grpc.StatusCode.UNAVAILABLE
            assert await stream.code() == grpc.StatusCode.UNAVAILABLE
        # And a new call finds nothing listening
        failure = await refused(pubsub.ListTopics(pb.ListTopicsRequest()))
        assert failure.status == grpc.StatusCode.UNAVAILABLE


def test_the_generated_code_matches_the_proto_files() -> None:
    done = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "generate_protos.py"), "--check"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stdout + done.stderr
