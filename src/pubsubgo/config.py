"""Settings: ``config.yaml`` overridden by ``PUBSUB_*`` environment variables.

The environment names are those of DESIGN §6: ``PUBSUB_<GROUP>_<FIELD>``, e.g.
``PUBSUB_SERVER_PORT`` or ``PUBSUB_TRACING_OTLP_ENDPOINT``. pydantic-settings splits a name
once after the group (``env_nested_delimiter="_"`` with ``env_nested_max_split=1``), so
fields may themselves contain underscores. Later sources win: defaults, then the YAML file,
then the environment, then command-line options.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    SettingsError,
)

from pubsubgo.auth_config import AuthSettings
from pubsubgo.core.limits import MIB

#: The file read when neither ``--config`` nor ``PUBSUB_CONFIG`` names one (if it exists).
DEFAULT_CONFIG_FILE = Path("config.yaml")
#: Every environment variable of the broker starts with this.
ENV_PREFIX = "PUBSUB_"


class ConfigError(Exception):
    """Raised when the configuration cannot be loaded; ``str()`` is one line for the operator."""


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
    #: A request not answered within this is refused with 503 ``timeout`` (0 = no limit).
    #: Long polls get their ``wait_seconds`` (at most 30) on top; WebSockets are exempt.
    request_timeout_seconds: float = Field(30.0, ge=0)
    #: Broker processes sharing the port (SO_REUSEPORT), so one host can use more than one
    #: core; above 1 needs the Redis backend. 1 runs the broker in this process.
    workers: int = Field(1, ge=1, le=256)

    @field_validator("allowed_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        if isinstance(value, str):
            text = value.strip()
            if text.startswith("["):
                return yaml.safe_load(text)  # a JSON list is valid YAML
            return [part.strip() for part in text.split(",") if part.strip()]
        return value


class StorageSettings(_Group):
    """Which backend keeps the broker's state."""

    backend: Literal["memory", "redis"] = "memory"


class RedisSettings(_Group):
    """The Redis backend's server."""

    url: str = "redis://localhost:6379/0"


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


#: ``pubsub-cli``'s own variables (DESIGN §9), which share the ``PUBSUB_`` prefix: a shell
#: that exports them for the CLI must still be able to start the server.
CLIENT_VARIABLES = frozenset({"pubsub_server", "pubsub_token"})


class _ServerEnvironment(EnvSettingsSource):
    """The ``PUBSUB_`` environment without the CLI's variables."""

    def _load_env_vars(self) -> Mapping[str, str | None]:
        variables = super()._load_env_vars()
        return {k: v for k, v in variables.items() if k.lower() not in CLIENT_VARIABLES}


