"""Private redis-server processes for tests: free ports, temp dirs, kill -9 and restart.

Never the shared server on 6379: every server here listens on a free port of 127.0.0.1.
"""

from __future__ import annotations

import ctypes
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

import pytest

from pubsubgo.adapters.redis import build_client, redis_storage
from pubsubgo.adapters.redis.scripts import RedisClient
from pubsubgo.ports.storage import Storage
from redis import Redis, RedisError

#: The one line a missing binary fails with (CI installs it; nothing is skipped).
INSTALL_HINT = "redis-server not found on PATH: apt-get install redis-server"
#: How long a server may take to answer after start (loading an AOF included).
START_DEADLINE_SECONDS = 20.0
#: Poll interval while waiting for a condition with a deadline.
POLL_SECONDS = 0.02
#: prctl option: the signal a child gets when its parent dies.
PR_SET_PDEATHSIG = 1
#: Without persistence: the default for the contract suite.
EPHEMERAL = ("--save", "", "--appendonly", "no")
#: The durable variant: fsync the AOF before answering.
AOF_ALWAYS = ("--save", "", "--appendonly", "yes", "--appendfsync", "always")


def binary(name: str = "redis-server") -> str:
    """The path of ``name``, or fail the test with the install hint."""
    path = shutil.which(name)
    if path is None:
        pytest.fail(INSTALL_HINT, pytrace=False)
    return path


def free_port(*, with_bus: bool = False) -> int:
    """A TCP port nobody listens on (and, for cluster nodes, its bus port + 10000 too)."""
    while True:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = int(probe.getsockname()[1])
        if not with_bus or (port < 55000 and _bindable(port + 10000)):
            return port


def wait_for(condition: Callable[[], bool], deadline_seconds: float, what: str) -> None:
    """Poll ``condition`` until it holds, failing the test after the deadline."""
    give_up = time.monotonic() + deadline_seconds
    while not condition():
        if time.monotonic() > give_up:
            pytest.fail(f"gave up waiting for {what} after {deadline_seconds} s", pytrace=False)
        time.sleep(POLL_SECONDS)


class RedisServer:
    """One redis-server child process in its own directory.

    Args:
        directory: its working directory (AOF and cluster files live there).
        options: extra command-line options (persistence, cluster mode).
    """

    def __init__(self, directory: Path, options: tuple[str, ...] = EPHEMERAL) -> None:
        self.directory = directory
        self.options = options
        self.port = free_port(with_bus="--cluster-enabled" in options)
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}"

    def start(self) -> None:
        command = [binary(), "--port", str(self.port), "--bind", "127.0.0.1"]
        command += ["--dir", str(self.directory), "--logfile", "redis.log", *self.options]
        self._process = subprocess.Popen(
            command, stdout=subprocess.DEVNULL, preexec_fn=_die_with_parent
        )
        wait_for(self.answers, START_DEADLINE_SECONDS, f"redis-server on {self.port}")

    def answers(self) -> bool:
        """True when the server answers PING (not while it is still loading its AOF)."""
        try:
            with self.client(socket_timeout=0.5) as client:
                return bool(client.ping())
        except RedisError:
            return False

    def client(self, **options: Any) -> Redis:
        """A synchronous client, for setting up and inspecting (never the code under test)."""
        return Redis(host="127.0.0.1", port=self.port, **options)

    def kill(self) -> None:
        """kill -9: no shutdown, no final fsync."""
        if self._process is not None:
            self._process.kill()
            self._process.wait()
            self._process = None

    def stop(self) -> None:
        if self._process is not None:
            self._process.terminate()
            self._process.wait()
            self._process = None

    def pause(self) -> None:
        """SIGSTOP: the server keeps its connections but answers nothing."""
        if self._process is not None:
            self._process.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        if self._process is not None:
            self._process.send_signal(signal.SIGCONT)

    def flush(self) -> None:
        with self.client() as client:
            client.flushall()


class RedisClusterServers:
    """A local cluster of three masters without replicas, each in its own directory."""

    def __init__(self, directory: Path, masters: int = 3) -> None:
        options: tuple[str, ...] = (
            "--cluster-enabled",
            "yes",
            "--cluster-config-file",
            "nodes.conf",
        )
        options += ("--cluster-node-timeout", "5000", *EPHEMERAL)
        self.nodes = []
        for index in range(masters):
            (directory / f"node{index}").mkdir()
            self.nodes.append(RedisServer(directory / f"node{index}", options))

    @property
    def url(self) -> str:
        return f"redis+cluster://127.0.0.1:{self.nodes[0].port}"

    def start(self) -> None:
        for node in self.nodes:
            node.start()
        addresses = [f"127.0.0.1:{node.port}" for node in self.nodes]
        subprocess.run(
            [binary("redis-cli"), "--cluster", "create", *addresses]
            + ["--cluster-replicas", "0", "--cluster-yes"],
            check=True,
            stdout=subprocess.DEVNULL,
            timeout=START_DEADLINE_SECONDS,
        )
        wait_for(self._ok, START_DEADLINE_SECONDS, "cluster_state:ok on every node")

    def _ok(self) -> bool:
        for node in self.nodes:
            with node.client() as client:
                if client.execute_command("CLUSTER", "INFO").find(b"cluster_state:ok") < 0:
                    return False
        return True

    def stop(self) -> None:
        for node in self.nodes:
            node.stop()

    def flush(self) -> None:
        for node in self.nodes:
            node.flush()


@asynccontextmanager
async def storage_on(
    url: str, client_options: dict[str, Any] | None = None, **options: Any
) -> AsyncIterator[Storage]:
    """A Redis storage (``options`` for ``redis_storage``) on a fresh client for ``url``
    (``client_options`` for ``build_client``), closed afterwards."""
    client: RedisClient = build_client(url, **(client_options or {}))
    storage = redis_storage(client, **options)
    try:
        yield storage
    finally:
        await storage.aclose()
        await client.aclose()


def _die_with_parent() -> None:
    """In the child before exec: on Linux, get SIGKILL when the test process dies, so that a
    killed test run leaves no server behind (finalizers do not run then)."""
    if sys.platform == "linux":
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


def _bindable(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


@contextmanager
def running(server: RedisServer) -> Iterator[RedisServer]:
    """``server`` started in its directory (made if missing), stopped on leaving."""
    server.directory.mkdir(parents=True, exist_ok=True)
    server.start()
    try:
        yield server
    finally:
        server.stop()
