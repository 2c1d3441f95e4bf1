"""Topic, subscription and group definitions as JSON records: how the persistent backends
(Redis, PostgreSQL, SQLite) keep what never changes once written."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

import orjson

from pubsubgo.core.groups import GroupState, Member
from pubsubgo.core.messages import Compression
from pubsubgo.core.subscriptions import (
    RetryPolicy,
    StartPosition,
    Subscription,
    SubscriptionType,
)
from pubsubgo.core.topics import Overflow, Topic


def topic_fields(topic: Topic) -> dict[str, Any]:
    """A topic's settings, JSON-ready (a backend may add fields of its own)."""
    return asdict(topic)


def topic_from_fields(fields: dict[str, Any]) -> Topic:
    """The topic whose settings ``topic_fields`` wrote."""
    fields["overflow"] = Overflow(fields["overflow"])
    fields["compression"] = Compression(fields["compression"])
    return Topic(**fields)


def subscription_record(subscription: Subscription) -> bytes:
    """A subscription as stored in the registry."""
    return orjson.dumps(asdict(subscription))


def subscription_from_record(raw: bytes | str) -> Subscription:
    fields = orjson.loads(raw)
    fields["type"] = SubscriptionType(fields["type"])
    fields["start"] = StartPosition(fields["start"])
    fields["retry_policy"] = RetryPolicy(**fields["retry_policy"])
    # Records written before subscriptions had a backlog bound have neither field.
    fields["overflow"] = Overflow(fields.get("overflow", Overflow.REJECT))
    return Subscription(**fields)


def group_record(state: GroupState) -> bytes:
    """A group's members and assignment (the generation is stored beside it)."""
    members = {mid: [m.joined_at, m.last_heartbeat] for mid, m in state.members.items()}
    return orjson.dumps({"members": members, "assignment": dict(state.assignment)})


def group_from_record(subscription: str, generation: int, raw: bytes | None) -> GroupState:
    if raw is None:
        return GroupState(subscription, generation)
    fields = orjson.loads(raw)
    members = {mid: Member(mid, joined, beat) for mid, (joined, beat) in fields["members"].items()}
    assignment = {mid: tuple(parts) for mid, parts in fields["assignment"].items()}
    return GroupState(subscription, generation, members, assignment)
