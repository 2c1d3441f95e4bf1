"""What a benchmark run measures: samples per run, rows of medians, and their statistics."""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field

#: Metric names: a throughput in messages per second, or latency percentiles in ms.
RATE = "msg/s"
P50 = "p50 ms"
P99 = "p99 ms"


def percentile(values: Sequence[float], fraction: float) -> float:
    """The ``fraction`` (0..1) percentile of ``values``, linearly interpolated."""
    if not values:
        return math.nan
    ordered = sorted(values)
    position = fraction * (len(ordered) - 1)
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def latency_metrics(latencies_ms: Sequence[float]) -> dict[str, float]:
    """p50 and p99 of one run's latencies."""
    return {P50: percentile(latencies_ms, 0.50), P99: percentile(latencies_ms, 0.99)}


@dataclass(frozen=True, slots=True)
class Sample:
    """One run of one workload on one system.

    Attributes:
        metrics: the measured values by metric name (``RATE``, or ``P50`` and ``P99``).
        cpu: percent of one core used during the run, by process role (broker, redis,
            clients); empty where the processes are not ours (NATS, RabbitMQ).
    """

    metrics: dict[str, float]
    cpu: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Target:
    """A goal for a metric: at least (throughput) or at most (latency) ``value``."""

    metric: str
    value: float
    at_least: bool

    def met_by(self, measured: float) -> bool:
        return measured >= self.value if self.at_least else measured <= self.value


@dataclass
class Row:
    """Every run of one workload on one system.

    Attributes:
        group: rows of one group measure the same thing and are compared with each other.
        system: ``pubsubgo`` or the baseline's name.
        label: how the workload was driven.
        targets: what pubsubgo should reach (none for baselines).
        workload: the workload, where rows of several systems measure the same one (the
            broker on each backend): a row is compared with its own workload's.
    """

    group: str
    system: str
    label: str
    targets: tuple[Target, ...] = ()
    workload: str = ""
    samples: list[Sample] = field(default_factory=list)

    @property
    def metrics(self) -> list[str]:
        return list(self.samples[0].metrics) if self.samples else []

    def values(self, metric: str) -> list[float]:
        return [s.metrics[metric] for s in self.samples if metric in s.metrics]

    def median(self, metric: str) -> float:
        values = self.values(metric)
        return statistics.median(values) if values else math.nan

    def cpu(self) -> dict[str, float]:
        """The median CPU use by role over the runs."""
        roles = sorted({role for s in self.samples for role in s.cpu})
        return {r: statistics.median(s.cpu.get(r, 0.0) for s in self.samples) for r in roles}

    def cpu_per_message(self) -> dict[str, float]:
        """The median CPU microseconds each process spent per message (throughput rows):
        steadier than the rate on a shared machine, since it does not count the time a
        process waited for a core."""
        per_run = [
            {role: 1e4 * percent / s.metrics[RATE] for role, percent in s.cpu.items()}
            for s in self.samples
            if s.metrics.get(RATE)
        ]
        roles = sorted({role for run in per_run for role in run})
        return {r: statistics.median(run.get(r, 0.0) for run in per_run) for r in roles}
