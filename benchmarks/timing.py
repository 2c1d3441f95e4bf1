"""Measurement windows shared by load-generator processes, and what a generator reports.

Every generator of a workload gets the same ``Window``: it connects, waits for the window to
open (a wall-clock instant, the same in every process), and counts only the work that
completes inside it. Drain workloads (consume a prepared backlog) instead report when their
first message arrived and their last ack was answered, and the run's rate is the total over
the span from the earliest first to the latest last.
"""

from __future__ import annotations

import asyncio
import os
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

#: Linux reports process CPU time in clock ticks.
_TICKS_PER_SECOND = os.sysconf("SC_CLK_TCK")
#: How often the CPU monitor reads /proc: fine enough for windows of a second or more.
CPU_SAMPLE_SECONDS = 0.1


@dataclass(frozen=True, slots=True)
class Window:
    """A measurement window: ``seconds`` long from the wall-clock instant ``start_at``."""

    start_at: float
    seconds: float

    @property
    def end_at(self) -> float:
        return self.start_at + self.seconds

    async def opened(self) -> None:
        """Return once the window has opened."""
        await asyncio.sleep(max(0.0, self.start_at - time.time()))

    def is_open(self, now: float) -> bool:
        return now < self.end_at


@dataclass(slots=True)
class Counted:
    """What one generator did: messages, when the first and last counted one completed,
    and the CPU seconds the generator used meanwhile."""

    count: int = 0
    first: float = 0.0
    last: float = 0.0
    cpu_seconds: float = 0.0
    errors: int = 0

    def add(self, count: int, now: float) -> None:
        if not self.first:
            self.first = now
        self.count += count
        self.last = now


@dataclass(slots=True)
class Latencies:
    """One latency generator's samples (ms) and the CPU seconds it used."""

    values_ms: list[float] = field(default_factory=list)
    cpu_seconds: float = 0.0
    errors: int = 0


def span_rate(parts: Sequence[Counted]) -> tuple[float, float, float]:
    """(messages per second, first, last) over every part's first..last span."""
    counted = [p for p in parts if p.count]
    if not counted:
        return 0.0, 0.0, 0.0
    first = min(p.first for p in counted)
    last = max(p.last for p in counted)
    total = sum(p.count for p in counted)
    return (total / (last - first) if last > first else 0.0), first, last


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU seconds ``pid`` has used so far."""
    with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
        # The command name (field 2) may hold spaces; the fields after it are plain.
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _TICKS_PER_SECOND


class CpuMonitor:
    """Samples the CPU time of some processes in a thread, so that the use over any past
    interval can be read afterwards (drain workloads learn their interval at the end)."""

    def __init__(self, pids: dict[str, int]) -> None:
        self._pids = pids
        self._samples: list[tuple[float, dict[str, float]]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, name="cpu-monitor", daemon=True)

    def __enter__(self) -> CpuMonitor:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def percent(self, first: float, last: float) -> dict[str, float]:
        """Percent of one core each process used between two wall-clock instants."""
        before = self._at(first)
        after = self._at(last)
        if before is None or after is None or after[0] <= before[0]:
            return {}
        elapsed = after[0] - before[0]
        return {role: 100 * (after[1][role] - before[1][role]) / elapsed for role in self._pids}

    def _at(self, instant: float) -> tuple[float, dict[str, float]] | None:
        """The last sample taken at or before ``instant`` (the first one if none is)."""
        chosen = None
        for sample in list(self._samples):
            if sample[0] > instant and chosen is not None:
                break
            chosen = sample
        return chosen

    def _sample(self) -> None:
        while not self._stop.is_set():
            try:
                reading = {role: process_cpu_seconds(pid) for role, pid in self._pids.items()}
            except OSError:
                return  # a process ended: the run is over
            self._samples.append((time.time(), reading))
            self._stop.wait(CPU_SAMPLE_SECONDS)
