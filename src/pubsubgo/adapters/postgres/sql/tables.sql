-- tables.sql: every table of the PostgreSQL backend (schema version 1).
--
-- Times are seconds since the epoch as float8, from the broker's clock (never now()).
-- A message's position s is order * 4 + rank: publish order within its partition, and
-- its priority lane (0 low .. 3 critical) in the low two bits, like the Redis backend's
-- entry ids. Its id is "<partition>-<s>".
-- The hot tables (messages, in_flight, scheduled) have no foreign keys: a key check
-- would lock the parent row FOR KEY SHARE on every insert (one hot row shared by every
-- claim). Their rows are removed by the functions that remove their parents.

CREATE TABLE topics (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name text NOT NULL UNIQUE,
    partitions int NOT NULL,
    max_messages bigint NOT NULL,
    drop_oldest boolean NOT NULL,
    dedup_window float8 NOT NULL,
    record bytea NOT NULL  -- the Topic as JSON, for the broker
);

-- One row per partition: the counters a publish updates, and its lock: a publish holds
-- the rows of the partitions it writes until it commits, so positions are assigned and
-- committed in order (a reader that sees position s sees every position before it).
CREATE TABLE partitions (
    topic_id bigint NOT NULL REFERENCES topics (id) ON DELETE CASCADE,
    partition int NOT NULL,
    next_order bigint NOT NULL DEFAULT 0,
    messages bigint NOT NULL DEFAULT 0,
    bytes bigint NOT NULL DEFAULT 0,
    publishes bigint NOT NULL DEFAULT 0,
    last_publish float8,
    -- per lane (rank + 1): the last position written; a lane whose reader is there has
    -- nothing unread, and a claim does not look into it
    last_s bigint[] NOT NULL DEFAULT '{-1,-1,-1,-1}',
    PRIMARY KEY (topic_id, partition)
) WITH (fillfactor = 50);

-- The primary key is the lane index: (partition, rank, s) reads one priority lane in
-- publish order, and a message id gives all three (rank = s % 4).
CREATE TABLE messages (
    topic_id bigint NOT NULL,
    partition int NOT NULL,
    rank smallint NOT NULL,
    s bigint NOT NULL,
    published_at float8 NOT NULL,
    data bytea NOT NULL,
    key text,
    attributes bytea,     -- JSON object, NULL when there are none
    mode smallint NOT NULL DEFAULT 0,  -- 0 at least once, 1 at most once, 2 exactly once
    expires_at float8,
    deliver_at float8,
    dedup_id text,
    compression smallint NOT NULL DEFAULT 0,  -- 0 none, 1 snappy, 2 lz4
    PRIMARY KEY (topic_id, partition, rank, s)
);

CREATE TABLE dedup (
    topic_id bigint NOT NULL,
    dedup_id text NOT NULL,
    message_id text NOT NULL,
    expires_at float8 NOT NULL,
    PRIMARY KEY (topic_id, dedup_id)
);
CREATE INDEX dedup_expiry ON dedup (topic_id, expires_at);

CREATE TABLE subscriptions (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name text NOT NULL UNIQUE,
    topic_id bigint NOT NULL REFERENCES topics (id) ON DELETE CASCADE,
    ordered boolean NOT NULL,
    ack_deadline float8 NOT NULL,
    max_in_flight int NOT NULL,
    record bytea NOT NULL  -- the Subscription as JSON, for the broker
);

-- A subscription's read position in each partition: per lane (rank + 1) the last
-- position read (-1: none). An ordered subscription reads in publish order across
-- lanes, so its four are always equal. Claims lock these rows (SKIP LOCKED).
CREATE TABLE cursors (
    sub_id bigint NOT NULL REFERENCES subscriptions (id) ON DELETE CASCADE,
    partition int NOT NULL,
    c bigint[] NOT NULL,
    PRIMARY KEY (sub_id, partition)
) WITH (fillfactor = 50);

-- Messages due for (re)delivery to one subscription: retries, delays, releases, redrive.
CREATE TABLE scheduled (
    sub_id bigint NOT NULL,
    partition int NOT NULL,
    s bigint NOT NULL,
    due float8 NOT NULL,
    attempts int NOT NULL DEFAULT 0,  -- delivery attempts already made
    PRIMARY KEY (sub_id, partition, s)
);
CREATE INDEX scheduled_due ON scheduled (sub_id, partition, due, s);

-- Ordered subscriptions: keys with a message in flight or scheduled, and the messages
-- waiting behind them (front 0: put back ahead of the key's others by a redrive).
CREATE TABLE busy_keys (
    sub_id bigint NOT NULL,
    partition int NOT NULL,
    key text NOT NULL,
    PRIMARY KEY (sub_id, partition, key)
);
CREATE TABLE held (
    sub_id bigint NOT NULL,
    partition int NOT NULL,
    key text NOT NULL,
    front smallint NOT NULL,
    s bigint NOT NULL,
    PRIMARY KEY (sub_id, partition, key, front, s)
);

-- Deliveries awaiting their ack. ack is the ack id; member '' is pulls without a member.
CREATE TABLE in_flight (
    sub_id bigint NOT NULL,
    ack bigint NOT NULL,
    partition int NOT NULL,
    s bigint NOT NULL,
    attempt int NOT NULL,
    deadline float8 NOT NULL,
    member text NOT NULL,
    key text,             -- ordered subscriptions only
    exactly_once boolean NOT NULL,
    published_at float8 NOT NULL,
    PRIMARY KEY (sub_id, ack)
);
CREATE INDEX in_flight_deadline ON in_flight (sub_id, deadline);
CREATE INDEX in_flight_member ON in_flight (sub_id, member);

-- Ack ids: a claim takes one number and numbers its deliveries under it.
CREATE SEQUENCE ack_ids;

CREATE TABLE groups (
    sub_id bigint PRIMARY KEY REFERENCES subscriptions (id) ON DELETE CASCADE,
    generation bigint NOT NULL,
    state bytea NOT NULL,   -- members and assignment as JSON
    members text[] NOT NULL -- the member ids, for the claim's check
);

-- Rows of these tables are written and removed all the time: vacuum them early, before
-- dead rows pile up (the defaults wait for 20 % of a table to be dead).
ALTER TABLE in_flight SET (autovacuum_vacuum_scale_factor = 0.01, autovacuum_vacuum_threshold = 1000);
ALTER TABLE scheduled SET (autovacuum_vacuum_scale_factor = 0.01, autovacuum_vacuum_threshold = 1000);
ALTER TABLE partitions SET (autovacuum_vacuum_scale_factor = 0.0, autovacuum_vacuum_threshold = 1000);
ALTER TABLE cursors SET (autovacuum_vacuum_scale_factor = 0.0, autovacuum_vacuum_threshold = 1000);
ALTER TABLE messages SET (autovacuum_vacuum_scale_factor = 0.05, autovacuum_vacuum_insert_scale_factor = 0.05);
