"""``--workers``: a supervisor and its broker processes sharing one port on one Redis."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.broker_process import eventually, free_port, unique, wait_for
from tests.redis.servers import RedisServer

pytestmark = [pytest.mark.e2e, pytest.mark.redis]

WORKERS = 2
#: How long the supervisor may take to stop after SIGTERM (workers drain for 2 s at most).
STOP_DEADLINE_SECONDS = 15.0
#: Workers get SIGTERM when the supervisor dies, and drain like on any other SIGTERM.
ORPHAN_DEADLINE_SECONDS = 15.0
#: Requests, each over a new connection; the kernel hashes each one to a worker.
FRESH_CONNECTIONS = 40
_READY = re.compile(r"listening on http://\S+ \(storage: redis; worker (\d+) of \d+, pid (\d+)\)")
_HEALTHZ_COUNT = re.compile(
    r'^pubsubgo_http_requests_total\{method="GET",route="/healthz",status="200"\} (\S+)$', re.M
)


class Supervisor:
    """``python -m pubsubgo --workers N`` on 127.0.0.1, its log in a file."""

    def __init__(self, workdir: Path, redis_url: str, workers: int = WORKERS) -> None:
        self.port = free_port()
        self.metrics_port = _free_port_pair(avoid=self.port)
        self.url = f"http://127.0.0.1:{self.port}"
        self.workers = workers
        self._log = workdir / f"supervisor-{self.port}.log"
        env = {k: v for k, v in os.environ.items() if not k.startswith("PUBSUB_")} | {
            "PUBSUB_GRPC_PORT": "0",
            "PUBSUB_STORAGE_BACKEND": "redis",
            "PUBSUB_REDIS_URL": redis_url,
            "PUBSUB_SERVER_SHUTDOWN_TIMEOUT_SECONDS": "2",
            "PUBSUB_METRICS_PORT": str(self.metrics_port),
            "PUBSUB_LOG_ACCESS": "false",
        }
        command = [sys.executable, "-m", "pubsubgo", "--host", "127.0.0.1"]
        command += ["--port", str(self.port), "--workers", str(workers)]
        with self._log.open("ab") as log:
            self.process = subprocess.Popen(
                command, cwd=workdir, env=env, stdout=log, stderr=subprocess.STDOUT
            )

    def wait_ready(self) -> dict[int, int]:
        """Wait until every worker said it listens; their pids by worker number."""
        return wait_for(self._ready, f"{self.workers} workers listening on {self.url}")

    def _ready(self) -> dict[int, int] | None:
        if self.process.poll() is not None:
            raise AssertionError(
                f"the supervisor exited with {self.process.returncode}:\n{self.log()}"
            )
        ready = {int(n): int(pid) for n, pid in _READY.findall(self.log())}
        return ready if len(ready) == self.workers else None

    def metrics_url(self, number: int) -> str:
        """Worker ``number``'s own metrics port (``metrics.port + index``)."""
        return f"http://127.0.0.1:{self.metrics_port + number - 1}/metrics"

    def log(self) -> str:
        return self._log.read_text(errors="replace")

    def stop(self) -> int:
        """SIGTERM, then the exit code (SIGKILL and fail if it does not stop in time)."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(STOP_DEADLINE_SECONDS)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            pytest.fail(f"the supervisor did not stop within {STOP_DEADLINE_SECONDS} s")


def _free_port_pair(avoid: int) -> int:
    """A port that is free, with the next one free too (one metrics port per worker)."""

    def pair() -> int | None:
        port = free_port()
        if avoid in (port, port + 1) or port + 1 > 65535:
            return None
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port + 1))
            except OSError:
                return None
        return port

    return wait_for(pair, "two consecutive free ports")


def _gone(pid: int) -> bool:
    """True when ``pid`` no longer runs (a zombie waiting for init counts as gone)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            state = stat.read().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return True
    return state in ("Z", "X")


def _parent(pid: int) -> int:
    with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
        return int(stat.read().rsplit(")", 1)[1].split()[1])


@pytest.fixture
def supervisor(redis_server: RedisServer, tmp_path: Path) -> Iterator[Supervisor]:
    started = Supervisor(tmp_path, redis_server.url)
    try:
        started.wait_ready()
        yield started
    finally:
        if started.process.poll() is None:
            started.process.kill()
            started.process.wait()


async def _healthz_counts(http: aiohttp.ClientSession, supervisor: Supervisor) -> list[float]:
    """How many /healthz requests each worker has answered, from its own metrics port."""
    counts = []
    for number in range(1, supervisor.workers + 1):
        async with http.get(supervisor.metrics_url(number)) as response:
            found = _HEALTHZ_COUNT.search(await response.text())
        counts.append(float(found.group(1)) if found else 0.0)
    return counts


