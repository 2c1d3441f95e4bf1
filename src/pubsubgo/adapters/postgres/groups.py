"""PostgresGroupStore: a row per consumer group beside its subscription, fenced by generation."""

from __future__ import annotations

from pubsubgo.adapters.postgres.database import Database
from pubsubgo.adapters.records import group_from_record, group_record
from pubsubgo.core.errors import GenerationConflict, SubscriptionNotFound
from pubsubgo.core.groups import GroupState

_LOAD = """
SELECT g.generation, g.state FROM subscriptions s LEFT JOIN groups g ON g.sub_id = s.id
 WHERE s.name = $1
"""


class PostgresGroupStore:
    """GroupStore on PostgreSQL. ``psg_group_save`` compares the generation and writes in one
    statement, keeping the member ids in an array that claims check (``psg_claim``)."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def load(self, subscription: str) -> GroupState:
        rows = await self._db.fetch("load group", _LOAD, subscription)
        if not rows:
            raise SubscriptionNotFound(subscription)
        generation, state = rows[0]
        return group_from_record(subscription, generation or 0, state)

    async def save(self, state: GroupState, expected_generation: int) -> None:
        name = state.subscription
        outcome = await self._db.fetchval(
            "save group",
            "SELECT psg_group_save($1, $2, $3, $4, $5)",
            name,
            expected_generation,
            state.generation,
            group_record(state),
            list(state.members),
        )
        if outcome == "NOSUB":
            raise SubscriptionNotFound(name)
        if outcome != "OK":
            raise GenerationConflict(
                f"group of {name!r} is at generation {outcome}, not {expected_generation}"
            )
