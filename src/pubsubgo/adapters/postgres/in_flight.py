"""PostgresInFlightLedger: settles, extends and releases in-flight deliveries."""

from __future__ import annotations

from collections.abc import Sequence

from pubsubgo.adapters.postgres.codec import (
    IN_FLIGHT_COLUMNS,
    ack_id,
    ack_number,
    in_flight_from_row,
)
from pubsubgo.adapters.postgres.database import Database
from pubsubgo.core.messages import AckId
from pubsubgo.core.subscriptions import InFlight, Release, SettleResult

_SELECT = f"SELECT {IN_FLIGHT_COLUMNS} FROM in_flight f JOIN subscriptions s ON s.id = f.sub_id"
_LOOKUP = f"{_SELECT} WHERE s.name = $1 AND f.ack = ANY ($2)"
_OVERDUE = f"{_SELECT} WHERE s.name = $1 AND f.deadline < $2 ORDER BY f.deadline LIMIT $3"
_HELD_BY = f"{_SELECT} WHERE s.name = $1 AND f.member = $2"
_HELD_IN = f"{_SELECT} WHERE s.name = $1 AND f.partition = ANY ($2)"


class PostgresInFlightLedger:
    """InFlightLedger on PostgreSQL: each call is one statement (or one function) over the
    ``in_flight`` rows of a whole batch of ack ids, so acking N deliveries is one round
    trip. Ack ids are hex numbers; anything else is unknown."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def settle(
        self, subscription: str, ack_ids: Sequence[AckId], now: float, force: bool = False
    ) -> SettleResult:
        numbers = _numbers(ack_ids)
        rows = await self._db.fetch(
            "ack", "SELECT * FROM psg_settle($1, $2, $3, $4)", subscription, numbers, now, force
        )
        published = {ack_id(number): at for number, at in rows}
        settled: list[AckId] = []
        times: list[float] = []
        unknown: list[AckId] = []
        for ack in ack_ids:
            at = published.pop(ack, None)
            if at is None:
                unknown.append(ack)
            else:
                settled.append(ack)
                times.append(at)
        return SettleResult(tuple(settled), tuple(unknown), tuple(times))

    async def lookup(self, subscription: str, ack_ids: Sequence[AckId]) -> list[InFlight]:
        rows = await self._db.fetch("look up deliveries", _LOOKUP, subscription, _numbers(ack_ids))
        found = {ack_id(row[0]): in_flight_from_row(row) for row in rows}
        return [found[a] for a in dict.fromkeys(ack_ids) if a in found]

    async def overdue(self, subscription: str, now: float, limit: int) -> list[InFlight]:
        rows = await self._db.fetch("find overdue deliveries", _OVERDUE, subscription, now, limit)
        return [in_flight_from_row(row) for row in rows]

    async def held(
        self, subscription: str, member_id: str | None, partitions: Sequence[int] | None = None
    ) -> list[InFlight]:
        if partitions is not None:
            rows = await self._db.fetch(
                "list held deliveries", _HELD_IN, subscription, list(partitions)
            )
        else:
            rows = await self._db.fetch(
                "list held deliveries", _HELD_BY, subscription, member_id or ""
            )
        return [in_flight_from_row(row) for row in rows]

    async def release(self, subscription: str, releases: Sequence[Release]) -> list[AckId]:
        numbers: list[int] = []
        due: list[float] = []
        for release in releases:
            number = ack_number(release.ack_id)
            if number is not None:
                numbers.append(number)
                due.append(release.due_at)
        rows = await self._db.fetch(
            "release deliveries", "SELECT psg_release($1, $2, $3)", subscription, numbers, due
        )
        released = {ack_id(row[0]) for row in rows}
        return [r.ack_id for r in releases if r.ack_id in released]

    async def extend(
        self, subscription: str, ack_ids: Sequence[AckId], deadline: float
    ) -> list[AckId]:
        rows = await self._db.fetch(
            "extend deliveries",
            "SELECT psg_extend($1, $2, $3)",
            subscription,
            _numbers(ack_ids),
            deadline,
        )
        extended = {ack_id(row[0]) for row in rows}
        return [a for a in ack_ids if a not in extended]


def _numbers(ack_ids: Sequence[AckId]) -> list[int]:
    """The numbers of the well-formed ack ids."""
    return [n for n in map(ack_number, ack_ids) if n is not None]
