"""Topic and subscription definitions, read through the database's cache (writer thread).

Every function here runs on the writer thread; the port adapters read the cache from the
event loop directly and come here only on a miss.
"""

from __future__ import annotations

import orjson

from pubsubgo.adapters.records import subscription_from_record, topic_from_fields
from pubsubgo.adapters.sqlite.database import Database, SubscriptionEntry, TopicEntry
from pubsubgo.core.errors import SubscriptionNotFound, TopicNotFound


def topic_entry(db: Database, name: str) -> TopicEntry:
    """The topic named ``name``.

    Raises:
        TopicNotFound: no such topic.
    """
    entry = db.topics.get(name)
    if entry is None:
        row = db.connection.execute(
            "SELECT id, definition FROM topics WHERE name = ?", (name,)
        ).fetchone()
        if row is None:
            raise TopicNotFound(name)
        entry = db.topics[name] = (row[0], topic_from_fields(orjson.loads(row[1])))
    return entry


def subscription_entry(db: Database, name: str) -> SubscriptionEntry:
    """The subscription named ``name``.

    Raises:
        SubscriptionNotFound: no such subscription.
    """
    entry = db.subscriptions.get(name)
    if entry is None:
        row = db.connection.execute(
            "SELECT id, topic_id, definition FROM subscriptions WHERE name = ?", (name,)
        ).fetchone()
        if row is None:
            raise SubscriptionNotFound(name)
        entry = db.subscriptions[name] = (row[0], row[1], subscription_from_record(row[2]))
    return entry


def subscription_or_none(db: Database, name: str) -> SubscriptionEntry | None:
    """The subscription named ``name``, or None (the ledger's unknown-is-no-error rule)."""
    try:
        return subscription_entry(db, name)
    except SubscriptionNotFound:
        return None
