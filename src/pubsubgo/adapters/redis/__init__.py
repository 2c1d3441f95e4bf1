"""The Redis backend: every storage port on Redis Streams, single node or cluster.

``redis_storage(build_client(url))`` gives the ports; ``await storage.aclose()`` stops the
backend's tasks before the client is closed (``docs/redis.md`` says more).
"""

from __future__ import annotations

from pubsubgo.adapters.redis.client import build_client
from pubsubgo.adapters.redis.definitions import Definitions
from pubsubgo.adapters.redis.deliveries import RedisDeliveryQueue
from pubsubgo.adapters.redis.groups import RedisGroupStore
from pubsubgo.adapters.redis.health import PING_TIMEOUT_SECONDS, RedisConnection
from pubsubgo.adapters.redis.in_flight import RedisInFlightLedger
from pubsubgo.adapters.redis.message_log import RedisStreamMessageLog
from pubsubgo.adapters.redis.scripts import RedisClient, ScriptRunner
from pubsubgo.adapters.redis.signal import RedisSignal
from pubsubgo.adapters.redis.subscriptions import RedisSubscriptionRegistry
from pubsubgo.adapters.redis.topics import RedisTopicRegistry
from pubsubgo.ports.storage import Storage

__all__ = ["build_client", "redis_storage"]

#: Seconds a process reuses a topic or subscription definition it read (they never change;
#: a deletion elsewhere is seen by every data operation at once, see definitions.py).
DEFINITION_TTL_SECONDS = 1.0


def redis_storage(
    client: RedisClient,
    *,
    definition_ttl: float = DEFINITION_TTL_SECONDS,
    fsync: bool = False,
    ping_timeout: float = PING_TIMEOUT_SECONDS,
) -> Storage:
    """Every storage port on ``client``.

    Args:
        client: from ``connect``/``build_client``; a ``RedisCluster`` selects cluster layout.
        definition_ttl: seconds topic and subscription definitions are cached; 0 disables.
        fsync: answer writes only once Redis has fsynced them (WAITAOF on Redis >= 7.2;
            otherwise the server must run with ``appendfsync always``).
        ping_timeout: how long the health check waits for PING.

    The signal runs background tasks once used: ``await storage.aclose()`` stops them;
    close the client after that.
    """
    runner = ScriptRunner(client, fsync=fsync)
    definitions = Definitions(runner, definition_ttl)
    signal = RedisSignal(client)
    return Storage(
        topics=RedisTopicRegistry(runner, definitions),
        messages=RedisStreamMessageLog(runner, definitions),
        subscriptions=RedisSubscriptionRegistry(runner, definitions),
        deliveries=RedisDeliveryQueue(runner, definitions),
        in_flight=RedisInFlightLedger(runner, definitions),
        groups=RedisGroupStore(runner),
        signal=signal,
        connection=RedisConnection(client, signal, ping_timeout),
    )
