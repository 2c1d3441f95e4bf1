"""PrometheusMetrics: the BrokerMetrics port, plus the edges' own series, on one registry."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram
from prometheus_client.registry import CollectorRegistry

from pubsubgo.adapters.prometheus.histograms import BatchHistogram

#: Seconds: from sub-millisecond in-memory hops to a minute-long backlog.
LATENCY_BUCKETS = (
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60,
)  # fmt: skip

_TOPIC = ("topic",)
_SUBSCRIPTION = ("topic", "subscription")


class PrometheusMetrics:
    """Every ``pubsubgo_`` series. Labels are names of topics, subscriptions, routes and error
    codes: never a message or member id, so the number of series stays bounded."""

    def __init__(self, registry: CollectorRegistry) -> None:
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
        self.errors = _counter("errors", "Errors answered to clients.", ("code",), registry)
        self.http_requests = _counter(
            "http_requests", "HTTP requests served.", ("method", "route", "status"), registry
        )
        self.http_duration = Histogram(
            "pubsubgo_http_request_duration_seconds", "Time to answer an HTTP request.",
            ("method", "route"), buckets=LATENCY_BUCKETS, registry=registry,
        )  # fmt: skip

    def published(self, topic: str, count: int, latency_seconds: float) -> None:
        self._published.labels(topic).inc(count)
        self._publish_latency.labels(topic).observe(latency_seconds)

    def delivered(self, topic: str, subscription: str, count: int, redelivered: int) -> None:
        if count:
            self._consumed.labels(topic, subscription).inc(count)
        if redelivered:
            self._redelivered.labels(topic, subscription).inc(redelivered)

    def acked(self, topic: str, subscription: str, ages_seconds: list[float]) -> None:
        if ages_seconds:
            self._acked.labels(topic, subscription).inc(len(ages_seconds))
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


def _counter(
    name: str, documentation: str, labels: tuple[str, ...], registry: CollectorRegistry
) -> Counter:
    # prometheus_client appends ``_total`` to counter names itself.
    return Counter(f"pubsubgo_{name}", documentation, labels, registry=registry)
