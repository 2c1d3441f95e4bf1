"""The groups of settings, one model per section of ``config.yaml`` (``auth`` is in
``auth_config.py``); ``config.py`` puts them together and loads them."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, FilePath, field_validator, model_validator
from pydantic_settings import NoDecode

from pubsubgo.core.limits import MIB
from pubsubgo.core.topics import MAX_PARTITIONS


class _Group(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ServerSettings(_Group):
    """The HTTP and WebSocket listener."""

    host: str = "0.0.0.0"
    port: int = Field(8081, ge=1, le=65535)
    #: Origins allowed by CORS; ``["*"]`` allows any. Env: comma-separated or a JSON list.
    allowed_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)
    #: How long a SIGTERM waits for requests and sockets to finish before cancelling them.
    shutdown_timeout_seconds: float = Field(10.0, gt=0)
    #: WebSocket ping interval; a peer that does not answer in time is disconnected.
    websocket_heartbeat_seconds: float = Field(20.0, gt=0)
    #: Offer permessage-deflate to WebSocket clients that ask for it. Off by default: each
    #: compressing socket keeps a zlib compressor and decompressor (about 100 KiB more per
    #: socket) and spends CPU on every frame; worth it only for large, repetitive frames
    #: over slow links.
    websocket_compression: bool = False
    #: A request not answered within this is refused with 503 ``timeout`` (0 = no limit).
    #: Long polls get their ``wait_seconds`` (at most 30) on top; WebSockets are exempt.
    request_timeout_seconds: float = Field(30.0, ge=0)
    #: Broker processes sharing the port (SO_REUSEPORT), so one host can use more than one
    #: core; above 1 needs the Redis backend. 1 runs the broker in this process.
    workers: int = Field(1, ge=1, le=256)
    #: TLS: the server's certificate (chain) and private key, PEM files; both or neither.
    #: With them the API, WebSocket and gRPC listen with TLS only (https://, wss://).
    tls_cert_file: FilePath | None = None
    tls_key_file: FilePath | None = None

    @model_validator(mode="after")
    def _tls_pair(self) -> ServerSettings:
        if (self.tls_cert_file is None) != (self.tls_key_file is None):
            raise ValueError("tls_cert_file and tls_key_file go together: set both or neither")
        return self

    @property
    def scheme(self) -> str:
        """``https`` with TLS, ``http`` without."""
        return "https" if self.tls_cert_file is not None else "http"

    @field_validator("allowed_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        if isinstance(value, str):
            text = value.strip()
            if text.startswith("["):
                return yaml.safe_load(text)  # a JSON list is valid YAML
            return [part.strip() for part in text.split(",") if part.strip()]
        return value


class TopicSettings(_Group):
    """How topics come to be."""

    #: A publish to a missing topic creates it (with ``default_partitions``), when the
    #: publisher holds ``admin`` on its name. Off by default: a typo in a topic name would
    #: otherwise create a topic nobody reads.
    auto_create: bool = False
    #: Partitions of a topic created by its first publish.
    default_partitions: int = Field(1, ge=1, le=MAX_PARTITIONS)


class GrpcSettings(_Group):
    """The gRPC listener (``pubsubgo.v1`` and go-broker's ``broker.Broker``), beside the
    HTTP one in the same process, on ``server.host``."""

    #: 0 turns gRPC off.
    port: int = Field(50051, ge=0, le=65535)


class StorageSettings(_Group):
    """Which backend keeps the broker's state."""

    backend: Literal["memory", "redis", "postgres", "sqlite"] = "memory"


class RedisSettings(_Group):
    """The Redis backend's server."""

    url: str = "redis://localhost:6379/0"


class PostgresSettings(_Group):
    """The PostgreSQL backend's database (docs/postgres.md)."""

    #: A libpq URL: postgresql://user:password@host:5432/database.
    url: str = "postgresql://postgres@localhost:5432/postgres"
    #: The schema the broker's tables live in (created and upgraded at start).
    schema_name: str = Field("pubsubgo", min_length=1, max_length=63)
    #: Connections per broker process.
    pool_size: int = Field(16, ge=1, le=1000)
    #: Longest a statement may run; a slower one fails with storage_unavailable.
    statement_timeout_seconds: float = Field(5.0, gt=0)
    #: How long the broker keeps trying to reach PostgreSQL at start before giving up.
    start_timeout_seconds: float = Field(30.0, ge=0)


class SqliteSettings(_Group):
    """The SQLite backend's file (docs/sqlite.md)."""

    #: The database; its directory is created if missing. ``--data-dir DIR`` sets it to
    #: ``DIR/pubsubgo.db``.
    path: Path = Path("pubsubgo.db")
    #: ``normal``: a publish answered is safe if the broker crashes, and may be lost if the
    #: machine does; ``full``: each commit is fsynced first, safe from both.
    synchronous: Literal["normal", "full"] = "normal"

    @field_validator("synchronous", mode="before")
    @classmethod
    def _lower(cls, value: object) -> object:
        return value.lower() if isinstance(value, str) else value


class MetricsSettings(_Group):
    """Prometheus metrics."""

    enabled: bool = True
    #: The metrics listener's port; 0 serves ``/metrics`` on the API port only.
    port: int = Field(9092, ge=0, le=65535)
    #: How often backlog, age and membership gauges are read from storage.
    refresh_seconds: float = Field(5.0, gt=0)


class TracingSettings(_Group):
    """OpenTelemetry tracing."""

    enabled: bool = False
    otlp_endpoint: str = "http://localhost:4318/v1/traces"
    service_name: str = "pubsubgo"


class LogSettings(_Group):
    """Logging."""

    level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "INFO"
    format: Literal["text", "json"] = "text"
    #: One line per HTTP request on the ``pubsubgo.access`` logger.
    access: bool = True

    @field_validator("level", mode="before")
    @classmethod
    def _upper(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value


class LimitSettings(_Group):
    """DESIGN §7 limits: sizes, request rate, sockets."""

    max_message_bytes: int = Field(MIB, gt=0)
    max_batch_messages: int = Field(1000, gt=0)
    max_batch_bytes: int = Field(10 * MIB, gt=0)
    #: Larger request bodies are refused with 413 before they are read.
    max_body_bytes: int = Field(16 * MIB, gt=0)
    #: Requests per second per token (per client address when auth is off); 0 = no limit.
    rate_per_second: float = Field(0.0, ge=0)
    #: Requests a client may make at once on top of its rate; 0 = one second's worth.
    rate_burst: int = Field(0, ge=0)
    #: Open WebSockets per broker process; 0 = no limit.
    max_websockets: int = Field(10_000, ge=0)
    #: Subscriptions one WebSocket may hold at a time; 0 = no limit.
    max_subscriptions_per_socket: int = Field(100, ge=0)


class GroupSettingsModel(_Group):
    """Consumer-group timing."""

    heartbeat_interval_seconds: float = Field(3.0, gt=0)
    session_timeout_seconds: float = Field(15.0, gt=0)

    @model_validator(mode="after")
    def _timeout_exceeds_interval(self) -> GroupSettingsModel:
        if self.session_timeout_seconds <= self.heartbeat_interval_seconds:
            raise ValueError("session_timeout_seconds must exceed heartbeat_interval_seconds")
        return self


class BrokerSettings(_Group):
    """Background work."""

    #: How often redelivery, eviction and retention run.
    duty_interval_seconds: float = Field(1.0, gt=0)


class PushSettings(_Group):
    """Delivery to push subscriptions."""

    #: Deliveries posted at the same time per push subscription.
    concurrency: int = Field(16, ge=1, le=1000)
    #: A push endpoint that has not answered after this long counts as a failure (the ack
    #: deadline caps it too).
    timeout_seconds: float = Field(30.0, gt=0)


class ConsoleSettings(_Group):
    """The web console at ``/console``."""

    #: Serve the console's files (they need no token; the API calls they make do).
    enabled: bool = True
