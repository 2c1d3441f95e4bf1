"""The broker measured side by side with its baselines, in one command.

Run: ``python -m benchmarks.run [--quick] [--runs N] [--only W,...] [--workers N]
[--backends B,...] [--json FILE] [--profile DIR]``

Starts a private redis-server (AOF, fsync every second) and the broker on it (one
process, as ``pubsubgo-server`` runs, or ``--workers N`` processes sharing its port); with
``--backends`` one broker per backend (``redis``, ``sqlite``, ``sqlite-full`` for
``synchronous = full``, ``memory``), each broker workload running on each in turn, the
first backend's rows compared with the others' (the engine workload runs on the in-process
ones, and on memory). Then it
runs each workload ``--runs`` times, each baseline right after the broker's run of the same
workload so that both see the same load on a noisy machine: redis-py on the same Redis
always, NATS JetStream and RabbitMQ when their servers answer on 127.0.0.1 (4222, 5672).
Load comes from ``--processes`` spawned generator processes (raw aiohttp/orjson, redis-py,
nats-py, aio-pika; docs/performance.md).
Prints a table of medians with min–max, the targets, pubsubgo ÷ baseline ratios and the CPU
each process used.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import importlib
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks import catalog, profiling, report
from benchmarks.consume import consume_round
from benchmarks.context import (
    BROKER_ROLE,
    QUICK,
    SYSTEMS,
    WORKLOADS,
    BrokerTarget,
    Context,
    Settings,
)
from benchmarks.in_process import engine_round
from benchmarks.latency import latency_round
from benchmarks.pool import WorkerPool
from benchmarks.publish import publish_round
from benchmarks.results import Row, Sample
from benchmarks.servers import BACKENDS, BrokerServer, PrivateRedis, answers
from benchmarks.timing import CpuMonitor

Round = Callable[[Context], Awaitable[list[tuple[str, Sample]]]]
#: The workload groups in the order each run goes through them.
ROUNDS: tuple[tuple[str, Round], ...] = (
    ("publish", publish_round),
    ("consume", consume_round),
    ("latency", latency_round),
    ("engine", engine_round),
)
#: How long a baseline's server may take to answer the probe.
PROBE_SECONDS = 10.0
#: The baselines run when their client is installed (the ``bench`` extra) and their server
#: answers: each one's module, imported only then.
OPTIONAL_BASELINES = {
    "nats": "benchmarks.baselines.nats_js",
    "rabbitmq": "benchmarks.baselines.rabbitmq",
}


class Unavailable(Exception):
    """A baseline cannot run here; the message says why."""


@dataclass
class Environment:
    """What the run found: the baselines it can use, versions, and why others are skipped."""

    systems: frozenset[str] = frozenset({"redis-py"})
    versions: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small runs: under a minute")
    parser.add_argument("--runs", type=int, help="runs of each workload (default 3; quick 2)")
    parser.add_argument("--only", help=f"comma-separated workloads of: {', '.join(WORKLOADS)}")
    parser.add_argument("--systems", default=",".join(SYSTEMS), help="baselines to try")
    parser.add_argument("--processes", type=int, help="load-generator processes (default 2)")
    parser.add_argument("--latency-rate", type=float, help="msg/s of the latency runs (2000)")
    parser.add_argument(
        "--workers", type=int, default=1, help="broker processes (pubsubgo-server --workers)"
    )
    parser.add_argument(
        "--backends",
        default="redis",
        help=f"brokers' storage, comma-separated, the first compared with the others: {BACKENDS}",
    )
    parser.add_argument("--json", type=Path, help="also write every measurement here")
    parser.add_argument("--profile", type=Path, help="py-spy the broker into this directory")
    return parser.parse_args()


def _settings(args: argparse.Namespace) -> Settings:
    settings = QUICK if args.quick else Settings()
    if args.runs:
        settings = dataclasses.replace(settings, runs=args.runs)
    if args.processes:
        settings = dataclasses.replace(settings, processes=args.processes)
    if args.latency_rate:
        settings = dataclasses.replace(settings, latency_rate=args.latency_rate)
    if args.workers < 1:
        raise SystemExit("--workers must be at least 1")
    settings = dataclasses.replace(settings, workers=args.workers)
    backends = tuple(dict.fromkeys(b.strip() for b in args.backends.split(",") if b.strip()))
    unknown_backends = set(backends) - set(BACKENDS)
    if unknown_backends or not backends:
        raise SystemExit(f"--backends takes some of: {', '.join(BACKENDS)}")
    settings = dataclasses.replace(settings, backends=backends)
    if args.only:
        only = frozenset(w.strip() for w in args.only.split(","))
        unknown = only - set(WORKLOADS)
        if unknown:
            raise SystemExit(f"unknown workload(s): {', '.join(sorted(unknown))}")
        settings = dataclasses.replace(settings, only=only)
    return settings


async def _probe(wanted: set[str]) -> Environment:
    """The baselines that answer, their versions, and a note for each one skipped."""
    found = Environment()
    for name, module in OPTIONAL_BASELINES.items():
        if name not in wanted:
            continue
        try:
            found.versions[name] = await _version(module)
            found.systems |= {name}
        except Unavailable as why:
            found.notes.append(f"{name}: skipped, {why}")
        except Exception as error:  # any failure only means: no such baseline here
            found.notes.append(f"{name}: skipped, {type(error).__name__}: {error}")
    return found


async def _version(module: str) -> str:
    """The version of the baseline's server; raises Unavailable if it cannot run here."""
    try:
        baseline = importlib.import_module(module)
    except ModuleNotFoundError as missing:
        raise Unavailable(
            f"its client ({missing.name}) is not installed: pip install -e '.[bench]'"
        ) from missing
    if not answers(baseline.PORT):
        raise Unavailable(f"nothing answers on 127.0.0.1:{baseline.PORT}")
    async with asyncio.timeout(PROBE_SECONDS):
        version: str = await baseline.probe()
    return version


