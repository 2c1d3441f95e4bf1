"""SqliteInFlightLedger: settles, extends and releases rows of ``in_flight``.

A batch of ack ids is one statement: the ids travel as one JSON array that ``json_each``
unrolls, whatever their number, and ``RETURNING`` tells which rows it touched.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

import orjson

from pubsubgo.adapters.sqlite.codec import IN_FLIGHT_COLUMNS, in_flight_from_row, parse_ack
from pubsubgo.adapters.sqlite.database import Database
from pubsubgo.adapters.sqlite.definitions import subscription_or_none
from pubsubgo.adapters.sqlite.ordering import release_key
from pubsubgo.adapters.sqlite.writer import SqliteWriter
from pubsubgo.core.messages import AckId
from pubsubgo.core.subscriptions import InFlight, Release, SettleResult

#: The rows of a subscription named by a JSON array of ack numbers: looked up by rowid, one
#: each (the ``+`` keeps the planner from scanning the subscription's index instead, which
#: costs a row per delivery in flight).
_NAMED = "+sub_id = ? AND ack IN (SELECT value FROM json_each(?))"


class SqliteInFlightLedger:
    """InFlightLedger on SQLite."""

    def __init__(self, writer: SqliteWriter) -> None:
        self._writer = writer

    async def settle(
        self, subscription: str, ack_ids: Sequence[AckId], now: float, force: bool = False
    ) -> SettleResult:
        return await self._writer.run(
            functools.partial(
                _settle, subscription=subscription, ack_ids=ack_ids, now=now, force=force
            )
        )

    async def lookup(self, subscription: str, ack_ids: Sequence[AckId]) -> list[InFlight]:
        return await self._writer.run(
            functools.partial(_lookup, subscription=subscription, ack_ids=ack_ids)
        )

    async def overdue(self, subscription: str, now: float, limit: int) -> list[InFlight]:
        return await self._writer.run(
            functools.partial(_overdue, subscription=subscription, now=now, limit=limit)
        )

    async def held(
        self, subscription: str, member_id: str | None, partitions: Sequence[int] | None = None
    ) -> list[InFlight]:
        return await self._writer.run(
            functools.partial(
                _held, subscription=subscription, member_id=member_id, partitions=partitions
            )
        )

    async def release(self, subscription: str, releases: Sequence[Release]) -> list[AckId]:
        return await self._writer.run(
            functools.partial(_release, subscription=subscription, releases=releases),
            durable=False,
        )

    async def extend(
        self, subscription: str, ack_ids: Sequence[AckId], deadline: float
    ) -> list[AckId]:
        return await self._writer.run(
            functools.partial(
                _extend, subscription=subscription, ack_ids=ack_ids, deadline=deadline
            ),
            durable=False,
        )


def _numbers(ack_ids: Sequence[str]) -> tuple[list[int | None], bytes]:
    """Each ack id's row number (None when malformed), and the valid ones as a JSON array."""
    numbers = [parse_ack(a) for a in ack_ids]
    return numbers, orjson.dumps([n for n in numbers if n is not None])


def _settle(
    db: Database, subscription: str, ack_ids: Sequence[AckId], now: float, force: bool
) -> SettleResult:
    entry = subscription_or_none(db, subscription)
    if entry is None:
        return SettleResult((), tuple(ack_ids), ())
    sub_id, _, sub = entry
    numbers, named = _numbers(ack_ids)
    # An exactly-once delivery past its deadline is refused (and stays due for redelivery),
    # unless the broker settles it itself.
    rows = db.connection.execute(
        f"DELETE FROM in_flight WHERE {_NAMED}"
        " AND (? OR exactly_once = 0 OR deadline >= ?)"
        " RETURNING ack, published_at, partition, key, member",
        (sub_id, named, force, now),
    ).fetchall()
    published = {row[0]: row[1] for row in rows}
    db.unhold(sub_id, [row[4] for row in rows])
    if sub.ordered:
        for _, _, partition, key, _ in rows:
            if key is not None:
                release_key(db, sub_id, partition, key, now)
    return _settled(ack_ids, numbers, published)