@asynccontextmanager
async def _pinned(supervisor: Supervisor, number: int) -> AsyncIterator[aiohttp.ClientSession]:
    """A session whose one kept-alive connection was accepted by worker ``number``."""
    async with aiohttp.ClientSession() as scrapes:

        async def candidate() -> aiohttp.ClientSession | None:
            session = aiohttp.ClientSession(
                base_url=supervisor.url, connector=aiohttp.TCPConnector(limit=1)
            )
            before = await _healthz_counts(scrapes, supervisor)
            async with session.get("/healthz") as response:
                assert response.status == 200
            after = await _healthz_counts(scrapes, supervisor)
            if after[number - 1] > before[number - 1]:
                return session
            await session.close()
            return None

        session = await eventually(candidate, f"a connection to worker {number}")
    async with session:
        yield session


class TestServing:
    async def test_new_connections_to_the_one_port_reach_every_worker(
        self, supervisor: Supervisor
    ) -> None:
        # Given a supervisor whose workers all said they listen, each in a process of its own
        pids = supervisor.wait_ready()
        assert len(set(pids.values())) == WORKERS
        assert {_parent(pid) for pid in pids.values()} == {supervisor.process.pid}
        # When requests arrive over as many new connections
        connector = aiohttp.TCPConnector(force_close=True)
        async with aiohttp.ClientSession(connector=connector) as http:
            for _ in range(FRESH_CONNECTIONS):
                async with http.get(f"{supervisor.url}/healthz") as response:
                    assert response.status == 200
            # Then every worker answered some, as its own metrics port shows
            counts = await _healthz_counts(http, supervisor)
        assert all(count > 0 for count in counts), counts
        assert sum(counts) == FRESH_CONNECTIONS

    async def test_a_message_published_through_one_worker_is_pulled_through_the_other(
        self, supervisor: Supervisor
    ) -> None:
        topic, subscription = unique("workers"), unique("workers-sub")
        async with _pinned(supervisor, 1) as first, _pinned(supervisor, 2) as second:
            # Given a topic and a subscription, made through the first worker
            await _expect(first.post("/v1/topics", json={"name": topic}), 201)
            body = {"name": subscription, "topic": topic}
            await _expect(first.post("/v1/subscriptions", json=body), 201)
            # When a message is published through the first worker
            message = {"messages": [{"data": "across workers"}]}
            published = await _expect(first.post(f"/v1/topics/{topic}/messages", json=message), 201)
            # Then the second worker delivers it, and takes its ack
            pull = {"max_messages": 10, "wait_seconds": 5}
            pulled = await _expect(second.post(f"/v1/subscriptions/{subscription}/pull", json=pull))
            [delivered] = pulled["messages"]
            assert (delivered["id"], delivered["data"]) == (published["ids"][0], "across workers")
            ack = {"ack_ids": [delivered["ack_id"]]}
            acked = await _expect(second.post(f"/v1/subscriptions/{subscription}/ack", json=ack))
            assert acked["acked"] == 1


async def _expect(request: Any, status: int = 200) -> Any:
    async with request as response:
        assert response.status == status, await response.text()
        return await response.json()


class TestStopping:
    def test_sigterm_stops_every_worker_and_the_supervisor_exits_0(
        self, supervisor: Supervisor
    ) -> None:
        # Given running workers
        pids = supervisor.wait_ready().values()
        # When the supervisor gets SIGTERM
        code = supervisor.stop()
        # Then it exits 0 once every worker has drained and exited
        assert code == 0, supervisor.log()
        assert all(_gone(pid) for pid in pids)
        assert "stopping 2 worker(s) on SIGTERM" in supervisor.log()

    def test_a_killed_supervisor_leaves_no_worker_running(self, supervisor: Supervisor) -> None:
        # Given running workers
        pids = list(supervisor.wait_ready().values())
        # When the supervisor is killed without a chance to stop them
        supervisor.process.kill()
        supervisor.process.wait()
        # Then every worker exits by itself
        wait_for(
            lambda: True if all(_gone(pid) for pid in pids) else None,
            "every worker exiting",
            ORPHAN_DEADLINE_SECONDS,
        )

    def test_a_worker_that_dies_stops_the_others_and_the_supervisor_exits_1(
        self, supervisor: Supervisor
    ) -> None:
        # Given running workers
        pids = supervisor.wait_ready()
        # When one of them dies unexpectedly
        os.kill(pids[1], signal.SIGKILL)
        # Then the others are stopped and the supervisor reports the failure
        code = supervisor.process.wait(STOP_DEADLINE_SECONDS)
        assert code == 1
        assert _gone(pids[2])
        assert f"worker 1 (pid {pids[1]}) exited with -9" in supervisor.log()


