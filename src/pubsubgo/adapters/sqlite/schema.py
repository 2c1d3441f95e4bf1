"""The SQLite schema, versioned with ``PRAGMA user_version`` (docs/sqlite.md explains it).

Sequence numbers (``seq``) are global and increasing: a message's id is
``"{partition}-{seq}"``. A subscription reads each partition lane by lane (one lane per
priority), from a cursor per lane; what it hands out is in ``in_flight`` until settled, what
waits for a later delivery (retries, delays, redrives, releases) is in ``scheduled``, and an
ordered subscription keeps the keys with a message out in ``busy_keys`` and their next
messages in ``held``.
"""

from __future__ import annotations

#: The version this code writes and reads; a file with another one is refused at start.
SCHEMA_VERSION = 1
#: ``PRAGMA application_id`` of a pubsubgo database ("PSGO"), so that another
#: application's SQLite file is recognised as such.
APPLICATION_ID = 0x5053474F

TABLES = (
    """CREATE TABLE meta (
        name TEXT PRIMARY KEY,
        value INTEGER NOT NULL
    ) WITHOUT ROWID""",
    """CREATE TABLE topics (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        name TEXT NOT NULL UNIQUE,
        definition BLOB NOT NULL,
        publish_count INTEGER NOT NULL DEFAULT 0,
        last_publish_at REAL
    )""",
    """CREATE TABLE partitions (
        topic_id INTEGER NOT NULL,
        partition INTEGER NOT NULL,
        messages INTEGER NOT NULL DEFAULT 0,
        bytes INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (topic_id, partition)
    ) WITHOUT ROWID""",
    # options: what a message sets beyond its payload and priority (key, attributes, mode,
    # expiry, delay, dedup id, compression), as one JSON array; NULL for a plain message.
    # One column rather than seven: each bound parameter costs, once per message.
    """CREATE TABLE messages (
        seq INTEGER PRIMARY KEY,
        topic_id INTEGER NOT NULL,
        partition INTEGER NOT NULL,
        priority INTEGER NOT NULL,
        published_at REAL NOT NULL,
        data BLOB NOT NULL,
        options BLOB
    )""",
    "CREATE INDEX messages_by_lane ON messages (topic_id, partition, priority, seq)",
    "CREATE INDEX messages_by_time ON messages (topic_id, published_at)",
    """CREATE TABLE dedup (
        topic_id INTEGER NOT NULL,
        dedup_id TEXT NOT NULL,
        message_id TEXT NOT NULL,
        expires REAL NOT NULL,
        PRIMARY KEY (topic_id, dedup_id)
    ) WITHOUT ROWID""",
    "CREATE INDEX dedup_by_expiry ON dedup (topic_id, expires)",
    """CREATE TABLE subscriptions (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        name TEXT NOT NULL UNIQUE,
        topic_id INTEGER NOT NULL,
        definition BLOB NOT NULL,
        generation INTEGER NOT NULL DEFAULT 0,
        group_state BLOB
    )""",
    "CREATE INDEX subscriptions_by_topic ON subscriptions (topic_id)",
    """CREATE TABLE members (
        sub_id INTEGER NOT NULL,
        member_id TEXT NOT NULL,
        PRIMARY KEY (sub_id, member_id)
    ) WITHOUT ROWID""",
    # c0..c3: the last sequence number read in the lane of priority rank 0 (low) .. 3.
    """CREATE TABLE cursors (
        sub_id INTEGER NOT NULL,
        partition INTEGER NOT NULL,
        c0 INTEGER NOT NULL,
        c1 INTEGER NOT NULL,
        c2 INTEGER NOT NULL,
        c3 INTEGER NOT NULL,
        PRIMARY KEY (sub_id, partition)
    ) WITHOUT ROWID""",
    # id: ties between equal due times go in the order things were scheduled (the index
    # ends with it, as every index ends with the rowid).
    """CREATE TABLE scheduled (
        id INTEGER PRIMARY KEY,
        sub_id INTEGER NOT NULL,
        partition INTEGER NOT NULL,
        seq INTEGER NOT NULL,
        due REAL NOT NULL,
        attempts INTEGER NOT NULL
    )""",
    "CREATE INDEX scheduled_by_due ON scheduled (sub_id, due)",
    """CREATE TABLE in_flight (
        ack INTEGER PRIMARY KEY,
        sub_id INTEGER NOT NULL,
        partition INTEGER NOT NULL,
        seq INTEGER NOT NULL,
        attempt INTEGER NOT NULL,
        deadline REAL NOT NULL,
        member TEXT,
        key TEXT,
        exactly_once INTEGER NOT NULL,
        published_at REAL NOT NULL
    )""",
    "CREATE INDEX in_flight_by_deadline ON in_flight (sub_id, deadline)",
    """CREATE TABLE busy_keys (
        sub_id INTEGER NOT NULL,
        partition INTEGER NOT NULL,
        key TEXT NOT NULL,
        PRIMARY KEY (sub_id, partition, key)
    ) WITHOUT ROWID""",
    # place orders a key's held messages: publish order (the seq) for those read, before
    # all of them for a redelivery that must go first.
    """CREATE TABLE held (
        sub_id INTEGER NOT NULL,
        partition INTEGER NOT NULL,
        key TEXT NOT NULL,
        place INTEGER NOT NULL,
        seq INTEGER NOT NULL,
        PRIMARY KEY (sub_id, partition, key, place)
    ) WITHOUT ROWID""",
    "INSERT INTO meta (name, value) VALUES ('seq_high', 0), ('epoch', 0)",
)

#: The tables a database of this version has; a file without one of them is damaged.
TABLE_NAMES = frozenset(
    {
        "meta",
        "topics",
        "partitions",
        "messages",
        "dedup",
        "subscriptions",
        "members",
        "cursors",
        "scheduled",
        "in_flight",
        "busy_keys",
        "held",
    }
)
