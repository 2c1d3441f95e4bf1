"""``pubsubgo-server`` as an operator meets it: the ports it opens, and a Redis outage in its
log. The real server in a subprocess, on free ports, with a private redis-server."""

from __future__ import annotations

import json
import re
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pubsubgo.client import SyncClient
from tests.broker_process import BrokerProcess, free_port, wait_for
from tests.cli.conftest import CLI_DEADLINE_SECONDS, Result, clean_env, cli_command
from tests.redis.servers import RedisServer, running

pytestmark = pytest.mark.e2e

#: The runner retries every 5 s while storage is down: two failed rounds fit in this.
OUTAGE_ROUNDS_DEADLINE_SECONDS = 20.0
RECOVERY_DEADLINE_SECONDS = 20.0


def run_server(*args: str, env: dict[str, str], cwd: Path) -> Result:
    """``pubsubgo-server ARGS`` until it exits (it exits at once when it cannot start); no
    gRPC listener unless ``env`` asks for one."""
    env = {"PUBSUB_GRPC_PORT": "0"} | env
    return subprocess.run(
        [sys.executable, "-m", "pubsubgo", "--host", "127.0.0.1", *args],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=CLI_DEADLINE_SECONDS,
    )  # fmt: skip


def only_line(result: Result) -> str:
    """The one line the server printed before exiting, with no traceback."""
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


class TestPorts:
    def test_a_taken_metrics_port_is_named_with_its_setting(self, tmp_path: Path) -> None:
        with socket.socket() as taken:
            taken.bind(("127.0.0.1", 0))
            taken.listen()
            metrics_port = taken.getsockname()[1]
            api_port = free_port()
            env = clean_env(PUBSUB_METRICS_PORT=str(metrics_port), PUBSUB_LOG_LEVEL="WARNING")
            # When the server starts with its metrics port taken by another process
            result = run_server("--port", str(api_port), env=env, cwd=tmp_path)
        # Then it exits 1 naming that port and the setting that chose it, not the API port
        assert result.returncode == 1, result.stderr
        line = only_line(result)
        assert line.startswith(f"cannot listen on 127.0.0.1:{metrics_port} for metrics")
        assert "PUBSUB_METRICS_PORT" in line
        assert "0 = /metrics on the API port only" in line
        assert line.endswith("address already in use")
        assert str(api_port) not in line

    def test_a_taken_api_port_is_named_with_its_setting(self, tmp_path: Path) -> None:
        with socket.socket() as taken:
            taken.bind(("127.0.0.1", 0))
            taken.listen()
            api_port = taken.getsockname()[1]
            env = clean_env(PUBSUB_METRICS_PORT=str(free_port()), PUBSUB_LOG_LEVEL="WARNING")
            result = run_server("--port", str(api_port), env=env, cwd=tmp_path)
        assert result.returncode == 1, result.stderr
        line = only_line(result)
        assert line.startswith(f"cannot listen on 127.0.0.1:{api_port} for the API")
        assert "PUBSUB_SERVER_PORT" in line

    def test_the_metrics_port_equal_to_the_api_port_is_a_configuration_error(
        self, tmp_path: Path
    ) -> None:
        port = free_port()
        env = clean_env(PUBSUB_METRICS_PORT=str(port))
        result = run_server("--port", str(port), env=env, cwd=tmp_path)
        assert result.returncode == 2, result.stderr
        line = only_line(result)
        assert line.startswith("config error: metrics.port:")
        assert "server.port" in line
        assert "(from PUBSUB_METRICS_PORT)" in line


# -- a Redis outage in the log ---------------------------------------------------------------


def records(log: str) -> list[dict[str, Any]]:
    """The server's JSON log lines."""
    return [json.loads(line) for line in log.splitlines() if line.startswith("{")]