class Settings(BaseSettings):
    """Every setting of the broker, by group."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_nested_delimiter="_",
        env_nested_max_split=1,
        extra="forbid",
    )

    server: ServerSettings = Field(default_factory=ServerSettings)
    storage: StorageSettings = Field(default_factory=StorageSettings)
    redis: RedisSettings = Field(default_factory=RedisSettings)
    metrics: MetricsSettings = Field(default_factory=MetricsSettings)
    tracing: TracingSettings = Field(default_factory=TracingSettings)
    log: LogSettings = Field(default_factory=LogSettings)
    limits: LimitSettings = Field(default_factory=LimitSettings)
    groups: GroupSettingsModel = Field(default_factory=GroupSettingsModel)
    broker: BrokerSettings = Field(default_factory=BrokerSettings)
    push: PushSettings = Field(default_factory=PushSettings)
    auth: AuthSettings = Field(default_factory=AuthSettings)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (
            init_settings,
            _ServerEnvironment(settings_cls),
            dotenv_settings,
            file_secret_settings,
        )


def load_settings(
    config_file: Path | None = None, overrides: Mapping[str, Any] | None = None
) -> Settings:
    """Read the YAML file, apply the environment and then ``overrides`` (command line).

    Args:
        config_file: the YAML file; None reads ``config.yaml`` when it exists.
        overrides: nested values that win over everything, e.g. ``{"server": {"port": 1}}``.

    Raises:
        ConfigError: the file is missing or malformed, or a value is invalid; the message is
            one line naming the key and where its value came from.
    """
    path = config_file or (DEFAULT_CONFIG_FILE if DEFAULT_CONFIG_FILE.exists() else None)
    from_file = _read_yaml(path) if path else {}
    try:
        from_env = _ServerEnvironment(Settings)()
    except SettingsError as error:
        raise ConfigError(_describe_unparsable(error)) from None
    from_cli = dict(overrides or {})
    try:
        settings = Settings.model_validate(_merge(_merge(from_file, from_env), from_cli))
    except ValidationError as error:
        raise ConfigError(_describe(error, from_cli, from_env, path)) from None
    problem = _workers_problem(settings)
    if problem is not None:
        key, message = problem
        loc = key.split(".")
        raise ConfigError(
            f"config error: {key}: {message} ({_source(loc, from_cli, from_env, path)})"
        )
    return settings


def _workers_problem(settings: Settings) -> tuple[str, str] | None:
    """The key and reason of a setting that cannot work with ``server.workers`` processes."""
    workers = settings.server.workers
    if workers == 1:
        return None
    if settings.storage.backend != "redis":
        return "server.workers", (
            f"{workers} workers need storage.backend redis: memory storage lives in one process"
        )
    metrics = settings.metrics
    if not (metrics.enabled and metrics.port):
        return None
    # Worker i serves metrics on metrics.port + i (docs/deploy.md): those ports must exist and
    # must not include the API port, or a worker would fail to start.
    last = metrics.port + workers - 1
    if last > 65535:
        return "metrics.port", f"{workers} workers need ports up to {last}, above 65535"
    if metrics.port <= settings.server.port <= last:
        return "metrics.port", (
            f"{workers} workers serve metrics on ports {metrics.port}-{last},"
            f" which include server.port {settings.server.port}"
        )
    return None


def _describe_unparsable(error: SettingsError) -> str:
    """One line for a ``PUBSUB_<GROUP>`` variable that is not the JSON object it must be."""
    found = re.search(r'field "(\w+)"', str(error))
    group = found.group(1) if found else "settings"
    return (
        f"config error: {group}: {ENV_PREFIX}{group.upper()} must be a JSON object of the"
        f" {group!r} settings (or set its fields one by one, e.g. {ENV_PREFIX}{group.upper()}_...)"
    )


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        loaded = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"config error: config file {str(path)!r} not found") from None
    except (OSError, yaml.YAMLError) as error:
        reason = " ".join(str(error).split())
        raise ConfigError(f"config error: {path}: {reason}") from None
    if loaded is None:
        return {}
    if not isinstance(loaded, dict):
        raise ConfigError(f"config error: {path}: the top level must be a mapping of groups")
    return loaded


def _merge(base: Mapping[str, Any], top: Mapping[str, Any]) -> dict[str, Any]:
    """``base`` with ``top`` laid over it, nested mappings merged key by key."""
    merged = dict(base)
    for key, value in top.items():
        below = merged.get(key)
        if isinstance(value, Mapping) and isinstance(below, Mapping):
            merged[key] = _merge(below, value)
        else:
            merged[key] = value
    return merged


def _describe(
    error: ValidationError,
    from_cli: Mapping[str, Any],
    from_env: Mapping[str, Any],
    path: Path | None,
) -> str:
    """One line for the first problem, naming where its value came from."""
    problems = error.errors()
    loc = [str(part) for part in problems[0]["loc"]]
    key = ".".join(loc) or "settings"
    more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
    source = _source(loc, from_cli, from_env, path)
    return f"config error: {key}: {problems[0]['msg']} ({source}){more}"


def _source(
    loc: list[str], from_cli: Mapping[str, Any], from_env: Mapping[str, Any], path: Path | None
) -> str:
    """Where the value at ``loc`` came from, for the operator."""
    if _holds(from_cli, loc):
        return "from the command line"
    if depth := _holds(from_env, loc):
        # The environment names a group's field in one variable: PUBSUB_<GROUP>_<FIELD>.
        return f"from {ENV_PREFIX}{'_'.join(loc[:depth]).upper()}"
    return f"from {path}" if path else "from the defaults"


def _holds(tree: Mapping[str, Any], loc: list[str]) -> int:
    """How deep ``loc`` reaches into ``tree`` (up to group and field); 0 when it does not."""
    node: Any = tree
    for depth, part in enumerate(loc[:2], start=1):
        if not isinstance(node, Mapping) or part not in node:
            return 0
        node = node[part]
        if depth == 2 or not isinstance(node, Mapping):
            return depth
    return len(loc[:2])
