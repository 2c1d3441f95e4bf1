"""The test run on a machine without redis-server or promtool: the tests that need them
skip with the package to install, unless PUBSUB_TEST_REQUIRE_SERVERS (set by .ci/run)
makes that a failure. Each case runs pytest in a subprocess whose PATH holds none of them."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import REQUIRE_BINARIES

ROOT = Path(__file__).resolve().parents[2]
#: Tests marked ``redis`` and ``promtool``, and one that needs neither.
REDIS_TESTS = "tests/redis/test_dedup.py"
PROMTOOL_TEST = (
    "tests/integration/test_observability.py::TestMetricsEndpoint::test_the_scrape_passes_promtool"
)
PLAIN_TEST = "tests/unit/test_core_rules.py"
#: A pytest run takes a few seconds; this bounds a hung one.
DEADLINE_SECONDS = 60


def run_pytest(tmp_path: Path, *targets: str, require: bool) -> subprocess.CompletedProcess[str]:
    """pytest on ``targets`` with an empty directory as PATH."""
    env = {k: v for k, v in os.environ.items() if k != REQUIRE_BINARIES}
    env["PATH"] = str(tmp_path)
    if require:
        env[REQUIRE_BINARIES] = "1"
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "-rs", *targets],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=DEADLINE_SECONDS,
        check=False,
    )


def test_without_the_binaries_their_tests_skip_naming_the_package(tmp_path: Path) -> None:
    done = run_pytest(tmp_path, REDIS_TESTS, PROMTOOL_TEST, PLAIN_TEST, require=False)

    assert done.returncode == 0, done.stdout + done.stderr
    summary = done.stdout.splitlines()[-1]
    assert " passed" in summary, summary
    assert " skipped" in summary, summary
    assert "failed" not in summary, summary
    assert "error" not in summary, summary
    assert "redis-server, redis-cli not on PATH: apt-get install redis-server" in done.stdout
    assert "promtool not on PATH: apt-get install prometheus" in done.stdout


def test_when_required_a_missing_binary_fails_the_run(tmp_path: Path) -> None:
    done = run_pytest(tmp_path, REDIS_TESTS, PLAIN_TEST, require=True)

    assert done.returncode not in (0, 5), done.stdout + done.stderr
    assert "apt-get install redis-server" in done.stderr
    assert "skipped" not in done.stdout


def test_when_required_a_run_that_needs_no_binary_still_passes(tmp_path: Path) -> None:
    done = run_pytest(tmp_path, PLAIN_TEST, require=True)

    assert done.returncode == 0, done.stdout + done.stderr
