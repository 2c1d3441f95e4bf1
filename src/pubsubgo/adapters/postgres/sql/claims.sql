-- claims.sql: putting a subscription's messages in flight (schema version 1).
-- Errors the broker maps: PSG03 subscription not found, PSG04 member not in the group.

-- One stored message by (partition, position), or no row. Joined LATERAL, it is an index
-- lookup per position: a plain join of a few hundred positions may be planned as a scan
-- of the whole partition (a hash join), whose cost grows with the backlog.
CREATE FUNCTION psg_message(p_topic bigint, p_partition int, p_s bigint)
RETURNS SETOF messages LANGUAGE sql STABLE AS $$
    SELECT * FROM messages
     WHERE topic_id = p_topic AND partition = p_partition AND rank = p_s % 4 AND s = p_s
     LIMIT 1
$$;

-- Redeliveries of one partition due by p_now, earliest due first (then publish order);
-- messages removed meanwhile (retention) are dropped from the schedule and skipped.
CREATE FUNCTION psg_claim_due(
    p_sub bigint, p_topic bigint, p_partition int, p_now float8, p_room int,
    OUT positions bigint[], OUT attempts int[]
) LANGUAGE plpgsql AS $$
DECLARE
    got_s bigint[];
    got_a int[];
    seen int;
BEGIN
    positions := '{}';
    attempts := '{}';
    WHILE cardinality(positions) < p_room LOOP
        WITH picked AS (
            SELECT sc.s, sc.attempts AS a, sc.due FROM scheduled sc
             WHERE sc.sub_id = p_sub AND sc.partition = p_partition AND sc.due <= p_now
             ORDER BY sc.due, sc.s LIMIT p_room - cardinality(positions)
        ), gone AS (
            DELETE FROM scheduled sc USING picked
             WHERE sc.sub_id = p_sub AND sc.partition = p_partition AND sc.s = picked.s
        )
        SELECT array_agg(pk.s ORDER BY pk.due, pk.s) FILTER (WHERE m.s IS NOT NULL),
               array_agg(pk.a + 1 ORDER BY pk.due, pk.s) FILTER (WHERE m.s IS NOT NULL),
               count(*)
          INTO got_s, got_a, seen
          FROM picked pk
          LEFT JOIN LATERAL psg_message(p_topic, p_partition, pk.s) AS m ON true;
        EXIT WHEN seen = 0;
        positions := positions || coalesce(got_s, '{}');
        attempts := attempts || coalesce(got_a, '{}');
    END LOOP;
END $$;

-- Unread messages of one partition by priority (critical first), publish order within a
-- lane; delayed ones are scheduled for their time instead. Advances the lane cursors.
CREATE FUNCTION psg_claim_lanes(
    p_sub bigint, p_topic bigint, p_partition int, p_now float8, p_room int,
    p_cursor bigint[], p_last bigint[], OUT positions bigint[], OUT cursor bigint[]
) LANGUAGE plpgsql AS $$
DECLARE
    ready bigint[];
    delayed bigint[];
    delayed_at float8[];
    last_read bigint;
    seen int;
    wanted int;
BEGIN
    positions := '{}';
    cursor := p_cursor;
    FOR r IN REVERSE 3 .. 0 LOOP
        EXIT WHEN cardinality(positions) >= p_room;
        -- A lane whose cursor is at its last message has nothing unread: no query.
        CONTINUE WHEN cursor[r + 1] >= p_last[r + 1];
        LOOP
            wanted := p_room - cardinality(positions);
            SELECT array_agg(m.s ORDER BY m.s) FILTER (WHERE NOT m.later),
                   array_agg(m.s) FILTER (WHERE m.later),
                   array_agg(m.deliver_at) FILTER (WHERE m.later),
                   max(m.s), count(*)
              INTO ready, delayed, delayed_at, last_read, seen
              FROM (SELECT s, deliver_at, coalesce(deliver_at > p_now, false) AS later
                      FROM messages
                     WHERE topic_id = p_topic AND partition = p_partition AND rank = r
                       AND s > cursor[r + 1]
                     ORDER BY s LIMIT wanted) AS m;
            EXIT WHEN seen = 0;
            cursor[r + 1] := last_read;
            positions := positions || coalesce(ready, '{}');
            IF delayed IS NOT NULL THEN
                INSERT INTO scheduled (sub_id, partition, s, due, attempts)
                SELECT p_sub, p_partition, x.s, x.due, 0 FROM unnest(delayed, delayed_at) AS x (s, due)
                ON CONFLICT DO NOTHING;
            END IF;
            EXIT WHEN seen < wanted OR cardinality(positions) >= p_room;
        END LOOP;
    END LOOP;
END $$;

