"""The processes a benchmark run starts and owns: a private redis-server and the brokers.

Both listen on free ports of 127.0.0.1, live in a temporary directory and are stopped (then
killed if they linger) when their ``with`` block ends. On Linux they also get SIGKILL if the
benchmark process dies, so that an interrupted run leaves nothing behind.
"""

from __future__ import annotations

import ctypes
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from types import TracebackType

#: How long a server may take to answer after it was started.
START_DEADLINE_SECONDS = 20.0
#: How long a server may take to exit after SIGTERM before it is killed.
STOP_DEADLINE_SECONDS = 10.0
#: Poll interval while waiting for a server to answer.
POLL_SECONDS = 0.05
#: prctl(2) option: the signal a child receives when its parent dies.
_PR_SET_PDEATHSIG = 1
#: The durability the targets are stated for: an AOF fsynced once a second.
REDIS_AOF_EVERYSEC = ("--save", "", "--appendonly", "yes", "--appendfsync", "everysec")
#: The broker backends a run can measure (``--backends``): ``sqlite-full`` is SQLite with
#: ``synchronous = full``.
BACKENDS = ("redis", "sqlite", "sqlite-full", "memory")
#: The line each worker of ``--workers`` logs once it listens.
_WORKER_READY = re.compile(r"listening on \S+ \(storage: \w+; worker \d+ of \d+, pid (\d+)\)")


def free_port() -> int:
    """A TCP port of 127.0.0.1 nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def answers(port: int, timeout: float = 0.5) -> bool:
    """True when something accepts TCP connections on 127.0.0.1:``port``."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout):
            return True
    except OSError:
        return False


def wait_until(condition: Callable[[], bool], what: str) -> None:
    """Poll ``condition`` until it holds; RuntimeError after START_DEADLINE_SECONDS."""
    give_up = time.monotonic() + START_DEADLINE_SECONDS
    while not condition():
        if time.monotonic() > give_up:
            raise RuntimeError(f"gave up waiting for {what} after {START_DEADLINE_SECONDS} s")
        time.sleep(POLL_SECONDS)


def _die_with_parent() -> None:
    """Runs in the child before exec: SIGKILL it when the benchmark process dies."""
    if sys.platform == "linux":
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


class _Child:
    """A child process stopped on leaving the ``with`` block."""

    def __init__(self) -> None:
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int:
        assert self.process is not None, "not started"
        return self.process.pid

    def _spawn(self, command: list[str], log: Path, env: dict[str, str] | None = None) -> None:
        with log.open("ab") as out:
            self.process = subprocess.Popen(
                command,
                cwd=log.parent,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                # Safe here: the benchmark process starts no threads of its own.
                preexec_fn=_die_with_parent,
            )

    def stop(self) -> None:
        """SIGTERM, then SIGKILL after STOP_DEADLINE_SECONDS."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(STOP_DEADLINE_SECONDS)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(STOP_DEADLINE_SECONDS)

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


class PrivateRedis(_Child):
    """redis-server on a free port with an AOF fsynced every second, in ``directory``."""

    def __init__(self, directory: Path) -> None:
        super().__init__()
        self.directory = directory
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"

    def __enter__(self) -> PrivateRedis:
        binary = shutil.which("redis-server")
        if binary is None:
            raise RuntimeError("redis-server not found on PATH: apt-get install redis-server")
        self.directory.mkdir(parents=True, exist_ok=True)
        command = [binary, "--port", str(self.port), "--bind", "127.0.0.1"]
        command += ["--dir", str(self.directory), *REDIS_AOF_EVERYSEC]
        self._spawn(command, self.directory / "redis.log")
        wait_until(lambda: answers(self.port), f"redis-server on port {self.port}")
        return self

    def version(self) -> str:
        """The server's version, e.g. ``7.0.15``."""
        out = subprocess.run(
            ["redis-server", "--version"], capture_output=True, text=True, check=True, timeout=10
        ).stdout
        return out.split("v=", 1)[1].split()[0] if "v=" in out else out.strip()


def storage_settings(backend: str, redis_url: str, directory: Path) -> dict[str, str]:
    """The ``PUBSUB_`` variables of a broker on ``backend``: Redis at ``redis_url``, or a
    SQLite file in ``directory``."""
    if backend == "redis":
        return {"PUBSUB_STORAGE_BACKEND": "redis", "PUBSUB_REDIS_URL": redis_url}
    if backend in ("sqlite", "sqlite-full"):
        return {
            "PUBSUB_STORAGE_BACKEND": "sqlite",
            "PUBSUB_SQLITE_PATH": str(directory / "pubsubgo.db"),
            "PUBSUB_SQLITE_SYNCHRONOUS": "full" if backend == "sqlite-full" else "normal",
        }
    return {"PUBSUB_STORAGE_BACKEND": "memory"}


class BrokerServer(_Child):
    """``python -m pubsubgo`` as a user would run it, on ``backend`` (Redis at
    ``redis_url``, or a file in ``directory``): one process, or a supervisor and ``workers``
    broker processes sharing the port (``--workers``, Redis only)."""

    def __init__(self, directory: Path, backend: str, redis_url: str, workers: int = 1) -> None:
        super().__init__()
        self.directory = directory
        self.backend = backend
        self.storage = storage_settings(backend, redis_url, directory)
        self.workers = workers
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        #: The gRPC listener, beside the HTTP one.
        self.grpc_port = free_port()
        self.grpc_target = f"127.0.0.1:{self.grpc_port}"
        #: The broker processes' pids: the one process, or the workers (not the supervisor).
        self.worker_pids: list[int] = []

    @property
    def log(self) -> Path:
        return self.directory / "broker.log"

    def __enter__(self) -> BrokerServer:
        self.directory.mkdir(parents=True, exist_ok=True)
        # No PUBSUB_ variable of the caller's shell leaks in: the settings are these.
        env = {k: v for k, v in os.environ.items() if not k.startswith("PUBSUB_")}
        env |= self.storage | {
            "PUBSUB_SERVER_PORT": str(self.port),
            "PUBSUB_GRPC_PORT": str(self.grpc_port),
            "PUBSUB_METRICS_PORT": "0",
            "PUBSUB_LOG_ACCESS": "false",
            # Workers say they listen (with their pid) at INFO; with the access log off that
            # is a few lines at start.
            "PUBSUB_LOG_LEVEL": "WARNING" if self.workers == 1 else "INFO",
        }
        command = [sys.executable, "-m", "pubsubgo", "--host", "127.0.0.1"]
        if self.workers > 1:
            command += ["--workers", str(self.workers)]
        self._spawn(command, self.log, env)
        wait_until(self._healthy, f"the broker on {self.url}")
        if self.workers > 1:
            # /readyz answered by one worker says nothing of the others.
            wait_until(self._all_listening, f"{self.workers} workers on {self.url}")
        else:
            self.worker_pids = [self.pid]
        return self

    def _all_listening(self) -> bool:
        text = self.log.read_text(errors="replace")
        self.worker_pids = [int(pid) for pid in _WORKER_READY.findall(text)]
        return len(self.worker_pids) == self.workers

    def _healthy(self) -> bool:
        if self.process is not None and self.process.poll() is not None:
            log = self.log.read_text(errors="replace")[-2000:]
            raise RuntimeError(f"the broker exited with {self.process.returncode}:\n{log}")
        try:
            with urllib.request.urlopen(f"{self.url}/readyz", timeout=1) as response:
                return bool(response.status == 200)
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            return False
