"""``server.workers``: a supervisor process and the broker processes it forks.

Each worker runs the normal server and binds its own socket to the shared host:port with
SO_REUSEPORT, so the kernel spreads new connections evenly over the workers' accept queues.
A single socket bound before forking and shared by all would wake every worker for each
connection, and the least busy one would end up taking most of them. Brokers on one Redis
already cooperate as replicas (duties, groups, wake-ups), so the workers share nothing else.

Lifecycle:

- SIGTERM or SIGINT to the supervisor is forwarded once to every worker as SIGTERM; each drains
  as a single broker does, and the supervisor exits 0 when every worker exited 0. A second
  signal, or workers still running ``server.shutdown_timeout_seconds`` plus
  ``STOP_GRACE_SECONDS`` later, gets them SIGKILL.
- A worker that exits when nobody asked it to stops the others, and the supervisor exits 1.
  The broker is restarted by whatever restarts a single broker process (Kubernetes, systemd,
  compose): restarting a worker here would hide a crash loop from its back-off and alerts.
- A worker gets SIGTERM when the supervisor dies (Linux ``PR_SET_PDEATHSIG``), so killing the
  supervisor, even with SIGKILL, leaves no worker behind.
- Worker i serves metrics on ``metrics.port + i``: each worker has its own registry, and one
  shared port would answer each scrape from a random worker.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import logging
import os
import signal
import socket
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

from aiohttp import web

from pubsubgo.adapters.prometheus.endpoint import MetricsPortUnavailable
from pubsubgo.config import ConfigError, Settings

logger = logging.getLogger("pubsubgo.server")

#: The signals that stop the broker.
STOP_SIGNALS = frozenset({signal.SIGTERM, signal.SIGINT})
#: What the supervisor waits for; blocked while it runs, so that it can take them one at a
#: time with sigtimedwait instead of handling them at arbitrary points.
_WATCHED = STOP_SIGNALS | {signal.SIGCHLD}
#: How long workers may take beyond their own drain before the supervisor kills them.
STOP_GRACE_SECONDS = 5.0
#: prctl(2) option: the signal a process receives when its parent dies.
_PR_SET_PDEATHSIG = 1
#: The supervisor's exit code when a worker failed or had to be killed.
EXIT_WORKER_FAILED = 1


class PortUnavailable(Exception):
    """Raised when the workers' host and port cannot be bound; ``str()`` is one line."""


@dataclass(frozen=True, slots=True)
class Worker:
    """One of the broker processes: its place among the ``count`` workers."""

    index: int
    count: int

    @property
    def number(self) -> int:
        """1-based, for people."""
        return self.index + 1


def check_supported(settings: Settings) -> None:
    """Raise ConfigError when this system cannot run ``server.workers`` processes.

    SO_REUSEPORT spreads connections over the sockets only on Linux (elsewhere the last
    bound socket takes them all), and only Linux tells a worker that the supervisor died.
    """
    if settings.server.workers > 1 and sys.platform != "linux":
        raise ConfigError(
            f"config error: server.workers: {settings.server.workers} workers need Linux"
            f" (this is {sys.platform})"
        )


def worker_settings(settings: Settings, worker: Worker) -> Settings:
    """``settings`` as worker ``worker`` runs them: its own metrics port."""
    metrics = settings.metrics
    if not metrics.port:
        return settings
    moved = metrics.model_copy(update={"port": metrics.port + worker.index})
    return settings.model_copy(update={"metrics": moved})


def supervise(settings: Settings, run: Callable[[Settings, Worker], None]) -> int:
    """Fork ``server.workers`` processes running ``run`` and wait for them; the exit code.

    Raises:
        PortUnavailable: the port cannot be bound, before any worker is started.
    """
    count = settings.server.workers
    _check_port_free(settings.server.host, settings.server.port)
    signal.pthread_sigmask(signal.SIG_BLOCK, _WATCHED)
    supervisor = _Supervisor(settings.server.shutdown_timeout_seconds + STOP_GRACE_SECONDS)
    me = os.getpid()
    for index in range(count):
        pid = os.fork()
        if pid == 0:
            _worker_main(run, settings, Worker(index, count), supervisor=me)
        supervisor.workers[pid] = Worker(index, count)
    logger.info(
        "supervising %d workers on port %d: pids %s",
        count, settings.server.port, ", ".join(map(str, supervisor.workers)),
    )  # fmt: skip
    code = supervisor.wait()
    logger.info("every worker has exited; exit code %d", code)
    return code


