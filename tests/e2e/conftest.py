"""A real ``pubsubgo-server`` process on a free port, ready when its /healthz answers."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest

from tests.broker_process import eventually

#: How long the server may take to start answering, and to stop after SIGTERM.
START_DEADLINE_SECONDS = 15.0
STOP_DEADLINE_SECONDS = 15.0


@dataclass
class RunningServer:
    """A started server: its base URL and its process."""

    url: str
    process: subprocess.Popen[str]
    metrics_url: str = ""
    terminated: bool = False

    def terminate(self) -> None:
        """Send SIGTERM once (a second one would cut the graceful shutdown short)."""
        if not self.terminated and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        self.terminated = True

    def stop(self) -> tuple[int, str]:
        """SIGTERM, then the exit code and everything the server logged."""
        self.terminate()
        try:
            _, log = self.process.communicate(timeout=STOP_DEADLINE_SECONDS)
        except subprocess.TimeoutExpired:
            self.process.kill()
            _, log = self.process.communicate()
            pytest.fail(f"the server did not stop within {STOP_DEADLINE_SECONDS} s:\n{log}")
        return self.process.returncode, log


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def start_server(workdir: Path, *args: str) -> RunningServer:
    """Start the installed ``pubsubgo-server`` on a free port, with no PUBSUB_ variable of
    the caller's shell and no config file; ``args`` are more command-line options."""
    executable = shutil.which("pubsubgo-server")
    if executable is None:
        pytest.fail("pubsubgo-server is not on PATH: install the project with pip install -e .")
    port, metrics_port = free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PUBSUB_")}
    process = subprocess.Popen(
        [executable, "--host", "127.0.0.1", "--port", str(port), *args],
        cwd=workdir,
        env=env
        | {
            "PUBSUB_SERVER_SHUTDOWN_TIMEOUT_SECONDS": "5",
            "PUBSUB_METRICS_PORT": str(metrics_port),
            "PUBSUB_GRPC_PORT": "0",
        },
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    return RunningServer(
        f"http://127.0.0.1:{port}", process, f"http://127.0.0.1:{metrics_port}/metrics"
    )


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[RunningServer]:
    running = start_server(tmp_path)
    try:
        await wait_until_healthy(running)
        yield running
    finally:
        running.stop()


async def wait_until_healthy(running: RunningServer) -> None:
    """Wait for ``/healthz`` to answer; fail with the server's log if it exits first."""
    async with aiohttp.ClientSession() as http:

        async def healthy() -> bool | None:
            if running.process.poll() is not None:
                _, log = running.process.communicate()
                pytest.fail(f"the server exited with {running.process.returncode}:\n{log}")
            try:
                async with http.get(f"{running.url}/healthz") as response:
                    return True if response.status == 200 else None
            except aiohttp.ClientConnectionError:
                return None  # not listening yet

        await eventually(healthy, "the server answering /healthz", START_DEADLINE_SECONDS)
