"""RedisGroupStore: consumer-group state beside the subscription records, fenced by generation."""

from __future__ import annotations

from typing import Any

from pubsubgo.adapters.redis import keys
from pubsubgo.adapters.redis.codec import group_from_record, group_record
from pubsubgo.adapters.redis.errors import translate_redis_errors
from pubsubgo.adapters.redis.scripts import ScriptRunner
from pubsubgo.core.errors import GenerationConflict, SubscriptionNotFound
from pubsubgo.core.groups import GroupState


async def load_group(runner: ScriptRunner, subscription: str) -> GroupState:
    """The group of ``subscription`` (empty if never saved).

    Raises:
        SubscriptionNotFound: the subscription does not exist.
    """
    # A saved group proves its subscription exists (group_save checks it, and sub_delete
    # removes both at once): one command in the usual case. Only a group never saved needs
    # the subscription looked up as well.
    found: list[Any] = await runner.client.hmget(keys.group(subscription), ["gen", "state"])
    generation, state = found
    if generation is None:
        pipe = runner.client.pipeline(transaction=False)
        pipe.hexists(keys.subscriptions(), subscription)
        pipe.hmget(keys.group(subscription), ["gen", "state"])
        exists, (generation, state) = await pipe.execute()
        if not exists:
            raise SubscriptionNotFound(subscription)
    return group_from_record(subscription, int(generation or 0), state)


class RedisGroupStore:
    """GroupStore on Redis: one hash per group (``gen``, ``state``) in the registry slot.

    ``save`` compares the generation and writes in one script, which also checks that the
    subscription still exists, so a group never outlives its subscription.
    """

    def __init__(self, runner: ScriptRunner) -> None:
        self._runner = runner

    async def load(self, subscription: str) -> GroupState:
        with translate_redis_errors("load group"):
            return await load_group(self._runner, subscription)

    async def save(self, state: GroupState, expected_generation: int) -> None:
        name = state.subscription
        with translate_redis_errors("save group"):
            [reply] = await self._runner.run(
                "group_save",
                [
                    (
                        [keys.subscriptions(), keys.group(name), keys.group_members(name)],
                        [
                            name,
                            expected_generation,
                            state.generation,
                            group_record(state),
                            *state.members,
                        ],
                    )
                ],
            )
        if reply[0] == b"NOSUB":
            raise SubscriptionNotFound(name)
        if reply[0] == b"CONFLICT":
            raise GenerationConflict(
                f"group of {name!r} is at generation {reply[1]}, not {expected_generation}"
            )
