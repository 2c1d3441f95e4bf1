"""translate_redis_errors(): Redis failures become ``BackendUnavailable`` at the boundary."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from redis.exceptions import RedisClusterException, RedisError

from pubsubgo.core.errors import BackendUnavailable


@contextmanager
def translate_redis_errors(operation: str) -> Iterator[None]:
    """Turn any Redis failure raised inside the block into ``BackendUnavailable``, chained.

    Connection, timeout, loading, read-only and cluster errors all mean the same thing to a
    client: storage did not do it, try again later (HTTP 503). ``TimeoutError`` covers the
    bounds the adapter puts on calls itself (``asyncio.timeout``).

    Args:
        operation: what was being done, for the message (``"publish"``, ``"ping"``...).

    Raises:
        BackendUnavailable: Redis failed or did not answer in time.
    """
    try:
        yield
    except (RedisError, RedisClusterException) as exc:
        raise BackendUnavailable(f"redis {operation} failed: {exc}") from exc
    except TimeoutError as exc:
        raise BackendUnavailable(f"redis {operation} timed out") from exc
