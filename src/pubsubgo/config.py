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
from typing import Any

import yaml
from pydantic import Field, ValidationError
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    SettingsError,
)

from pubsubgo.auth_config import AuthSettings
from pubsubgo.config_groups import (
    BrokerSettings,
    ConsoleSettings,
    GroupSettingsModel,
    GrpcSettings,
    LimitSettings,
    LogSettings,
    MetricsSettings,
    PostgresSettings,
    PushSettings,
    RedisSettings,
    ServerSettings,
    SqliteSettings,
    StorageSettings,
    TopicSettings,
    TracingSettings,
)

__all__ = [
    "BrokerSettings",
    "ConfigError",
    "ConsoleSettings",
    "DEFAULT_CONFIG_FILE",
    "ENV_PREFIX",
    "GroupSettingsModel",
    "GrpcSettings",
    "LimitSettings",
    "LogSettings",
    "MetricsSettings",
    "PostgresSettings",
    "PushSettings",
    "RedisSettings",
    "ServerSettings",
    "Settings",
    "SqliteSettings",
    "StorageSettings",
    "TopicSettings",
    "TracingSettings",
    "load_settings",
]

#: The file read when neither ``--config`` nor ``PUBSUB_CONFIG`` names one (if it exists).
DEFAULT_CONFIG_FILE = Path("config.yaml")
#: Every environment variable of the broker starts with this.
ENV_PREFIX = "PUBSUB_"


class ConfigError(Exception):
    """Raised when the configuration cannot be loaded; ``str()`` is one line for the operator."""


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
    grpc: GrpcSettings = Field(default_factory=GrpcSettings)
    storage: StorageSettings = Field(default_factory=StorageSettings)
    redis: RedisSettings = Field(default_factory=RedisSettings)
    postgres: PostgresSettings = Field(default_factory=PostgresSettings)
    sqlite: SqliteSettings = Field(default_factory=SqliteSettings)
    metrics: MetricsSettings = Field(default_factory=MetricsSettings)
    tracing: TracingSettings = Field(default_factory=TracingSettings)
    log: LogSettings = Field(default_factory=LogSettings)
    limits: LimitSettings = Field(default_factory=LimitSettings)
    groups: GroupSettingsModel = Field(default_factory=GroupSettingsModel)
    broker: BrokerSettings = Field(default_factory=BrokerSettings)
    push: PushSettings = Field(default_factory=PushSettings)
    topics: TopicSettings = Field(default_factory=TopicSettings)
    auth: AuthSettings = Field(default_factory=AuthSettings)
    console: ConsoleSettings = Field(default_factory=ConsoleSettings)

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
        return _metrics_port_problem(settings)
    backend = settings.storage.backend
    if backend in ("memory", "sqlite"):
        return "server.workers", (
            f"{workers} workers need storage.backend redis or postgres: {backend} storage lives"
            " in one process"
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


def _metrics_port_problem(settings: Settings) -> tuple[str, str] | None:
    """One broker process: its metrics listener cannot share the API port."""
    metrics = settings.metrics
    if metrics.enabled and metrics.port == settings.server.port:
        return "metrics.port", (
            f"{metrics.port} is also server.port: choose another port, or 0 to serve"
            " /metrics on the API port only"
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
