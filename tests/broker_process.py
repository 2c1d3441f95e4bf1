"""A real ``pubsubgo-server`` subprocess (memory storage) for client and CLI tests.

Like ``tests/e2e/conftest.py``, but synchronous, so that one broker can serve a whole
session, and restartable on the same port (reconnection tests).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")

#: How long the server may take to answer /healthz, and to stop after SIGTERM.
START_DEADLINE_SECONDS = 15.0
STOP_DEADLINE_SECONDS = 15.0
#: How often a condition is polled while waiting for it.
POLL_INTERVAL_SECONDS = 0.05


def free_port() -> int:
    """A TCP port nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def unique(prefix: str) -> str:
    """A topic or subscription name no other test uses (the broker lives for a session)."""
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def wait_for(
    check: Callable[[], T | None], what: str, deadline: float = START_DEADLINE_SECONDS
) -> T:
    """Poll ``check`` until it returns something other than None; fail after ``deadline``."""
    give_up = time.monotonic() + deadline
    while time.monotonic() < give_up:
        found = check()
        if found is not None:
            return found
        time.sleep(POLL_INTERVAL_SECONDS)
    raise AssertionError(f"{what} did not happen within {deadline} s")


async def eventually(
    check: Callable[[], Awaitable[T | None]], what: str, deadline: float = START_DEADLINE_SECONDS
) -> T:
    """Await ``check`` until it returns something other than None; fail after ``deadline``."""
    loop = asyncio.get_running_loop()
    give_up = loop.time() + deadline
    while loop.time() < give_up:
        found = await check()
        if found is not None:
            return found
        await asyncio.sleep(POLL_INTERVAL_SECONDS)
    raise AssertionError(f"{what} did not happen within {deadline} s")


class BrokerProcess:
    """``python -m pubsubgo`` on 127.0.0.1, its log in ``workdir``; memory storage unless
    ``settings`` (``PUBSUB_`` variables) say otherwise."""

    def __init__(
        self,
        workdir: Path,
        port: int | None = None,
        settings: dict[str, str] | None = None,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        self.workdir = workdir
        self.settings = settings or {}
        self.port = port or free_port()
        #: With ``tls`` (the client side, trusting the server's certificate) the broker is
        #: reached over https.
        self.tls = tls
        self.url = f"{'https' if tls else 'http'}://127.0.0.1:{self.port}"
        self._process: subprocess.Popen[bytes] | None = None
        self._log = workdir / f"broker-{self.port}.log"

    def start(self) -> None:
        """Start the server and wait until ``/healthz`` answers."""
        # The CLI's PUBSUB_SERVER/PUBSUB_TOKEN would be read as server settings: keep the
        # broker's environment free of every PUBSUB_ variable the test run may carry.
        env = {k: v for k, v in os.environ.items() if not k.startswith("PUBSUB_")}
        env |= {
            "PUBSUB_SERVER_SHUTDOWN_TIMEOUT_SECONDS": "2",
            "PUBSUB_METRICS_ENABLED": "false",
            "PUBSUB_GRPC_PORT": "0",
            "PUBSUB_LOG_LEVEL": "WARNING",
            **self.settings,
        }
        command = [
            sys.executable,
            "-m",
            "pubsubgo",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
        ]
        with self._log.open("ab") as log:
            self._process = subprocess.Popen(
                command, cwd=self.workdir, env=env, stdout=log, stderr=subprocess.STDOUT
            )
        wait_for(self._healthy, f"the broker answering on {self.url}")

    def _healthy(self) -> bool | None:
        assert self._process is not None
        if self._process.poll() is not None:
            raise AssertionError(
                f"the broker exited with {self._process.returncode}:\n{self.log()}"
            )
        try:
            healthz = f"{self.url}/healthz"
            with urllib.request.urlopen(healthz, timeout=1, context=self.tls) as response:
                return True if response.status == 200 else None
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            return None  # not listening yet

    def kill(self) -> None:
        """Kill the server at once (SIGKILL): no goodbye to its clients."""
        self._end(signal.SIGKILL)

    def stop(self) -> None:
        """Stop the server gracefully (SIGTERM), killing it if it does not stop in time."""
        self._end(signal.SIGTERM)

    def log(self) -> str:
        """What the server has logged."""
        return self._log.read_text(errors="replace") if self._log.exists() else ""

    def _end(self, how: signal.Signals) -> None:
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(how)
        try:
            process.wait(timeout=STOP_DEADLINE_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextlib.contextmanager
def running_broker(workdir: Path, settings: dict[str, str]) -> Iterator[BrokerProcess]:
    """A broker with ``settings`` (``PUBSUB_`` variables), started, and killed at the end."""
    process = BrokerProcess(workdir, settings=settings)
    process.start()
    try:
        yield process
    finally:
        process.kill()
