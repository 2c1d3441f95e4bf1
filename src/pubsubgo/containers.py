"""The composition root: the one place that knows every concrete class."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
from dependency_injector import containers, providers

from pubsubgo.adapters.clock import SystemClock
from pubsubgo.adapters.memory import memory_storage
from pubsubgo.adapters.push import PushDispatcher
from pubsubgo.adapters.rates import RateMetrics
from pubsubgo.adapters.runner import BackgroundRunner
from pubsubgo.config import ConfigError, Settings
from pubsubgo.core.groups import GroupSettings
from pubsubgo.core.limits import Limits
from pubsubgo.ports.storage import Storage
from pubsubgo.services.broker import Broker


def backend_missing(backend: str) -> Storage:
    """Stand-in for a storage backend this build does not have yet.

    Raises:
        ConfigError: always, naming the setting to change.
    """
    raise ConfigError(
        f"config error: storage.backend: {backend!r} is not available in this build; use 'memory'"
    )


async def open_http_client() -> AsyncIterator[aiohttp.ClientSession]:
    """The HTTP client that push workers post with; closed on shutdown."""
    async with aiohttp.ClientSession() as session:
        yield session


class Container(containers.DeclarativeContainer):
    """Every component of the broker, built from ``Settings``."""

    config = providers.Configuration(strict=True)
    settings = providers.Dependency(instance_of=Settings)

    clock = providers.Singleton(SystemClock)
    storage = providers.Selector(
        config.storage.backend,
        memory=providers.Singleton(memory_storage),
        # The Redis backend goes here, e.g.
        #   redis=providers.Resource(redis_storage, url=config.redis.url),
        # (an async-generator Resource: connect, yield the Storage, then aclose()).
        redis=providers.Callable(backend_missing, "redis"),
    )
    rates = providers.Singleton(RateMetrics)
    limits = providers.Singleton(
        Limits,
        max_message_bytes=config.limits.max_message_bytes,
        max_batch_messages=config.limits.max_batch_messages,
        max_batch_bytes=config.limits.max_batch_bytes,
    )
    group_settings = providers.Singleton(
        GroupSettings,
        heartbeat_interval_seconds=config.groups.heartbeat_interval_seconds,
        session_timeout_seconds=config.groups.session_timeout_seconds,
    )
    broker = providers.Singleton(
        Broker.build,
        storage=storage,
        clock=clock,
        metrics=rates,
        limits=limits,
        group_settings=group_settings,
    )
    http_client = providers.Resource(open_http_client)
    push = providers.Singleton(
        PushDispatcher,
        broker=broker,
        client=http_client,
        concurrency=config.push.concurrency,
        timeout_seconds=config.push.timeout_seconds,
    )
    runner = providers.Singleton(
        BackgroundRunner,
        broker=broker,
        interval_seconds=config.broker.duty_interval_seconds,
        push=push,
    )


def build_container(settings: Settings) -> Container:
    """A container configured from ``settings``."""
    container = Container(settings=settings)
    container.config.from_pydantic(settings)
    return container
