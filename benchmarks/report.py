"""The report: a plain-text table of medians, ranges, targets and ratios, and its JSON."""

from __future__ import annotations

import json
import math
import os
import platform
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from benchmarks.results import RATE, Row

#: CPU roles in the order the table shows them.
CPU_ROLES = ("broker", "redis", "clients")


def machine(versions: dict[str, str]) -> dict[str, str]:
    """What the numbers were measured on."""
    model = "unknown"
    with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as cpuinfo:
        for line in cpuinfo:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    info = {"cpus": str(os.cpu_count()), "cpu model": model, "python": platform.python_version()}
    return info | versions


def _number(value: float, metric: str) -> str:
    if math.isnan(value):
        return "-"
    return f"{value:,.0f}" if metric == RATE else f"{value:.2f}"


def _values(row: Row) -> tuple[str, str]:
    """The median and the min–max of each of the row's metrics."""
    medians, ranges = [], []
    for metric in row.metrics:
        values = row.values(metric)
        unit = "msg/s" if metric == RATE else "ms"
        name = "" if metric == RATE else metric.split()[0] + " "
        medians.append(f"{name}{_number(row.median(metric), metric)} {unit}")
        ranges.append(f"{_number(min(values), metric)}–{_number(max(values), metric)}")
    return " / ".join(medians), " / ".join(ranges)


def _target(row: Row) -> str:
    parts = []
    for target in row.targets:
        measured = row.median(target.metric)
        sign = "≥" if target.at_least else "≤"
        verdict = "met" if target.met_by(measured) else "missed"
        if target.metric == RATE:
            parts.append(f"{sign} {target.value:,.0f}: {verdict} ({measured / target.value:.0%})")
        else:
            parts.append(f"{target.metric.split()[0]} {sign} {target.value:g}: {verdict}")
    return "; ".join(parts)


def ratio(row: Row, baseline: Row) -> str:
    """pubsubgo ÷ baseline for each metric (for latency, above 1 is slower)."""
    found = []
    for metric in row.metrics:
        ours, theirs = row.median(metric), baseline.median(metric)
        found.append(f"{ours / theirs:.2f}" if theirs and not math.isnan(theirs) else "-")
    return "/".join(found)


def _ratio_to(row: Row, members: list[Row], system: str) -> str:
    """``row`` ÷ ``system``'s row of the same workload, or its only row in the group."""
    theirs = [r for r in members if r.system == system]
    same = [r for r in theirs if r.workload and r.workload == row.workload]
    found = same or (theirs if len(theirs) == 1 else [])
    return ratio(row, found[0]) if found else "-"


def _cpu(row: Row) -> str:
    """CPU each process spent per message (throughput rows), or its share of a core."""
    if not any(s.cpu for s in row.samples):
        return "-"
    if RATE in row.metrics:
        spent = row.cpu_per_message()
        return " ".join(f"{spent[r]:.1f}" if r in spent else "-" for r in CPU_ROLES) + " µs/msg"
    cpu = row.cpu()
    return " ".join(f"{cpu[r]:.0f}" if r in cpu else "-" for r in CPU_ROLES) + " %"


def table(rows: Iterable[Row]) -> str:
    """The rows grouped, one line each, with pubsubgo's ratio to each baseline of its group."""
    measured = [r for r in rows if r.samples]
    runs = max((len(r.samples) for r in measured), default=0)
    lines = [
        f"median and min–max of {runs} run(s); ÷ X: pubsubgo's median ÷ X's (for latency p50/p99,"
        " above 1 is slower); CPU: each process's CPU time per message (throughput) or share of"
        " one core (latency)"
    ]
    for group in dict.fromkeys(r.group for r in measured):
        members = [r for r in measured if r.group == group]
        systems = list(dict.fromkeys(r.system for r in members if r.system != "pubsubgo"))
        header = ["system", "workload", "median", "min–max", "target"]
        header += [f"÷ {system}" for system in systems] + ["CPU: broker redis clients"]
        cells = [header]
        for row in members:
            median, spread = _values(row)
            line = [row.system, row.label, median, spread, _target(row)]
            if row.system == "pubsubgo":
                line += [_ratio_to(row, members, system) for system in systems]
            else:
                line += [""] * len(systems)
            cells.append(line + [_cpu(row)])
        lines += ["", f"== {group}", *_aligned(cells)]
    return "\n".join(lines)


def _aligned(cells: list[list[str]]) -> list[str]:
    widths = [max(len(line[i]) for line in cells) for i in range(len(cells[0]))]
    return [
        "  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)).rstrip() for line in cells
    ]


def to_json(rows: Iterable[Row], info: dict[str, Any]) -> dict[str, Any]:
    """Everything measured, every run included, for tools and later comparison."""
    found = []
    for row in rows:
        if not row.samples:
            continue
        metrics = row.metrics
        found.append(
            {
                "group": row.group,
                "system": row.system,
                "workload": row.label,
                "median": {m: row.median(m) for m in metrics},
                "min": {m: min(row.values(m)) for m in metrics},
                "max": {m: max(row.values(m)) for m in metrics},
                "targets": [
                    {
                        "metric": t.metric,
                        "value": t.value,
                        "at_least": t.at_least,
                        "met": t.met_by(row.median(t.metric)),
                    }
                    for t in row.targets
                ],  # fmt: skip
                "cpu_percent": row.cpu(),
                "cpu_us_per_message": row.cpu_per_message() if RATE in metrics else {},
                "runs": [{"metrics": s.metrics, "cpu_percent": s.cpu} for s in row.samples],
            }
        )
    return info | {"rows": found}


def write_json(path: Path, document: dict[str, Any]) -> None:
    path.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
