"""Where a topic's partitions live: slot groups, their key prefixes and routing keys."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from pubsubgo.adapters.redis import keys


@dataclass(frozen=True, slots=True)
class Layout:
    """A topic's partitions grouped by cluster slot.

    ``colocated``: one slot group holds every partition, named 0 (a single Redis node, or a
    bounded topic, whose ``max_messages`` spans its partitions). Otherwise each partition
    is its own group, so the partitions spread over a cluster's shards.
    """

    topic: str
    partitions: int
    colocated: bool

    def group_of(self, partition: int) -> int:
        """The slot group holding ``partition``, named by its first partition."""
        return 0 if self.colocated else partition

    def prefix(self, group: int) -> str:
        """What the names of the group's keys start with."""
        return keys.group_prefix(self.topic, group, self.colocated)

    def anchor(self, group: int) -> str:
        """The key a script call for the group is routed by (a key in the group's slot)."""
        return keys.meta(self.prefix(group), group)

    def groups(self, partitions: Iterable[int]) -> dict[int, list[int]]:
        """``partitions`` (out-of-range ones dropped) by slot group, in the order given."""
        grouped: dict[int, list[int]] = {}
        for partition in partitions:
            if 0 <= partition < self.partitions:
                grouped.setdefault(self.group_of(partition), []).append(partition)
        return grouped

    def all_groups(self) -> dict[int, list[int]]:
        """Every partition by slot group."""
        return self.groups(range(self.partitions))

    def partition_keys(self, partition: int) -> list[str]:
        """The keys of one partition's messages."""
        prefix = self.prefix(self.group_of(partition))
        return [keys.meta(prefix, partition)] + [
            keys.lane(prefix, partition, rank) for rank in range(4)
        ]

    def subscription_keys(self, subscription: str, group: int, partitions: list[int]) -> list[str]:
        """Every key of one subscription's state in one slot group."""
        prefix = self.prefix(group)
        found = [keys.sub_part(prefix, group, subscription, p) for p in keys.SUB_GROUP_PARTS]
        for partition in partitions:
            found += (
                keys.sub_part(prefix, partition, subscription, p) for p in keys.SUB_PARTITION_PARTS
            )
        return found
