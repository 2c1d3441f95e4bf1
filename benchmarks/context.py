"""What every workload of a run shares: the settings, the servers, the load generators."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import itertools
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from benchmarks import profiling
from benchmarks.pool import Job, WorkerPool
from benchmarks.results import Sample
from benchmarks.timing import CpuMonitor, Window

R = TypeVar("R")
#: Workloads that can be selected with ``--only``.
WORKLOADS = (
    "rest-publish",
    "ws-publish",
    "grpc-publish",
    "grpc-publish-single",
    "ws-consume",
    "pull-consume",
    "grpc-consume",
    "latency",
    "latency-grpc",
    "engine",
)
#: Baseline systems; redis-py always runs, the others when their server answers.
SYSTEMS = ("redis-py", "nats", "rabbitmq")
#: Load generators get this long to connect before a window opens.
START_DELAY_SECONDS = 0.3
#: The CPU role of the broker; with ``--workers`` each worker is ``"broker <n>"`` and the
#: samples add them up into this one. The brokers of further ``--backends`` are
#: ``"broker@<backend>"``, each counted only in its own samples.
BROKER_ROLE = "broker"
#: The engine workload runs in process: on these backends only (memory always among them).
ENGINE_BACKENDS = ("sqlite", "sqlite-full", "memory")
#: Drain and latency jobs stop at their own deadline: the expected time times this, plus a bit.
DEADLINE_FACTOR = 4.0


@dataclass(frozen=True, slots=True)
class Settings:
    """How much each workload does.

    Attributes:
        runs: how many times each workload runs (the table shows the median and range).
        seconds: length of each publish measurement window.
        consume_messages: backlog each consume run drains (RabbitMQ gets a quarter of it:
            preparing it at RabbitMQ's publish rate would take most of the run).
        latency_seconds: how long the steady latency publisher runs.
        latency_rate: messages a second of the latency workloads.
        engine_messages: messages through the in-process engine per run.
        batch: messages per publish request, frame or pipeline.
        size: payload bytes.
        partitions: partitions of the broker's topics.
        processes: load-generator processes (and jobs per workload).
        connections: connections (or sockets) per load-generator process.
        pull_batch: ``max_messages`` of a pull, ``COUNT`` of XREADGROUP, fetch size.
        ack_batch: ack ids per WebSocket ack frame (and RabbitMQ ``multiple`` ack).
        only: the workloads to run.
        workers: broker processes sharing the port (``pubsubgo-server --workers``).
        backends: the brokers' storage backends; the first one's rows are "pubsubgo",
            the others' are compared with it (``pubsubgo/<backend>``).
    """

    runs: int = 3
    seconds: float = 4.0
    consume_messages: int = 100_000
    latency_seconds: float = 5.0
    latency_rate: float = 2000.0
    engine_messages: int = 200_000
    batch: int = 100
    size: int = 1024
    partitions: int = 4
    processes: int = 2
    connections: int = 4
    pull_batch: int = 1000
    ack_batch: int = 100
    only: frozenset[str] = frozenset(WORKLOADS)
    workers: int = 1
    backends: tuple[str, ...] = ("redis",)

    @property
    def engine_backends(self) -> tuple[str, ...]:
        """What the engine workload runs on: the in-process backends among ``backends``,
        then memory, the engine's own baseline."""
        chosen = [b for b in self.backends if b in ENGINE_BACKENDS]
        return tuple(dict.fromkeys([*chosen, "memory"]))


def row_key(workload: str, backend: str, primary: str) -> str:
    """The report row of ``workload`` on ``backend``: the workload itself for the primary
    backend, ``"<workload>@<backend>"`` for another."""
    return workload if backend == primary else f"{workload}@{backend}"


@dataclass(frozen=True, slots=True)
class BrokerTarget:
    """One broker of the run: its backend, URL, (first) process and CPU role."""

    backend: str
    url: str
    pid: int
    role: str = BROKER_ROLE


#: ``--quick``: the same workloads, small enough for the whole run to take under a minute.
QUICK = Settings(
    runs=2, seconds=1.0, consume_messages=6_000, latency_seconds=1.0, engine_messages=40_000
)


@dataclass
class Context:
    """The servers and generators of one benchmark run."""

    settings: Settings
    pool: WorkerPool
    broker_url: str = ""
    #: ``host:port`` of the broker's gRPC listener.
    grpc_target: str = ""
    redis_url: str = ""
    monitor: CpuMonitor | None = None
    systems: frozenset[str] = frozenset({"redis-py"})
    broker_pid: int = 0
    #: Every broker of the run, the primary backend's first.
    brokers: tuple[BrokerTarget, ...] = ()
    broker_role: str = BROKER_ROLE
    profile_dir: Path | None = None
    _names: itertools.count[int] = field(default_factory=itertools.count)
    _profiles: Counter[str] = field(default_factory=Counter)

    def on(self, target: BrokerTarget) -> Context:
        """This context aimed at ``target``'s broker (the generators and counters shared)."""
        return dataclasses.replace(
            self, broker_url=target.url, broker_pid=target.pid, broker_role=target.role
        )

    def key(self, workload: str, target: BrokerTarget) -> str:
        """The report row of ``workload`` on ``target``'s broker."""
        return row_key(workload, target.backend, self.brokers[0].backend)

    def name(self, prefix: str) -> str:
        """A topic, stream or queue name no other run of this process uses."""
        return f"bench-{prefix}-{int(time.time())}-{next(self._names)}"

    def window(self, seconds: float) -> Window:
        """A window opening once the generators have had time to connect."""
        return Window(time.time() + START_DELAY_SECONDS, seconds)

    async def run(self, jobs: Sequence[Job[R]]) -> list[R]:
        """Run ``jobs`` at the same time in the generator processes."""
        futures = self.pool.submit(jobs)
        deadline = max(job.deadline_seconds for job in jobs) + START_DELAY_SECONDS
        async with asyncio.timeout(deadline + 30):
            return list(await asyncio.gather(*(asyncio.wrap_future(f) for f in futures)))

    @contextlib.contextmanager
    def profiled(self, workload: str) -> Iterator[None]:
        """Record the broker with py-spy during the block, when ``--profile`` asked for it."""
        if self.profile_dir is None or not self.broker_pid:
            yield
            return
        self._profiles[workload] += 1
        output = self.profile_dir / f"{workload}-{self._profiles[workload]}.txt"
        with profiling.recording(self.broker_pid, output):
            yield

    def sample(
        self, metrics: dict[str, float], first: float, last: float, client_cpu: float
    ) -> Sample:
        """A sample with the CPU our processes used from ``first`` to ``last``."""
        cpu = (
            _broker_summed(self.monitor.percent(first, last), self.broker_role)
            if self.monitor
            else {}
        )
        if last > first:
            cpu["clients"] = 100 * client_cpu / (last - first)
        return Sample(metrics, cpu)


def _broker_summed(cpu: dict[str, float], measured: str) -> dict[str, float]:
    """``cpu`` with every process of the ``measured`` broker (supervisor and workers) as one
    ``broker`` role, and the other brokers left out."""
    summed = {role: v for role, v in cpu.items() if not role.startswith(BROKER_ROLE)}
    broker = [v for role, v in cpu.items() if role == measured or role.startswith(f"{measured} ")]
    if broker:
        summed[BROKER_ROLE] = sum(broker)
    return summed