-- Ordered subscriptions: unread messages in publish order across lanes, one message in
-- flight (or scheduled) per key: a key's later messages wait in ``held``.
CREATE FUNCTION psg_claim_in_order(
    p_sub bigint, p_topic bigint, p_partition int, p_now float8, p_room int,
    p_cursor bigint, OUT positions bigint[], OUT cursor bigint
) LANGUAGE plpgsql AS $$
DECLARE
    m record;
    seen int;
    batch int;
BEGIN
    positions := '{}';
    cursor := p_cursor;
    LOOP
        batch := greatest(p_room - cardinality(positions), 64);
        seen := 0;
        FOR m IN SELECT x.s, x.key, x.deliver_at FROM psg_read_after(p_topic, p_partition, cursor, batch) AS x LOOP
            seen := seen + 1;
            cursor := m.s;
            IF m.key IS NOT NULL THEN
                IF EXISTS (SELECT 1 FROM busy_keys WHERE sub_id = p_sub
                              AND partition = p_partition AND key = m.key) THEN
                    INSERT INTO held (sub_id, partition, key, front, s)
                    VALUES (p_sub, p_partition, m.key, 1, m.s) ON CONFLICT DO NOTHING;
                    CONTINUE;
                END IF;
                INSERT INTO busy_keys (sub_id, partition, key) VALUES (p_sub, p_partition, m.key);
            END IF;
            IF m.deliver_at > p_now THEN
                INSERT INTO scheduled (sub_id, partition, s, due, attempts)
                VALUES (p_sub, p_partition, m.s, m.deliver_at, 0) ON CONFLICT DO NOTHING;
                CONTINUE;
            END IF;
            positions := positions || m.s;
            EXIT WHEN cardinality(positions) >= p_room;
        END LOOP;
        EXIT WHEN seen < batch OR cardinality(positions) >= p_room;
    END LOOP;
END $$;

-- One partition's share of a claim: due redeliveries first, then unread messages.
-- The caller holds the partition's cursor row.
CREATE FUNCTION psg_claim_partition(
    p_sub bigint, p_topic bigint, p_ordered boolean, p_partition int, p_now float8,
    p_room int, OUT positions bigint[], OUT attempts int[]
) LANGUAGE plpgsql AS $$
DECLARE
    cur bigint[];
    moved bigint[];
    last bigint[];
    unread bigint[];
    one bigint;
BEGIN
    SELECT d.positions, d.attempts INTO positions, attempts
      FROM psg_claim_due(p_sub, p_topic, p_partition, p_now, p_room) AS d;
    IF cardinality(positions) >= p_room THEN
        RETURN;
    END IF;
    SELECT c.c, pt.last_s INTO cur, last FROM cursors c
      JOIN partitions pt ON pt.topic_id = p_topic AND pt.partition = c.partition
     WHERE c.sub_id = p_sub AND c.partition = p_partition;
    IF p_ordered THEN
        IF cur[1] >= greatest(last[1], last[2], last[3], last[4]) THEN
            RETURN;
        END IF;
        SELECT o.positions, o.cursor INTO unread, one FROM psg_claim_in_order(
            p_sub, p_topic, p_partition, p_now, p_room - cardinality(positions), cur[1]) AS o;
        moved := ARRAY[one, one, one, one];
    ELSE
        SELECT l.positions, l.cursor INTO unread, moved FROM psg_claim_lanes(
            p_sub, p_topic, p_partition, p_now, p_room - cardinality(positions), cur, last) AS l;
    END IF;
    IF moved IS DISTINCT FROM cur THEN
        UPDATE cursors SET c = moved WHERE sub_id = p_sub AND partition = p_partition;
    END IF;
    positions := positions || unread;
    attempts := attempts || array_fill(1, ARRAY[cardinality(unread)]);
END $$;

-- Put up to p_limit ready messages of p_partitions in flight for p_member ('' = pulls
-- without a member) and return them with their ack ids, in delivery order.
--
-- Concurrency: the member's claims run one at a time (an advisory lock on the
-- subscription and member), so max_in_flight is exact. Partitions are taken with
-- FOR UPDATE SKIP LOCKED on their cursor rows, so concurrent claims (other members,
-- other broker processes) read different partitions and never hand out one message
-- twice; a claim that finds every partition taken waits for one of them rather than
-- answering empty while messages wait.
CREATE FUNCTION psg_claim(
    p_sub text, p_partitions int[], p_limit int, p_now float8, p_member text
) RETURNS TABLE (
    r_ack bigint, r_attempt int, r_partition int, r_s bigint, r_published float8,
    r_data bytea, r_key text, r_attributes bytea, r_mode smallint, r_expires float8,
    r_deliver float8, r_dedup text, r_compression smallint
) LANGUAGE plpgsql AS $$
DECLARE
    sub subscriptions;
    budget int;
    locked int[];
    share int;
    quota int;
    room int;
    part int;
    out_p int[] := '{}';
    out_s bigint[] := '{}';
    out_a int[] := '{}';
    exhausted int[] := '{}';
    taken record;
    ack_base bigint;
