"""The GroupStore port: consumer-group membership, fenced by generation."""

from __future__ import annotations

from typing import Protocol

from pubsubgo.core.groups import GroupState


class GroupStore(Protocol):
    """Loads and saves a subscription's group state."""

    async def load(self, subscription: str) -> GroupState:
        """The group's current state (generation 0 with no members if it never had any)."""
        ...

    async def save(self, state: GroupState, expected_generation: int) -> None:
        """Replace the state if the stored generation is still ``expected_generation``.

        A heartbeat saves with an unchanged generation; a membership change saves a newer one.

        Raises:
            GenerationConflict: another writer saved first; reload and try again.
        """
        ...
