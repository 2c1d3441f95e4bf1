"""The in-process workload: publish -> pull -> ack through the engine, on the memory backend
and the in-process backends among ``--backends`` (SQLite)."""

from __future__ import annotations

from benchmarks.context import Context, row_key
from benchmarks.engine import EngineRun
from benchmarks.results import RATE, Sample


async def engine_round(ctx: Context) -> list[tuple[str, Sample]]:
    """One run of ``benchmarks.engine``'s round trip, in a load-generator process (the
    orchestrating process keeps its own event loop and threads out of the measurement)."""
    s = ctx.settings
    if "engine" not in s.only:
        return []
    backends = s.engine_backends
    found = []
    for backend in backends:
        [rate] = await ctx.run([EngineRun(s.engine_messages, s.batch, s.size, backend)])
        found.append((row_key("engine", backend, backends[0]), Sample({RATE: rate})))
    return found
