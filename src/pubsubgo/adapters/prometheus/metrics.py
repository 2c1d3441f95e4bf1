"""PrometheusMetrics: the BrokerMetrics port, plus the edges' own series, on one registry."""

from __future__ import annotations

from typing import Generic, TypeVar

from prometheus_client import Counter, Gauge, Histogram
from prometheus_client.registry import CollectorRegistry

from pubsubgo.adapters.prometheus.histograms import BatchHistogram

#: Seconds: from sub-millisecond in-memory hops to a minute-long backlog.
LATENCY_BUCKETS = (
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60,
)  # fmt: skip

_TOPIC = ("topic",)
_SUBSCRIPTION = ("topic", "subscription")

M = TypeVar("M", Counter, Gauge, Histogram)


class _Children(Generic[M]):
    """A labelled metric's children, kept by their label values.

    ``labels()`` checks every value and takes a lock on each call (about a microsecond);
    the hot paths call it several times a request, a dictionary lookup costs a twentieth
    of that. A child is made on first use, as ``labels()`` makes it, so no series appears
    before something happened.
    """

    __slots__ = ("_children", "_metric")

    def __init__(self, metric: M) -> None:
        self._metric: M = metric
        self._children: dict[tuple[str, ...], M] = {}

    def __call__(self, *values: str) -> M:
        child = self._children.get(values)
        if child is None:
            child = self._children[values] = self._metric.labels(*values)
        return child


class PrometheusMetrics:
    """Every ``pubsubgo_`` series. Labels are names of topics, subscriptions, routes and error
    codes: never a message or member id, so the number of series stays bounded."""

    def __init__(self, registry: CollectorRegistry, websocket_limit: int = 0) -> None:
        self.registry = registry
        self._published = _counter("messages_published", "Messages stored.", _TOPIC, registry)
        self._consumed = _counter(
            "messages_consumed", "Deliveries handed to consumers.", _SUBSCRIPTION, registry
        )
        self._acked = _counter("messages_acked", "Messages acknowledged.", _SUBSCRIPTION, registry)
        self._nacked = _counter(
            "messages_nacked", "Deliveries negatively acknowledged.", _SUBSCRIPTION, registry
        )
        self._redelivered = _counter(
            "messages_redelivered", "Deliveries after the first attempt.", _SUBSCRIPTION, registry
        )
        self._dead_lettered = _counter(
            "messages_dead_lettered", "Messages moved to a dead-letter topic.", _SUBSCRIPTION,
            registry,
        )  # fmt: skip
        self._expired = _counter(
            "messages_expired", "Messages dropped at their TTL.", _SUBSCRIPTION, registry
        )
        self._rebalances = _counter(
            "consumer_group_rebalances", "Group generations started.", ("subscription",), registry
        )
        self._publish_latency = Histogram(
            "pubsubgo_publish_latency_seconds", "Time to validate and store a publish batch.",
            _TOPIC, buckets=LATENCY_BUCKETS, registry=registry,
        )  # fmt: skip
        self._message_latency = BatchHistogram(
            "pubsubgo_message_latency_seconds", "From publish to acknowledgement, per message.",
            _SUBSCRIPTION, LATENCY_BUCKETS, registry,
        )  # fmt: skip
        self.connections = Gauge(
            "pubsubgo_active_connections", "Open client connections.", ("kind",),
            registry=registry,
        )  # fmt: skip
        #: limits.max_websockets, so that an alert can compare the open sockets with it.
        self.websocket_limit = Gauge(
            "pubsubgo_websocket_limit",
            "Open WebSockets allowed per broker process (limits.max_websockets; 0 = no limit).",
            registry=registry,
        )
        self.websocket_limit.set(websocket_limit)
        self.errors = _counter("errors", "Errors answered to clients.", ("code",), registry)
        self.http_requests = _counter(
            "http_requests", "HTTP requests served.", ("method", "route", "status"), registry
        )
        self.http_duration = Histogram(
            "pubsubgo_http_request_duration_seconds", "Time to answer an HTTP request.",
            ("method", "route"), buckets=LATENCY_BUCKETS, registry=registry,
        )  # fmt: skip

        self._by_topic = _Children(self._published)
        self._publish_latency_by_topic = _Children(self._publish_latency)
        self._consumed_by = _Children(self._consumed)
        self._acked_by = _Children(self._acked)
        self._connections_by_kind = _Children(self.connections)
        self._requests_by = _Children(self.http_requests)
        self._duration_by = _Children(self.http_duration)
        self._errors_by_code = _Children(self.errors)

    def published(self, topic: str, count: int, latency_seconds: float) -> None:
        self._by_topic(topic).inc(count)
        self._publish_latency_by_topic(topic).observe(latency_seconds)

    def delivered(self, topic: str, subscription: str, count: int, redelivered: int) -> None:
        if count:
            self._consumed_by(topic, subscription).inc(count)
        if redelivered:
            self._redelivered.labels(topic, subscription).inc(redelivered)

    def acked(self, topic: str, subscription: str, ages_seconds: list[float]) -> None:
        if ages_seconds:
            self._acked_by(topic, subscription).inc(len(ages_seconds))
            self._message_latency.observe_many((topic, subscription), ages_seconds)

    def nacked(self, topic: str, subscription: str, count: int) -> None:
        if count:
            self._nacked.labels(topic, subscription).inc(count)

    def dead_lettered(self, topic: str, subscription: str, count: int) -> None:
        if count:
            self._dead_lettered.labels(topic, subscription).inc(count)

    def expired(self, topic: str, subscription: str, count: int) -> None:
        if count:
            self._expired.labels(topic, subscription).inc(count)

    def rebalanced(self, subscription: str, members: int) -> None:
        self._rebalances.labels(subscription).inc()

    def connection_opened(self, kind: str) -> None:
        """A client connection of ``kind`` (``http`` or ``websocket``) is being served."""
        self._connections_by_kind(kind).inc()

    def request_served(
        self, kind: str, method: str, route: str, status: int, seconds: float, error: str | None
    ) -> None:
        """The request :meth:`connection_opened` counted is answered; ``route`` is its
        template and ``error`` the code of an error answer."""
        self._connections_by_kind(kind).dec()
        self._requests_by(method, route, str(status)).inc()
        self._duration_by(method, route).observe(seconds)
        if error:
            self._errors_by_code(error).inc()


def _counter(
    name: str, documentation: str, labels: tuple[str, ...], registry: CollectorRegistry
) -> Counter:
    # prometheus_client appends ``_total`` to counter names itself.
    return Counter(f"pubsubgo_{name}", documentation, labels, registry=registry)
