"""Every Redis key and channel name the backend uses, one function each.

Layout (``docs/redis.md`` has the full table)::

    psg:{r}:topics                      hash   topic name -> topic record (JSON)
    psg:{r}:subscriptions               hash   subscription name -> record (JSON)
    psg:{r}:group:<sub>                 hash   gen, state: the consumer group
    psg:{r}:members:<sub>               hash   member id -> 1, '' -> gen: who is in the group
    psg:{t:<topic>[:<g>]}:<p>:meta      hash   counters of partition p
    psg:{t:<topic>[:<g>]}:<p>:l<rank>   stream messages of partition p, priority rank 0..3
    psg:{t:<topic>[:<g>]}:<g>:dd / ddx  hash + zset: dedup records and their expiry
    psg:{t:<topic>[:<g>]}:<g>:bnd       hash   subscription -> "<max_backlog> <overflow>"
    psg:{t:<topic>[:<g>]}:<p>:s:<sub>:<part>   one subscription's state (see SUB_PARTS)
    psg:wake                            pub/sub channel waking long polls

The part in braces is the hash tag: keys with the same tag live in the same cluster slot.
A *slot group* is the set of partitions sharing one tag. A spread topic has one group per
partition (``{t:<topic>:<p>}``), so its partitions spread over the shards; a co-located
topic has one group for all partitions (``{t:<topic>}``), so that one script sees all of them.
The group is named by its first partition ``g``. The Lua scripts build the same names from
``group_prefix`` (see ``lua/common.lua``); ``tests/redis`` checks that both agree.
"""

from __future__ import annotations

#: Every key starts with this, so the backend can share a Redis with other applications.
PREFIX = "psg"
#: The hash tag of the registry: topics, subscriptions and groups share one slot.
REGISTRY_TAG = "{r}"
#: The channel on which broker processes tell each other that a topic has news.
WAKE_CHANNEL = f"{PREFIX}:wake"
#: Per-partition subscription keys: read cursors, the retry/delay schedule, attempts made by
#: scheduled messages, keys busy in an ordered subscription and the messages held behind them.
SUB_PARTITION_PARTS = ("cur", "sch", "att", "busy", "held")
#: Per-group subscription keys: in-flight records, their deadlines and the count per holder.
SUB_GROUP_PARTS = ("inf", "dl", "own")


def topics() -> str:
    """The hash of topic records."""
    return f"{PREFIX}:{REGISTRY_TAG}:topics"


def subscriptions() -> str:
    """The hash of subscription records."""
    return f"{PREFIX}:{REGISTRY_TAG}:subscriptions"


def group(subscription: str) -> str:
    """The consumer group of ``subscription``; in the registry slot so that deleting the
    subscription and fencing a group save can check the subscription atomically."""
    return f"{PREFIX}:{REGISTRY_TAG}:group:{subscription}"


def group_members(subscription: str) -> str:
    """The member ids of ``subscription``'s group as hash fields (the empty field holds the
    generation they belong to): what a claim checks a member against without reading the
    group's whole state."""
    return f"{PREFIX}:{REGISTRY_TAG}:members:{subscription}"


def slot_tag(topic: str, group: int, colocated: bool) -> str:
    """The hash tag of slot group ``group`` (names cannot contain braces or colons)."""
    return f"{{t:{topic}}}" if colocated else f"{{t:{topic}:{group}}}"


def group_prefix(topic: str, group: int, colocated: bool) -> str:
    """What every key of slot group ``group`` starts with; the scripts append the rest."""
    return f"{PREFIX}:{slot_tag(topic, group, colocated)}:"


def meta(prefix: str, partition: int) -> str:
    """Counters of a partition: order, last ms, count, bytes, publishes, lanes, ack ids."""
    return f"{prefix}{partition}:meta"


def lane(prefix: str, partition: int, rank: int) -> str:
    """The stream of a partition's messages of one priority (0 low .. 3 critical)."""
    return f"{prefix}{partition}:l{rank}"


def dedup(prefix: str, group: int) -> str:
    """Dedup records of a slot group: dedup id -> ``"<message id> <expires at>"``."""
    return f"{prefix}{group}:dd"


def dedup_expiry(prefix: str, group: int) -> str:
    """Dedup ids of a slot group scored by when their window closes."""
    return f"{prefix}{group}:ddx"


def bounds(prefix: str, group: int) -> str:
    """The subscriptions of the topic with a ``max_backlog``, which a publish checks:
    subscription -> ``"<max_backlog> <overflow>"``."""
    return f"{prefix}{group}:bnd"


def sub_part(prefix: str, partition: int, subscription: str, part: str) -> str:
    """One piece of a subscription's state in a partition (or, for SUB_GROUP_PARTS, in
    the slot group named by ``partition``)."""
    return f"{prefix}{partition}:s:{subscription}:{part}"
