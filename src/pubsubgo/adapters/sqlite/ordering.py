"""Ordering keys of ordered subscriptions (writer thread): one message per key out at a time.

A key with a message in flight or scheduled is in ``busy_keys``; its next messages wait in
``held``, ordered by ``place``. Settling the key's message lets the first held one go
(scheduled now), or frees the key.
"""

from __future__ import annotations

from pubsubgo.adapters.sqlite.database import Database


def busy_keys(db: Database, sub_id: int, partition: int) -> set[str]:
    """The keys of a partition with a message out."""
    rows = db.connection.execute(
        "SELECT key FROM busy_keys WHERE sub_id = ? AND partition = ?", (sub_id, partition)
    )
    return {key for (key,) in rows}


def mark_busy(db: Database, sub_id: int, partition: int, key: str) -> None:
    db.connection.execute("INSERT INTO busy_keys VALUES (?, ?, ?)", (sub_id, partition, key))


def hold_first(db: Database, sub_id: int, partition: int, key: str, seq: int) -> None:
    """Hold a message ahead of the key's other held messages (a redelivery goes first)."""
    db.connection.execute(
        "INSERT INTO held SELECT ?, ?, ?, COALESCE(MIN(place), 1) - 1, ? FROM held"
        " WHERE sub_id = ? AND partition = ? AND key = ?",
        (sub_id, partition, key, seq, sub_id, partition, key),
    )


def release_key(db: Database, sub_id: int, partition: int, key: str, now: float) -> None:
    """The key's current message is settled: schedule its next held message now, or free
    the key."""
    connection = db.connection
    where = (sub_id, partition, key)
    first = connection.execute(
        "SELECT place, seq FROM held WHERE sub_id = ? AND partition = ? AND key = ?"
        " ORDER BY place LIMIT 1",
        where,
    ).fetchone()
    if first is None:
        connection.execute(
            "DELETE FROM busy_keys WHERE sub_id = ? AND partition = ? AND key = ?", where
        )
        return
    place, seq = first
    connection.execute(
        "DELETE FROM held WHERE sub_id = ? AND partition = ? AND key = ? AND place = ?",
        (*where, place),
    )
    connection.execute(
        "INSERT INTO scheduled (sub_id, partition, seq, due, attempts) VALUES (?, ?, ?, ?, 0)",
        (sub_id, partition, seq, now),
    )
