"""The benchmark command runs end to end (its in-process workload only: seconds, no servers)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

#: The quick engine run takes a few seconds; this bounds a hung one.
DEADLINE_SECONDS = 25


def test_the_quick_engine_benchmark_prints_its_table_and_writes_its_json(tmp_path: Path) -> None:
    # Given the repository root, where `python -m benchmarks.run` is run from
    root = Path(__file__).resolve().parents[2]
    output = tmp_path / "bench.json"

    # When the quick benchmark runs the in-process engine workload alone
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "benchmarks.run",
            "--quick",
            "--only",
            "engine",
            "--json",
            str(output),
        ],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=DEADLINE_SECONDS,
        check=False,
    )

    # Then it succeeds, prints the engine's row and records every run in the JSON
    assert done.returncode == 0, done.stderr
    assert "in-process engine" in done.stdout
    [row] = json.loads(output.read_text())["rows"]
    assert row["system"] == "pubsubgo"
    assert len(row["runs"]) == 2
    assert row["median"]["msg/s"] > 0
