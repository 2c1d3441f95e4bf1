"""A broker subprocess whose memory can be read, and the figures the fault tests print."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from tests.broker_process import free_port, wait_for

#: How long the broker may take to stop after SIGTERM before it is killed.
STOP_SECONDS = 10.0


@dataclass(frozen=True, slots=True)
class Memory:
    """A process's resident memory, from ``/proc/<pid>/status``, in MiB."""

    rss_mib: float
    peak_mib: float

    @classmethod
    def of(cls, pid: int) -> Memory:
        fields = dict(
            line.split(":", 1)
            for line in Path(f"/proc/{pid}/status").read_text().splitlines()
            if ":" in line
        )

        def mib(name: str) -> float:
            return int(fields[name].split()[0]) / 1024  # the kernel writes kB

        return cls(mib("VmRSS"), mib("VmHWM"))


@dataclass
class Broker:
    """``python -m pubsubgo`` on 127.0.0.1 (memory storage), its log in ``workdir``."""

    workdir: Path
    settings: dict[str, str] = field(default_factory=dict)
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        assert self.process is not None, "the broker is not running"
        return self.process.pid

    def memory(self) -> Memory:
        """The broker's resident memory now, and its peak so far."""
        return Memory.of(self.pid)

    def start(self) -> None:
        """Start it and wait until ``/healthz`` answers."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("PUBSUB_")}
        env |= {"PUBSUB_METRICS_ENABLED": "false", "PUBSUB_LOG_LEVEL": "WARNING"}
        env |= {"PUBSUB_GRPC_PORT": "0"}
        env |= {"PUBSUB_SERVER_SHUTDOWN_TIMEOUT_SECONDS": "2", **self.settings}
        command = [sys.executable, "-m", "pubsubgo", "--host", "127.0.0.1"]
        with (self.workdir / "broker.log").open("ab") as log:
            self.process = subprocess.Popen(
                [*command, "--port", str(self.port)],
                cwd=self.workdir,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        wait_for(self._healthy, f"the broker answering on {self.url}")

    def stop(self) -> None:
        """SIGTERM, then SIGKILL if it does not stop in time."""
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=STOP_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def log(self) -> str:
        path = self.workdir / "broker.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def _healthy(self) -> bool | None:
        assert self.process is not None
        if self.process.poll() is not None:
            raise AssertionError(f"the broker exited with {self.process.returncode}:\n{self.log()}")
        try:
            with urllib.request.urlopen(f"{self.url}/healthz", timeout=1) as response:
                return True if response.status == 200 else None
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            return None  # not listening yet


def report(test: str, **figures: object) -> None:
    """Print the test's figures on one line (run pytest with ``-s`` to see them live; they
    are also in the captured output of a failure)."""
    shown = " ".join(f"{name}={value}" for name, value in figures.items())
    print(f"\n[{test}] {shown}", flush=True)
