"""GrpcMetrics: the gRPC edge's Prometheus series, on the broker's registry."""

from __future__ import annotations

import grpc
from prometheus_client import Counter, Gauge, Histogram
from prometheus_client.registry import CollectorRegistry

from pubsubgo.adapters.prometheus.metrics import LATENCY_BUCKETS, PrometheusMetrics


class GrpcMetrics:
    """``pubsubgo_grpc_requests_total{method, code}``, the duration of unary calls,
    ``pubsubgo_grpc_active_streams{method}``, and refusals in ``pubsubgo_errors_total``
    beside the HTTP ones. ``method`` is the full name (``pubsubgo.v1.PubSub/Publish``)."""

    def __init__(self, registry: CollectorRegistry, broker_metrics: PrometheusMetrics) -> None:
        self._calls = Counter(
            "pubsubgo_grpc_requests", "gRPC calls answered, by status code.",
            ("method", "code"), registry=registry,
        )  # fmt: skip
        self._duration = Histogram(
            "pubsubgo_grpc_request_duration_seconds", "Time to answer a unary gRPC call.",
            ("method",), buckets=LATENCY_BUCKETS, registry=registry,
        )  # fmt: skip
        self._streams = Gauge(
            "pubsubgo_grpc_active_streams", "Open gRPC streams (StreamingPull, Subscribe).",
            ("method",), registry=registry,
        )  # fmt: skip
        self._errors = broker_metrics.errors

    def served(
        self, method: str, status: grpc.StatusCode, seconds: float, error: str | None
    ) -> None:
        """A unary call was answered with ``status`` (``error``: the broker's code)."""
        self._duration.labels(method).observe(seconds)
        self._ended(method, status, error)

    def stream_opened(self, method: str) -> None:
        """A streaming call started."""
        self._streams.labels(method).inc()

    def stream_closed(self, method: str, status: grpc.StatusCode, error: str | None) -> None:
        """The stream :meth:`stream_opened` counted has ended with ``status``."""
        self._streams.labels(method).dec()
        self._ended(method, status, error)

    def _ended(self, method: str, status: grpc.StatusCode, error: str | None) -> None:
        self._calls.labels(method, status.name).inc()
        if error:
            self._errors.labels(error).inc()
