"""InMemoryGroupStore: consumer-group state kept with each subscription."""

from __future__ import annotations

from pubsubgo.adapters.memory.state import MemoryState
from pubsubgo.adapters.memory.subscriptions import subscription_state
from pubsubgo.core.errors import GenerationConflict
from pubsubgo.core.groups import GroupState


class InMemoryGroupStore:
    """GroupStore over the shared in-memory state."""

    def __init__(self, state: MemoryState) -> None:
        self._state = state

    async def load(self, subscription: str) -> GroupState:
        sub = subscription_state(self._state, subscription)
        return sub.group or GroupState(subscription)

    async def save(self, state: GroupState, expected_generation: int) -> None:
        sub = subscription_state(self._state, state.subscription)
        current = sub.group.generation if sub.group else 0
        if current != expected_generation:
            raise GenerationConflict(
                f"group of {state.subscription!r} is at generation {current},"
                f" not {expected_generation}"
            )
        sub.group = state