class TestStarting:
    def test_a_port_already_listened_on_stops_the_supervisor_before_any_worker(
        self, redis_server: RedisServer, tmp_path: Path
    ) -> None:
        # Given a port something else listens on (without SO_REUSEPORT)
        with socket.socket() as taken:
            taken.bind(("127.0.0.1", 0))
            taken.listen()
            port = taken.getsockname()[1]
            env = {k: v for k, v in os.environ.items() if not k.startswith("PUBSUB_")}
            env |= {"PUBSUB_GRPC_PORT": "0"}
            env |= {"PUBSUB_STORAGE_BACKEND": "redis", "PUBSUB_REDIS_URL": redis_server.url}
            # When two workers are to share it
            done = subprocess.run(
                [sys.executable, "-m", "pubsubgo", "--host", "127.0.0.1", "--port", str(port)]
                + ["--workers", "2"],
                cwd=tmp_path,
                env=env,
                capture_output=True,
                text=True,
                timeout=STOP_DEADLINE_SECONDS,
            )
        # Then the supervisor says so and exits 1, without joining the port
        assert done.returncode == 1, done.stderr
        assert f"cannot listen on 127.0.0.1:{port}" in done.stderr
        assert "supervising" not in done.stderr

    def test_one_broker_on_a_port_already_listened_on_says_so_in_one_line(
        self, tmp_path: Path
    ) -> None:
        with socket.socket() as taken:
            taken.bind(("127.0.0.1", 0))
            taken.listen()
            port = taken.getsockname()[1]
            env = {k: v for k, v in os.environ.items() if not k.startswith("PUBSUB_")}
            env |= {"PUBSUB_GRPC_PORT": "0"}
            env |= {"PUBSUB_METRICS_PORT": "0", "PUBSUB_LOG_LEVEL": "WARNING"}
            done = subprocess.run(
                [sys.executable, "-m", "pubsubgo", "--host", "127.0.0.1", "--port", str(port)],
                cwd=tmp_path,
                env=env,
                capture_output=True,
                text=True,
                timeout=STOP_DEADLINE_SECONDS,
            )
        assert done.returncode == 1, done.stderr
        [line] = done.stderr.strip().splitlines()
        assert line.startswith(f"cannot listen on 127.0.0.1:{port} for the API (server.port")
        assert line.endswith("address already in use")


class TestConfiguration:
    def test_memory_storage_with_two_workers_is_a_configuration_error(self, tmp_path: Path) -> None:
        # Given the memory backend, which lives in one process
        env = {k: v for k, v in os.environ.items() if not k.startswith("PUBSUB_")}
        env |= {"PUBSUB_GRPC_PORT": "0"}
        env |= {"PUBSUB_STORAGE_BACKEND": "memory", "PUBSUB_SERVER_WORKERS": "2"}
        # When the server starts with two workers
        done = subprocess.run(
            [sys.executable, "-m", "pubsubgo", "--port", str(free_port())],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=STOP_DEADLINE_SECONDS,
        )
        # Then it refuses with exit code 2 and one line naming the setting and its source
        assert done.returncode == 2
        assert done.stderr.count("\n") == 1, done.stderr
        assert done.stderr.startswith("config error: server.workers: 2 workers need")
        assert "(from PUBSUB_SERVER_WORKERS)" in done.stderr

    def test_worker_metrics_ports_that_would_take_the_api_port_are_a_configuration_error(
        self, tmp_path: Path
    ) -> None:
        # Given metrics on 9092, which two workers turn into 9092 and 9093
        env = {k: v for k, v in os.environ.items() if not k.startswith("PUBSUB_")}
        env |= {"PUBSUB_GRPC_PORT": "0"}
        env |= {"PUBSUB_STORAGE_BACKEND": "redis", "PUBSUB_METRICS_PORT": "9092"}
        # When the API port is 9093
        done = subprocess.run(
            [sys.executable, "-m", "pubsubgo", "--port", "9093", "--workers", "2"],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=STOP_DEADLINE_SECONDS,
        )
        # Then the server refuses to start, naming the setting
        assert done.returncode == 2
        assert done.stderr.startswith("config error: metrics.port: 2 workers serve metrics on")
        assert done.stderr.count("\n") == 1, done.stderr
