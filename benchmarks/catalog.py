"""Every row the report can hold, with its group, how it is driven and pubsubgo's targets."""

from __future__ import annotations

from benchmarks.context import Settings, row_key
from benchmarks.results import P50, P99, RATE, Row, Target

PUBLISH = "publish"
CONSUME = "consume + ack"
LATENCY = "end-to-end latency"
ENGINE = "in-process engine"

#: issue 9's targets, through the broker on Redis (AOF everysec), one broker process.
PUBLISH_TARGET = (Target(RATE, 100_000, at_least=True),)
CONSUME_TARGET = (Target(RATE, 60_000, at_least=True),)
LATENCY_TARGET = (Target(P50, 1.0, at_least=False), Target(P99, 3.0, at_least=False))
ENGINE_TARGET = (Target(RATE, 300_000, at_least=True),)
#: The rows measured on each backend of ``--backends``, and the backend their targets are
#: stated for (another backend's rows show no target).
PER_BACKEND = {
    "rest-publish": "redis",
    "ws-publish": "redis",
    "ws-consume": "redis",
    "pull-consume": "redis",
    "latency": "redis",
    "latency-ws": "redis",
    "engine": "memory",
}


def rows(s: Settings) -> dict[str, Row]:
    """The rows of a run with settings ``s``, by key, in report order."""
    kib = f"{s.size / 1024:g} KiB" if s.size % 1024 == 0 else f"{s.size} B"
    batch = f"{s.batch} × {kib}"
    rate = f"{s.latency_rate:,.0f} msg/s"
    catalog = [
        ("rest-publish", PUBLISH, "pubsubgo", f"REST, {batch} per request", PUBLISH_TARGET),
        ("ws-publish", PUBLISH, "pubsubgo", f"WebSocket, {batch} per frame", PUBLISH_TARGET),
        ("grpc-publish", PUBLISH, "pubsubgo", f"gRPC Publish, {batch} per call", PUBLISH_TARGET),
        ("grpc-publish-single", PUBLISH, "pubsubgo", f"gRPC Publish, 1 × {kib} per call", ()),
        ("redis-py:publish", PUBLISH, "redis-py", f"pipelined XADD, {batch} per pipeline", ()),
        ("nats:publish", PUBLISH, "NATS", f"JetStream publish_async, {kib}", ()),
        ("rabbitmq:publish", PUBLISH, "RabbitMQ", f"persistent + confirms, {batch} at once", ()),
        (
            "ws-consume",
            CONSUME,
            "pubsubgo",
            f"WebSocket push, batch frames, acks of {s.ack_batch}",
            CONSUME_TARGET,
        ),
        ("pull-consume", CONSUME, "pubsubgo", f"REST pull {s.pull_batch} + ack", CONSUME_TARGET),
        (
            "grpc-consume",
            CONSUME,
            "pubsubgo",
            f"gRPC StreamingPull, acks of {s.ack_batch} on the stream",
            CONSUME_TARGET,
        ),
        ("redis-py:consume", CONSUME, "redis-py", f"XREADGROUP {s.pull_batch} + XACK", ()),
        ("nats:consume", CONSUME, "NATS", f"JetStream fetch {s.pull_batch} + ack", ()),
        ("rabbitmq:consume", CONSUME, "RabbitMQ", f"prefetch, ack multiple per {s.ack_batch}", ()),
        ("latency", LATENCY, "pubsubgo", f"REST publish -> WebSocket push, {rate}", LATENCY_TARGET),
        ("latency-ws", LATENCY, "pubsubgo", f"WebSocket publish -> push, {rate}", LATENCY_TARGET),
        (
            "latency-grpc",
            LATENCY,
            "pubsubgo",
            f"gRPC Publish -> StreamingPull, {rate}",
            LATENCY_TARGET,
        ),
        ("redis-py:latency", LATENCY, "redis-py", f"XADD -> XREADGROUP BLOCK, {rate}", ()),
        ("nats:latency", LATENCY, "NATS", f"publish_async -> push consumer, {rate}", ()),
        ("rabbitmq:latency", LATENCY, "RabbitMQ", f"confirmed publish -> consume, {rate}", ()),
        ("engine", ENGINE, "pubsubgo", f"publish -> pull -> ack, {batch}", ENGINE_TARGET),
    ]
    found: dict[str, Row] = {}
    for key, group, system, label, targets in catalog:
        if key in PER_BACKEND:
            found |= _per_backend(s, key, Row(group, system, label, targets))
        else:
            found[key] = Row(group, system, label, targets)
    return found


def _per_backend(s: Settings, key: str, row: Row) -> dict[str, Row]:
    """``row`` once per backend it runs on: the first backend's is pubsubgo's (with the
    targets, when stated for that backend), the others ``pubsubgo/<backend>``."""
    backends = s.engine_backends if key == "engine" else s.backends
    found: dict[str, Row] = {}
    for backend in backends:
        primary = backend == backends[0]
        named = "pubsubgo" if primary else f"pubsubgo/{backend}"
        kept = row.targets if primary and backend == PER_BACKEND[key] else ()
        label = _on(row.label, backend, key, s)
        found[row_key(key, backend, backends[0])] = Row(row.group, named, label, kept, key)
    return found


def _on(label: str, backend: str, key: str, s: Settings) -> str:
    """The label of a per-backend row: it names its backend unless Redis is the only one."""
    if key == "engine":
        return f"{backend} backend {label}"
    return label if s.backends == ("redis",) else f"{backend}: {label}"