def serve_worker(loop: asyncio.AbstractEventLoop) -> None:
    """Prepare ``loop`` for a worker, whose ``web.run_app`` then does not handle signals.

    aiohttp's own handlers would let a second signal cut the drain short, and a worker can
    get two: the supervisor's SIGTERM, and a SIGINT from the terminal or a SIGTERM from a
    service manager that signals every process of the group. So the first one starts the
    drain and later ones are ignored.
    """

    def stop_once() -> None:
        for signum in STOP_SIGNALS:
            loop.remove_signal_handler(signum)
            signal.signal(signum, signal.SIG_IGN)
        raise web.GracefulExit()

    for signum in STOP_SIGNALS:
        loop.add_signal_handler(signum, stop_once)
    # Signals that arrived since the fork were held back (see supervise); deliver them now.
    signal.pthread_sigmask(signal.SIG_UNBLOCK, _WATCHED)


def _check_port_free(host: str, port: int) -> None:
    """Bind once without SO_REUSEPORT: it fails if anything listens on the port, also
    another broker's workers, which the workers' own sockets would silently join."""
    try:
        for family, kind, proto, _, address in socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        ):
            with socket.socket(family, kind, proto) as probe:
                probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                if family == socket.AF_INET6:
                    probe.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
                probe.bind(address)
    except OSError as error:
        raise PortUnavailable(f"cannot listen on {host}:{port}: {error}") from error


def _worker_main(
    run: Callable[[Settings, Worker], None], settings: Settings, worker: Worker, supervisor: int
) -> None:
    """The forked child: run the broker, then leave without returning into the supervisor."""
    code = 0
    try:
        _die_with(supervisor)
        run(worker_settings(settings, worker), worker)
    except SystemExit as leaving:
        code = leaving.code if isinstance(leaving.code, int) else 1
    except MetricsPortUnavailable as error:
        logger.error("worker %d (pid %d): %s", worker.number, os.getpid(), error)
        code = EXIT_WORKER_FAILED
    except BaseException:
        logger.exception("worker %d (pid %d) failed", worker.number, os.getpid())
        code = EXIT_WORKER_FAILED
    finally:
        logging.shutdown()
        sys.stdout.flush()
        sys.stderr.flush()
        # The supervisor's atexit handlers and finally blocks are not this process's.
        os._exit(code)


def _die_with(supervisor: int) -> None:
    """Get SIGTERM (and so drain) when the supervisor dies."""
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_PDEATHSIG) failed")
    if os.getppid() != supervisor:
        # It died before prctl took effect; the pending SIGTERM starts the drain as soon
        # as the worker unblocks signals.
        os.kill(os.getpid(), signal.SIGTERM)


class _Supervisor:
    """The workers by pid, and the wait for them."""

    def __init__(self, stop_deadline_seconds: float) -> None:
        self.workers: dict[int, Worker] = {}
        self._stop_deadline_seconds = stop_deadline_seconds
        self._stopping = False
        self._kill_at: float | None = None
        self._failed = False

    def wait(self) -> int:
        """Until every worker has exited: forward stop signals, reap, kill stragglers."""
        while self.workers:
            received = self._next_signal()
            if received is None:
                logger.error("workers still running after the drain: killing them")
                self._kill()
            elif received == signal.SIGCHLD:
                self._reap()
            elif not self._stopping:
                self._stop(f"{signal.Signals(received).name}")
            else:
                logger.warning("second %s: killing the workers", signal.Signals(received).name)
                self._kill()
        return EXIT_WORKER_FAILED if self._failed else 0

    def _next_signal(self) -> int | None:
        """The next watched signal; None once the stop deadline has passed."""
        if self._kill_at is None:
            return signal.sigwaitinfo(_WATCHED).si_signo
        info = signal.sigtimedwait(_WATCHED, max(self._kill_at - time.monotonic(), 0.0))
        return None if info is None else info.si_signo

    def _reap(self) -> None:
        while self.workers:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            worker = self.workers.pop(pid, None)
            if worker is None:
                continue
            code = os.waitstatus_to_exitcode(status)
            if code == 0 and self._stopping:
                continue
            self._failed = True
            logger.error("worker %d (pid %d) exited with %d", worker.number, pid, code)
            self._stop(f"worker {worker.number} exiting")

    def _stop(self, why: str) -> None:
        if self._stopping:
            return
        self._stopping = True
        logger.info("stopping %d worker(s) on %s", len(self.workers), why)
        self._kill_at = time.monotonic() + self._stop_deadline_seconds
        self._signal_all(signal.SIGTERM)

    def _kill(self) -> None:
        self._failed = True
        self._kill_at = None
        self._signal_all(signal.SIGKILL)

    def _signal_all(self, signum: signal.Signals) -> None:
        for pid in self.workers:
            # One that has exited already is reaped at its SIGCHLD.
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signum)
