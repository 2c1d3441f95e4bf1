"""Load-generator processes: jobs run on uvloop in a pool of spawned processes.

One Python process cannot generate enough load for a broker that is itself a Python process:
the client would be the bottleneck. So each job (publish on some connections, consume on a
socket...) runs in its own process, and the jobs of one workload run at the same time.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import multiprocessing
import traceback
from collections.abc import Coroutine, Sequence
from typing import Any, Protocol, TypeVar

import uvloop

R = TypeVar("R", covariant=True)
#: A job that does not finish within its own deadline plus this much is reported as hung.
JOB_GRACE_SECONDS = 30.0
#: A warm-up job sleeps this long, so that the pool starts every process at once.
_WARM_UP_SECONDS = 0.3


class Job(Protocol[R]):
    """A picklable description of some load to generate in one process."""

    @property
    def deadline_seconds(self) -> float:
        """The longest the job may run, in seconds (it must stop by itself before)."""
        ...

    def run(self) -> Coroutine[Any, Any, R]:
        """Generate the load and report what was measured."""
        ...


class JobFailed(Exception):
    """Raised in the orchestrating process when a job failed; holds the job's traceback."""


def _run(job: Job[R]) -> R:
    # Each process runs one job at a time on a fresh uvloop event loop.
    try:
        return uvloop.run(job.run())
    except BaseException:
        # The traceback of an exception does not survive pickling: send it as text.
        raise JobFailed(f"{type(job).__name__} failed:\n{traceback.format_exc()}") from None


async def _nap(seconds: float) -> None:
    await asyncio.sleep(seconds)


class _WarmUp:
    deadline_seconds = 5.0

    def run(self) -> Coroutine[Any, Any, None]:
        return _nap(_WARM_UP_SECONDS)


class WorkerPool:
    """``processes`` spawned load generators, started before the first workload."""

    def __init__(self, processes: int) -> None:
        self.processes = processes
        context = multiprocessing.get_context("spawn")  # no inherited event loop or sockets
        self._executor = concurrent.futures.ProcessPoolExecutor(processes, mp_context=context)

    def __enter__(self) -> WorkerPool:
        self.run([_WarmUp() for _ in range(self.processes)])
        return self

    def __exit__(self, *exc: object) -> None:
        self._executor.shutdown(wait=True, cancel_futures=True)

    def submit(self, jobs: Sequence[Job[R]]) -> list[concurrent.futures.Future[R]]:
        """Start ``jobs`` (at most one per process: they run at the same time)."""
        if len(jobs) > self.processes:
            raise ValueError(f"{len(jobs)} jobs for {self.processes} processes")
        return [self._executor.submit(_run, job) for job in jobs]

    @staticmethod
    def results(futures: Sequence[concurrent.futures.Future[R]], deadline: float) -> list[R]:
        """Every job's result; TimeoutError if one is still running after ``deadline`` s."""
        done, pending = concurrent.futures.wait(futures, timeout=deadline + JOB_GRACE_SECONDS)
        if pending:
            raise TimeoutError(f"{len(pending)} load generator(s) did not finish in time")
        return [f.result() for f in futures]

    def run(self, jobs: Sequence[Job[R]]) -> list[R]:
        """Run ``jobs`` at the same time and return their results in order."""
        futures = self.submit(jobs)
        return self.results(futures, max(job.deadline_seconds for job in jobs))
