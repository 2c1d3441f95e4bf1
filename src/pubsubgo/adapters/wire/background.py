"""Work that outlives its request (async publishes, sockets leaving their groups)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any

from aiohttp import web

from pubsubgo.adapters.wire.keys import BACKGROUND

logger = logging.getLogger(__name__)


def run_in_background(
    app: web.Application, work: Coroutine[Any, Any, object], what: str
) -> asyncio.Task[Any]:
    """Run ``work`` past the end of the request that started it.

    The task is kept under the app (shutdown waits for it) and its failure is logged:
    nothing started here is lost silently.
    """
    tasks = app[BACKGROUND]
    task: asyncio.Task[Any] = asyncio.create_task(work, name=what)
    tasks.add(task)

    def settled(done: asyncio.Task[Any]) -> None:
        tasks.discard(done)
        if done.cancelled():
            logger.error("%s was cancelled by shutdown", what)
        elif (error := done.exception()) is not None:
            logger.error("%s failed: %r", what, error)

    task.add_done_callback(settled)
    return task


async def drain(app: web.Application, grace_seconds: float) -> None:
    """Let background work finish; cancel (and so log) what does not within the grace."""
    running: set[asyncio.Task[Any]] = app[BACKGROUND]
    tasks = set(running)
    if not tasks:
        return
    _, late = await asyncio.wait(tasks, timeout=grace_seconds)
    for task in late:
        task.cancel()
    if late:
        await asyncio.wait(late)