async def _measure(ctx: Context, rows: dict[str, Row]) -> None:
    for run in range(1, ctx.settings.runs + 1):
        for name, round_ in ROUNDS:
            started = time.monotonic()
            found = await round_(ctx)
            for key, sample in found:
                rows[key].samples.append(sample)
            if found:
                took = time.monotonic() - started
                print(f"run {run}/{ctx.settings.runs}: {name} done in {took:.0f} s", flush=True)


@contextlib.contextmanager
def _servers(ctx: Context, scratch: Path, env: Environment) -> Iterator[None]:
    """Redis and the broker for the run (none when only the in-process engine runs)."""
    if not ctx.settings.only - {"engine"}:
        yield
        return
    with PrivateRedis(scratch / "redis") as redis, contextlib.ExitStack() as stack:
        brokers = [
            stack.enter_context(_broker(ctx.settings, backend, redis.url, scratch))
            for backend in ctx.settings.backends
        ]
        roles = {"redis": redis.pid}
        for index, broker in enumerate(brokers):
            roles |= broker_roles(broker) if index == 0 else {_role(broker): broker.pid}
        monitor = stack.enter_context(CpuMonitor(roles))
        env.versions["redis"] = redis.version()
        env.versions["broker workers"] = str(ctx.settings.workers)
        env.versions["broker backends"] = ", ".join(ctx.settings.backends)
        # gRPC workloads run against the first backend's broker.
        ctx.grpc_target = brokers[0].grpc_target
        # With workers, --profile records the first one: they run the same code.
        ctx.brokers = tuple(
            BrokerTarget(b.backend, b.url, b.worker_pids[0], BROKER_ROLE if i == 0 else _role(b))
            for i, b in enumerate(brokers)
        )
        ctx.broker_url, ctx.redis_url, ctx.monitor = ctx.brokers[0].url, redis.url, monitor
        ctx.broker_pid = ctx.brokers[0].pid
        yield


def _broker(settings: Settings, backend: str, redis_url: str, scratch: Path) -> BrokerServer:
    """The broker of ``backend`` (with ``--workers`` on Redis only: the others are owned by
    one process)."""
    workers = settings.workers if backend == "redis" else 1
    return BrokerServer(scratch / f"broker-{backend}", backend, redis_url, workers)


def _role(broker: BrokerServer) -> str:
    return f"{BROKER_ROLE}@{broker.backend}"


def broker_roles(broker: BrokerServer) -> dict[str, int]:
    """The CPU monitor's roles of the broker's processes; Context.sample adds up the workers'
    (and their supervisor's) into ``broker``."""
    if broker.workers == 1:
        return {BROKER_ROLE: broker.pid}
    workers = {f"{BROKER_ROLE} {n}": pid for n, pid in enumerate(broker.worker_pids, start=1)}
    return {BROKER_ROLE: broker.pid} | workers


def _report(rows: dict[str, Row], env: Environment, args: argparse.Namespace) -> None:
    print(report.table(rows.values()))
    for note in env.notes:
        print(f"note: {note}")
    machine = report.machine(env.versions)
    print("machine: " + ", ".join(f"{k} {v}" for k, v in machine.items()))
    if args.json:
        document = {"machine": machine, "notes": env.notes}
        report.write_json(args.json, report.to_json(rows.values(), document))
    if args.profile:
        for stacks in sorted(args.profile.glob("*.txt")):
            print(profiling.summarize(stacks))


def main() -> None:
    args = _arguments()
    settings = _settings(args)
    if args.profile:
        args.profile.mkdir(parents=True, exist_ok=True)
    rows = catalog.rows(settings)
    wanted = {s.strip() for s in args.systems.split(",")} if settings.only - {"engine"} else set()
    env = asyncio.run(_probe(wanted))
    with (
        tempfile.TemporaryDirectory(prefix="pubsubgo-bench-") as scratch,
        WorkerPool(settings.processes) as pool,
    ):
        ctx = Context(settings, pool, systems=env.systems, profile_dir=args.profile)
        with _servers(ctx, Path(scratch), env):
            asyncio.run(_measure(ctx, rows))
    _report(rows, env, args)


if __name__ == "__main__":
    main()