def _settled(
    ack_ids: Sequence[AckId], numbers: list[int | None], published: dict[int, float]
) -> SettleResult:
    """The result, in the order of ``ack_ids``; ``published``: the settled rows' publish
    times by ack number."""
    settled: list[AckId] = []
    stamps: list[float] = []
    unknown: list[AckId] = []
    for ack_id, number in zip(ack_ids, numbers, strict=True):
        # pop: a repeated ack id is settled once, then unknown like any other.
        stamp = published.pop(number, None) if number is not None else None
        if stamp is None:
            unknown.append(ack_id)
        else:
            settled.append(ack_id)
            stamps.append(stamp)
    return SettleResult(tuple(settled), tuple(unknown), tuple(stamps))


def _in_order(ack_ids: Sequence[AckId], numbers: list[int | None], rows: list[Any]) -> list[Any]:
    """``rows`` (each starting with its ack number) in the order of ``ack_ids``, once each."""
    by_number = {row[0]: row for row in rows}
    return [by_number.pop(n) for n in numbers if n is not None and n in by_number]


def _lookup(db: Database, subscription: str, ack_ids: Sequence[AckId]) -> list[InFlight]:
    entry = subscription_or_none(db, subscription)
    if entry is None:
        return []
    numbers, named = _numbers(ack_ids)
    rows = db.connection.execute(
        f"SELECT {IN_FLIGHT_COLUMNS} FROM in_flight WHERE {_NAMED}", (entry[0], named)
    ).fetchall()
    return [in_flight_from_row(row) for row in _in_order(ack_ids, numbers, rows)]


def _overdue(db: Database, subscription: str, now: float, limit: int) -> list[InFlight]:
    entry = subscription_or_none(db, subscription)
    if entry is None:
        return []
    rows = db.connection.execute(
        f"SELECT {IN_FLIGHT_COLUMNS} FROM in_flight WHERE sub_id = ? AND deadline < ?"
        " ORDER BY deadline LIMIT ?",
        (entry[0], now, limit),
    )
    return [in_flight_from_row(row) for row in rows]


def _held(
    db: Database, subscription: str, member_id: str | None, partitions: Sequence[int] | None
) -> list[InFlight]:
    entry = subscription_or_none(db, subscription)
    if entry is None:
        return []
    select = f"SELECT {IN_FLIGHT_COLUMNS} FROM in_flight WHERE sub_id = ?"
    if partitions is not None:
        rows = db.connection.execute(
            f"{select} AND partition IN (SELECT value FROM json_each(?))",
            (entry[0], orjson.dumps(list(partitions))),
        )
    else:
        rows = db.connection.execute(f"{select} AND member IS ?", (entry[0], member_id))
    return [in_flight_from_row(row) for row in rows]


def _release(db: Database, subscription: str, releases: Sequence[Release]) -> list[AckId]:
    """Back to ``scheduled`` with the attempts made so far; an ordered key stays busy."""
    entry = subscription_or_none(db, subscription)
    if entry is None:
        return []
    sub_id = entry[0]
    ack_ids = [r.ack_id for r in releases]
    numbers, named = _numbers(ack_ids)
    rows = db.connection.execute(
        f"DELETE FROM in_flight WHERE {_NAMED} RETURNING ack, partition, seq, attempt, member",
        (sub_id, named),
    ).fetchall()
    db.unhold(sub_id, [row[4] for row in rows])
    due = {n: r.due_at for n, r in zip(numbers, releases, strict=True) if n is not None}
    db.connection.executemany(
        "INSERT INTO scheduled (sub_id, partition, seq, due, attempts) VALUES (?, ?, ?, ?, ?)",
        [(sub_id, partition, seq, due[ack], attempt) for ack, partition, seq, attempt, _ in rows],
    )
    released = {row[0] for row in rows}
    found: list[AckId] = []
    for ack_id, number in zip(ack_ids, numbers, strict=True):
        if number in released:
            released.discard(number)  # a repeated ack id is released once
            found.append(ack_id)
    return found


def _extend(
    db: Database, subscription: str, ack_ids: Sequence[AckId], deadline: float
) -> list[AckId]:
    entry = subscription_or_none(db, subscription)
    if entry is None:
        return list(ack_ids)
    numbers, named = _numbers(ack_ids)
    rows = db.connection.execute(
        f"UPDATE in_flight SET deadline = ? WHERE {_NAMED} RETURNING ack",
        (deadline, entry[0], named),
    ).fetchall()
    extended = {ack for (ack,) in rows}
    return [a for a, n in zip(ack_ids, numbers, strict=True) if n not in extended]