def at_least(level: str, found: list[dict[str, Any]]) -> list[dict[str, Any]]:
    order = ["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]
    return [r for r in found if order.index(r["level"]) >= order.index(level)]


@pytest.fixture
def redis(tmp_path: Path) -> Iterator[RedisServer]:
    # AOF on, so that what existed before the outage is there after it.
    with running(RedisServer(tmp_path / "redis", ("--save", "", "--appendonly", "yes"))) as server:
        yield server


@pytest.fixture
def broker(redis: RedisServer, tmp_path: Path) -> Iterator[BrokerProcess]:
    settings = {
        "PUBSUB_STORAGE_BACKEND": "redis", "PUBSUB_REDIS_URL": redis.url,
        "PUBSUB_LOG_LEVEL": "DEBUG", "PUBSUB_LOG_FORMAT": "json", "PUBSUB_LOG_ACCESS": "false",
        "PUBSUB_BROKER_DUTY_INTERVAL_SECONDS": "0.1",
        "PUBSUB_GROUPS_HEARTBEAT_INTERVAL_SECONDS": "0.5",
    }  # fmt: skip
    process = BrokerProcess(tmp_path, settings=settings)
    process.start()
    yield process  # pytest runs what follows also when the test failed
    process.stop()


def consumer(broker: BrokerProcess, subscription: str) -> subprocess.Popen[bytes]:
    """``pubsub-cli consume --follow``: a WebSocket consumer and its group heartbeats."""
    return subprocess.Popen(
        [*cli_command(), "--server", broker.url, "consume", subscription, "--follow"],
        env=clean_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip


def test_a_redis_outage_logs_one_warning_at_its_start_and_one_at_recovery(
    redis: RedisServer, broker: BrokerProcess
) -> None:
    # Given a broker on Redis with a WebSocket consumer (pushes, heartbeats)
    run = [*cli_command(), "--server", broker.url]
    setup = (["topics", "create", "orders"], ["subscriptions", "create", "s", "--topic", "orders"])
    for args in setup:
        made = subprocess.run([*run, *args], env=clean_env(), capture_output=True, text=True)
        assert made.returncode == 0, made.stderr
    listening = consumer(broker, "s")
    try:
        with SyncClient(broker.url) as admin:
            wait_for(
                lambda: True if admin.subscriptions.describe("s").members else None,
                "the consumer joining its group",
            )
        # When Redis stops for two of the runner's retry rounds, then comes back
        redis.stop()

        def failed_rounds() -> int | None:
            failed = [r for r in records(broker.log()) if _failed_round(r)]
            return len(failed) if len(failed) >= 2 else None

        wait_for(failed_rounds, "two failed rounds of duties", OUTAGE_ROUNDS_DEADLINE_SECONDS)
        redis.start()
        wait_for(
            lambda: True if "storage available again" in broker.log() else None,
            "the recovery line",
            RECOVERY_DEADLINE_SECONDS,
        )
    finally:
        listening.terminate()
        listening.wait(timeout=CLI_DEADLINE_SECONDS)

    # Then the log has exactly two lines above DEBUG about it: the start and the recovery
    found = records(broker.log())
    loud = at_least("WARNING", found)
    assert [r["message"].split(",")[0] for r in loud] == [
        "storage unavailable", "storage available again"
    ], [r["message"] for r in loud]  # fmt: skip
    assert "connecting to 127.0.0.1" in loud[0]["message"]  # the reason, in one line
    rounds = re.search(r"\((\d+) failed rounds\)", loud[1]["message"])
    assert rounds is not None
    assert int(rounds[1]) >= 2
    assert not any("exception" in r for r in loud)
    # And the detail (the traceback of every failed round) is there at debug
    details = [r for r in found if _failed_round(r)]
    assert len(details) >= 2
    assert all("BackendUnavailable" in r["exception"] for r in details)


def _failed_round(record: dict[str, Any]) -> bool:
    message = str(record["message"])
    return record["level"] == "DEBUG" and message.startswith("background duties failed")
