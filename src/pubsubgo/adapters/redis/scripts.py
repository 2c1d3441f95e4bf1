"""The Lua scripts: registered once per client, run alone or pipelined, durable on demand."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from importlib import resources
from typing import Any

from redis.asyncio import Redis
from redis.asyncio.cluster import RedisCluster
from redis.commands.core import AsyncScript
from redis.exceptions import NoScriptError, RedisError

from pubsubgo.core.errors import BackendUnavailable

logger = logging.getLogger(__name__)

#: One file per script in ``lua/``; each is registered with ``common.lua`` in front.
SCRIPT_NAMES = (
    "append",
    "browse",
    "claim",
    "definition",
    "extend",
    "fetch",
    "group_save",
    "overdue",
    "position",
    "redeliver",
    "release",
    "remove",
    "settle",
    "sub_create",
    "sub_delete",
    "sub_stats",
    "topic_init",
    "topic_update",
    "trim",
)
#: Scripts that change nothing: never worth waiting for an fsync.
READ_ONLY = frozenset({"browse", "definition", "fetch", "overdue", "sub_stats"})
#: WAITAOF (wait until the local AOF is fsynced) exists from Redis 7.2 on.
WAITAOF_SINCE = (7, 2)
#: How long a write waits for its fsync before the call fails, in milliseconds.
WAITAOF_TIMEOUT_MS = 2000

RedisClient = Redis | RedisCluster
#: The keys and the arguments of one script call.
Call = tuple[Sequence[str], Sequence[str | bytes | int | float]]


def lua_file(name: str) -> str:
    """The text of ``lua/<name>.lua``."""
    folder = resources.files("pubsubgo.adapters.redis") / "lua"
    return (folder / f"{name}.lua").read_text(encoding="utf-8")


def script_source(name: str) -> str:
    """The text of script ``name`` as registered: the common helpers, then the script."""
    return lua_file("common") + "\n" + lua_file(name)


def parse_version(text: str) -> tuple[int, ...]:
    """``"7.0.15"`` -> ``(7, 0, 15)``; parts that are not numbers count as 0."""
    return tuple(int(part) if part.isdigit() else 0 for part in text.split("."))


class ScriptRunner:
    """Runs the backend's scripts on one client.

    A call list with one call runs that script directly; several (one per slot group of a
    spread topic in a cluster) go out in one pipeline, which a cluster client splits per
    node and sends in parallel: one round trip either way. Scripts are loaded lazily with
    SCRIPT LOAD (to every primary in a cluster) and loaded again when a restarted server
    answers NOSCRIPT.

    Args:
        client: a ``redis.asyncio`` client, single node or cluster.
        fsync: make every write wait until Redis has fsynced it to its AOF: ``WAITAOF``
            on Redis >= 7.2 (single node); older servers and clusters must be configured
            with ``appendonly yes`` and ``appendfsync always``, checked once with a warning.
    """

    def __init__(self, client: RedisClient, *, fsync: bool = False) -> None:
        self.client = client
        self.cluster = isinstance(client, RedisCluster)
        self._scripts = {name: client.register_script(script_source(name)) for name in SCRIPT_NAMES}
        self._fsync = fsync
        self._waitaof: bool | None = None

    async def run(self, name: str, calls: Sequence[Call]) -> list[Any]:
        """Run script ``name`` once per call; the replies in the order of ``calls``."""
        if not calls:
            return []
        script = self._scripts[name]
        durable = self._fsync and name not in READ_ONLY and await self._uses_waitaof()
        if len(calls) == 1 and not durable:
            keys, args = calls[0]
            return [await script(keys=keys, args=args)]
        results = await self._pipelined(script, calls, durable)
        missing = [i for i, result in enumerate(results) if isinstance(result, NoScriptError)]
        if missing:
            await self.client.script_load(script.script)
            retried = await self._pipelined(script, [calls[i] for i in missing], durable)
            for index, result in zip(missing, retried, strict=True):
                results[index] = result
        for result in results:
            if isinstance(result, Exception):
                raise result
        return results

    async def _pipelined(
        self, script: AsyncScript, calls: Sequence[Call], durable: bool
    ) -> list[Any]:
        pipe = self.client.pipeline(transaction=False)
        for keys, args in calls:
            # Through execute_command: a cluster pipeline blocks its evalsha method, but routes
            # EVALSHA by its first key when given as a plain command.
            pipe.execute_command("EVALSHA", script.sha, len(keys), *keys, *args)
        if durable:
            pipe.execute_command("WAITAOF", 1, 0, WAITAOF_TIMEOUT_MS)
        results: list[Any] = await pipe.execute(raise_on_error=False)
        if durable:
            fsynced = results.pop()
            if not isinstance(fsynced, Exception) and int(fsynced[0]) < 1:
                raise BackendUnavailable("redis did not fsync the write to its AOF in time")
            if isinstance(fsynced, Exception):
                raise fsynced
        return results

    async def _uses_waitaof(self) -> bool:
        """Whether writes wait with WAITAOF; decided once, on the first durable write."""
        if self._waitaof is None:
            self._waitaof = await self._decide_waitaof()
        return self._waitaof

    async def _decide_waitaof(self) -> bool:
        if self.cluster:
            # WAITAOF has no key to route by: cluster nodes must fsync before answering.
            logger.info("fsync in a cluster relies on appendfsync always on every node")
            return False
        info = await self.client.info("server")
        if parse_version(str(info.get("redis_version", "0"))) >= WAITAOF_SINCE:
            return True
        await self._check_fsync_always()
        return False

    async def _check_fsync_always(self) -> None:
        """Warn when the server does not fsync before answering (the only guarantee left)."""
        try:
            config = await self.client.config_get("append*")
        except RedisError:
            config = {}  # Managed services may refuse CONFIG; the warning below says so.
        found = {_text(k): _text(v) for k, v in config.items()}
        if (found.get("appendonly"), found.get("appendfsync")) != ("yes", "always"):
            logger.warning(
                "fsync requested but redis runs with appendonly=%s appendfsync=%s;"
                " set appendonly yes and appendfsync always",
                found.get("appendonly"),
                found.get("appendfsync"),
            )


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
