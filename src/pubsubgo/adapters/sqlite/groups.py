"""SqliteGroupStore: a group's state in its subscription's row, its members in ``members``."""

from __future__ import annotations

import functools

from pubsubgo.adapters.records import group_from_record, group_record
from pubsubgo.adapters.sqlite.database import Database
from pubsubgo.adapters.sqlite.definitions import subscription_entry
from pubsubgo.adapters.sqlite.writer import SqliteWriter
from pubsubgo.core.errors import GenerationConflict
from pubsubgo.core.groups import GroupState


class SqliteGroupStore:
    """GroupStore on SQLite. The members are also kept one row each, which is what a pull
    checks its member against (one indexed lookup, no decoding of the group)."""

    def __init__(self, writer: SqliteWriter) -> None:
        self._writer = writer

    async def load(self, subscription: str) -> GroupState:
        return await self._writer.run(functools.partial(_load, subscription=subscription))

    async def save(self, state: GroupState, expected_generation: int) -> None:
        await self._writer.run(
            functools.partial(_save, state=state, expected_generation=expected_generation)
        )


def _load(db: Database, subscription: str) -> GroupState:
    sub_id, _, _ = subscription_entry(db, subscription)
    generation, raw = db.connection.execute(
        "SELECT generation, group_state FROM subscriptions WHERE id = ?", (sub_id,)
    ).fetchone()
    return group_from_record(subscription, generation, raw)


def _save(db: Database, state: GroupState, expected_generation: int) -> None:
    sub_id, _, _ = subscription_entry(db, state.subscription)
    connection = db.connection
    [current] = connection.execute(
        "SELECT generation FROM subscriptions WHERE id = ?", (sub_id,)
    ).fetchone()
    if current != expected_generation:
        raise GenerationConflict(
            f"group of {state.subscription!r} is at generation {current}, not {expected_generation}"
        )
    connection.execute(
        "UPDATE subscriptions SET generation = ?, group_state = ? WHERE id = ?",
        (state.generation, group_record(state), sub_id),
    )
    if state.generation != current:
        # A heartbeat keeps the generation and the members; only a change rewrites them.
        connection.execute("DELETE FROM members WHERE sub_id = ?", (sub_id,))
        connection.executemany(
            "INSERT INTO members VALUES (?, ?)", [(sub_id, m) for m in state.members]
        )
