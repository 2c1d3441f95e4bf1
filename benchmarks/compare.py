"""Before and after: the same workloads on a baseline source tree and on this one, in turns.

Run: ``python -m benchmarks.compare --baseline-src DIR [--rounds N] [run options...]``

Each round runs ``benchmarks.run --runs 1`` twice, back to back: the broker from
``--baseline-src`` (a checkout's ``src/``, e.g. ``git archive main src | tar -x -C DIR``),
then the installed one; any other option goes to both. On a shared machine the load moves
from minute to minute, so the two sides alternate rather than one running after the other,
and the table gives each metric's median over the rounds, its range, and after ÷ before.
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

#: What each side is called in the table.
SIDES = ("before", "after")


def _arguments() -> tuple[argparse.Namespace, list[str]]:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--baseline-src", type=Path, required=True, help="the baseline's src/")
    parser.add_argument("--rounds", type=int, default=3, help="before/after pairs (3)")
    parser.add_argument("--json", type=Path, help="also write every measurement here")
    return parser.parse_known_args()


def _run(options: list[str], source: Path | None, out: Path) -> dict[str, Any]:
    command = [sys.executable, "-m", "benchmarks.run", "--runs", "1", "--json", str(out)]
    command += options
    if source is not None:
        command += ["--broker-src", str(source)]
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    document: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
    return document


def _collect(
    runs: dict[str, list[dict[str, Any]]],
) -> dict[tuple[str, str], dict[str, list[float]]]:
    """(workload, metric) -> side -> the value of each round (CPU shares included)."""
    found: dict[tuple[str, str], dict[str, list[float]]] = {}
    for side, documents in runs.items():
        for document in documents:
            for row in document["rows"]:
                if row["system"] != "pubsubgo":
                    continue
                [run] = row["runs"]
                values = run["metrics"] | {f"{r} CPU %": v for r, v in run["cpu_percent"].items()}
                for metric, value in values.items():
                    sides = found.setdefault((row["workload"], metric), {s: [] for s in SIDES})
                    sides[side].append(value)
    return found


def _cell(values: list[float]) -> str:
    values = [v for v in values if not math.isnan(v)]
    if not values:
        return "-"
    return f"{statistics.median(values):,.2f} ({min(values):,.2f}–{max(values):,.2f})"


def _ratio(before: list[float], after: list[float]) -> str:
    b = [v for v in before if not math.isnan(v)]
    a = [v for v in after if not math.isnan(v)]
    if not a or not b or not statistics.median(b):
        return "-"
    return f"{statistics.median(a) / statistics.median(b):.2f}"


def table(found: dict[tuple[str, str], dict[str, list[float]]], rounds: int) -> str:
    """One line per workload and metric: median (min–max) before and after, and the ratio."""
    cells = [["workload", "metric", "before", "after", "after ÷ before"]]
    for (workload, metric), sides in found.items():
        before, after = sides["before"], sides["after"]
        cells.append([workload, metric, _cell(before), _cell(after), _ratio(before, after)])
    widths = [max(len(line[i]) for line in cells) for i in range(len(cells[0]))]
    lines = [f"medians (min–max) of {rounds} alternating round(s)"]
    lines += ["  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)) for line in cells]
    return "\n".join(lines)


def main() -> None:
    args, options = _arguments()
    runs: dict[str, list[dict[str, Any]]] = {side: [] for side in SIDES}
    with tempfile.TemporaryDirectory(prefix="pubsubgo-compare-") as scratch:
        for number in range(1, args.rounds + 1):
            for side, source in zip(SIDES, (args.baseline_src, None), strict=True):
                out = Path(scratch) / f"{side}-{number}.json"
                runs[side].append(_run(options, source, out))
                print(f"round {number}/{args.rounds}: {side} done", flush=True)
    print(table(_collect(runs), args.rounds))
    print("machine: " + ", ".join(f"{k} {v}" for k, v in runs["after"][0]["machine"].items()))
    if args.json:
        args.json.write_text(json.dumps(runs, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
