"""The report compares each of pubsubgo's rows with the same workload on other backends."""

from __future__ import annotations

import re

from benchmarks import catalog, report
from benchmarks.context import Settings
from benchmarks.results import RATE, Sample


def test_each_backends_row_is_compared_with_the_same_workload_on_the_others() -> None:
    # Given publish rows on SQLite (compared), Redis and memory, and the redis-py baseline
    rows = catalog.rows(Settings(backends=("sqlite", "redis", "memory")))
    rates = {
        "rest-publish": 100.0,
        "rest-publish@redis": 50.0,
        "rest-publish@memory": 400.0,
        "ws-publish": 300.0,
        "ws-publish@redis": 100.0,
        "ws-publish@memory": 600.0,
        "redis-py:publish": 200.0,
    }
    for key, rate in rates.items():
        rows[key].samples.append(Sample({RATE: rate}))

    # When the table is printed
    lines = report.table(rows.values()).splitlines()

    # Then each SQLite row is divided by the same workload's Redis and memory rows, and by
    # the one redis-py row
    header = next(line for line in lines if line.startswith("system"))
    assert re.search(r"÷ pubsubgo/redis +÷ pubsubgo/memory +÷ redis-py +CPU", header)
    rest = next(line for line in lines if "sqlite: REST" in line)
    ws = next(line for line in lines if "sqlite: WebSocket" in line)
    assert re.search(r"100–100 +2\.00 +0\.25 +0\.50 +-$", rest)
    assert re.search(r"300–300 +3\.00 +0\.50 +1\.50 +-$", ws)
    # and the rows of the other backends name theirs, without the targets stated for Redis
    assert rows["rest-publish@redis"].system == "pubsubgo/redis"
    assert rows["rest-publish"].targets == ()