BEGIN
    -- A claim lost in a crash costs a redelivery, never a message: its commit need not wait
    -- for the disk, and the locks it holds (the member's, the cursor rows) go at once.
    PERFORM set_config('synchronous_commit', 'off', true);
    SELECT * INTO sub FROM subscriptions WHERE name = p_sub;
    IF NOT FOUND THEN
        RAISE EXCEPTION USING ERRCODE = 'PSG03', MESSAGE = p_sub;
    END IF;
    IF p_member <> '' AND NOT EXISTS (
        SELECT 1 FROM groups g WHERE g.sub_id = sub.id AND p_member = ANY (g.members)
    ) THEN
        RAISE EXCEPTION USING ERRCODE = 'PSG04', MESSAGE = p_member;
    END IF;
    PERFORM pg_advisory_xact_lock(hashtextextended(p_member, sub.id));
    SELECT least(p_limit, sub.max_in_flight - count(*)) INTO budget
      FROM in_flight WHERE sub_id = sub.id AND member = p_member;
    IF budget <= 0 OR cardinality(p_partitions) = 0 THEN
        RETURN;
    END IF;

    SELECT array_agg(x.partition ORDER BY x.partition) INTO locked FROM (
        SELECT c.partition FROM cursors c
         WHERE c.sub_id = sub.id AND c.partition = ANY (p_partitions)
         ORDER BY c.partition FOR UPDATE SKIP LOCKED
    ) AS x;
    IF locked IS NULL THEN
        SELECT ARRAY[c.partition] INTO locked FROM cursors c
         WHERE c.sub_id = sub.id
           AND c.partition = p_partitions[1 + floor(random() * cardinality(p_partitions))::int]
           FOR UPDATE;
        IF locked IS NULL THEN
            IF NOT EXISTS (SELECT 1 FROM subscriptions WHERE id = sub.id) THEN
                RAISE EXCEPTION USING ERRCODE = 'PSG03', MESSAGE = p_sub;
            END IF;
            RETURN;
        END IF;
    END IF;

    -- A first pass gives each partition a fair share; a second fills what is left from
    -- the partitions that filled their share.
    share := ceil(budget::numeric / cardinality(locked));
    FOREACH quota IN ARRAY ARRAY[share, budget] LOOP
        FOREACH part IN ARRAY locked LOOP
            CONTINUE WHEN part = ANY (exhausted);
            room := least(quota, budget - cardinality(out_s));
            EXIT WHEN room <= 0;
            SELECT * INTO taken FROM psg_claim_partition(
                sub.id, sub.topic_id, sub.ordered, part, p_now, room);
            IF cardinality(taken.positions) < room THEN
                exhausted := exhausted || part;
            END IF;
            out_p := out_p || array_fill(part, ARRAY[cardinality(taken.positions)]);
            out_s := out_s || taken.positions;
            out_a := out_a || taken.attempts;
        END LOOP;
    END LOOP;
    IF cardinality(out_s) = 0 THEN
        RETURN;
    END IF;

    -- Ack ids: one sequence number per claim, its deliveries numbered under it.
    ack_base := nextval('ack_ids') * 4096;
    RETURN QUERY
    WITH picked AS (
        SELECT u.i, u.p, u.s, u.a, m.published_at, m.data, m.key, m.attributes, m.mode,
               m.expires_at, m.deliver_at, m.dedup_id, m.compression
          FROM unnest(out_p, out_s, out_a) WITH ORDINALITY AS u (p, s, a, i)
         CROSS JOIN LATERAL psg_message(sub.topic_id, u.p, u.s) AS m
    ), recorded AS (
        INSERT INTO in_flight (sub_id, ack, partition, s, attempt, deadline, member, key,
                               exactly_once, published_at)
        SELECT sub.id, ack_base + pk.i, pk.p, pk.s, pk.a, p_now + sub.ack_deadline, p_member,
               CASE WHEN sub.ordered THEN pk.key END, pk.mode = 2, pk.published_at
          FROM picked pk
    )
    SELECT ack_base + pk.i, pk.a, pk.p, pk.s, pk.published_at, pk.data, pk.key, pk.attributes,
           pk.mode, pk.expires_at, pk.deliver_at, pk.dedup_id, pk.compression
      FROM picked pk ORDER BY pk.i;
END $$;
