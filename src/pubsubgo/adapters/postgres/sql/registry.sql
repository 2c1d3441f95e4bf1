-- registry.sql: subscriptions, their positions and consumer groups (schema version 1).

-- Read positions of a subscription in every partition of its topic: 'earliest' (before
-- everything), 'latest' (after everything stored) or 'timestamp' (before the first
-- message published at or after p_stamp; an ordered subscription reads in publish order,
-- so its lanes share the earliest such position).
CREATE FUNCTION psg_positions(p_topic bigint, p_ordered boolean, p_target text, p_stamp float8)
RETURNS TABLE (r_partition int, r_cursor bigint[]) LANGUAGE sql STABLE AS $$
    SELECT pt.partition,
           CASE p_target
               WHEN 'earliest' THEN '{-1,-1,-1,-1}'::bigint[]
               WHEN 'latest' THEN array_fill(pt.next_order * 4 - 1, ARRAY[4])
               ELSE (
                   SELECT CASE WHEN p_ordered THEN array_fill(
                                   coalesce(min(f.first) - 1, pt.next_order * 4 - 1), ARRAY[4])
                          ELSE array_agg(coalesce(f.first - 1, pt.last_s[f.r + 1]) ORDER BY f.r)
                          END
                     FROM (SELECT r, (SELECT s FROM messages m
                                       WHERE m.topic_id = p_topic AND m.partition = pt.partition
                                         AND m.rank = r AND m.published_at >= p_stamp
                                       ORDER BY s LIMIT 1) AS first
                             FROM generate_series(0, 3) AS r) AS f)
           END
      FROM partitions pt WHERE pt.topic_id = p_topic
$$;

-- Register a subscription of an existing topic, positioned per p_start.
CREATE FUNCTION psg_sub_create(
    p_name text, p_topic text, p_ordered boolean, p_ack_deadline float8,
    p_max_in_flight int, p_start text, p_record bytea
) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    tid bigint;
    sid bigint;
BEGIN
    -- FOR KEY SHARE: a topic being deleted waits for this, or this for the deletion.
    SELECT id INTO tid FROM topics WHERE name = p_topic FOR KEY SHARE;
    IF tid IS NULL THEN
        RETURN 'NOTOPIC';
    END IF;
    INSERT INTO subscriptions (name, topic_id, ordered, ack_deadline, max_in_flight, record)
    VALUES (p_name, tid, p_ordered, p_ack_deadline, p_max_in_flight, p_record)
    ON CONFLICT (name) DO NOTHING
    RETURNING id INTO sid;
    IF sid IS NULL THEN
        RETURN 'EXISTS';
    END IF;
    INSERT INTO cursors (sub_id, partition, c)
    SELECT sid, r_partition, r_cursor FROM psg_positions(tid, p_ordered, p_start, 0);
    RETURN 'OK';
END $$;

-- Drop what a subscription had in flight or queued (delete, seek).
CREATE FUNCTION psg_sub_clear(p_sub bigint) RETURNS void LANGUAGE sql AS $$
    DELETE FROM in_flight WHERE sub_id = p_sub;
    DELETE FROM scheduled WHERE sub_id = p_sub;
    DELETE FROM busy_keys WHERE sub_id = p_sub;
    DELETE FROM held WHERE sub_id = p_sub;
$$;

-- Move a subscription's read positions and drop what it had in flight or queued.
CREATE FUNCTION psg_seek(p_sub text, p_target text, p_stamp float8)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    sub subscriptions;
BEGIN
    SELECT * INTO sub FROM subscriptions WHERE name = p_sub;
    IF NOT FOUND THEN
        RAISE EXCEPTION USING ERRCODE = 'PSG03', MESSAGE = p_sub;
    END IF;
    PERFORM 1 FROM cursors WHERE sub_id = sub.id ORDER BY partition FOR UPDATE;
    UPDATE cursors c SET c = p.r_cursor
      FROM psg_positions(sub.topic_id, sub.ordered, p_target, p_stamp) AS p
     WHERE c.sub_id = sub.id AND c.partition = p.r_partition;
    PERFORM psg_sub_clear(sub.id);
END $$;

-- Unregister a subscription with its group, positions and deliveries; returns its
-- record, or NULL when there was none.
CREATE FUNCTION psg_sub_delete(p_name text) RETURNS bytea LANGUAGE plpgsql AS $$
DECLARE
    sid bigint;
    rec bytea;
BEGIN
    -- Cascades to its cursors and group, waiting for claims that hold cursor rows.
    DELETE FROM subscriptions WHERE name = p_name RETURNING id, record INTO sid, rec;
    IF sid IS NOT NULL THEN
        PERFORM psg_sub_clear(sid);
    END IF;
    RETURN rec;
END $$;

-- How far behind a subscription is: unread, scheduled (held included), in flight, and
-- the publish time of its oldest unacknowledged message. Counts rows: for describe, not
-- for a hot path.
CREATE FUNCTION psg_sub_stats(p_sub text)
RETURNS TABLE (r_unread bigint, r_scheduled bigint, r_in_flight bigint, r_oldest float8)
LANGUAGE plpgsql STABLE AS $$
DECLARE
    sub subscriptions;
BEGIN
    SELECT * INTO sub FROM subscriptions WHERE name = p_sub;
    IF NOT FOUND THEN
        RAISE EXCEPTION USING ERRCODE = 'PSG03', MESSAGE = p_sub;
    END IF;
    RETURN QUERY SELECT
        (SELECT count(*) FROM cursors c CROSS JOIN generate_series(0, 3) AS r
           JOIN messages m ON m.topic_id = sub.topic_id AND m.partition = c.partition
                          AND m.rank = r AND m.s > c.c[r + 1]
          WHERE c.sub_id = sub.id),
        (SELECT count(*) FROM scheduled WHERE sub_id = sub.id)
            + (SELECT count(*) FROM held WHERE sub_id = sub.id),
        (SELECT count(*) FROM in_flight WHERE sub_id = sub.id),
        (SELECT min(t) FROM (
            SELECT (SELECT m.published_at FROM messages m
                     WHERE m.topic_id = sub.topic_id AND m.partition = c.partition
                       AND m.rank = r AND m.s > c.c[r + 1] ORDER BY m.s LIMIT 1) AS t
              FROM cursors c CROSS JOIN generate_series(0, 3) AS r WHERE c.sub_id = sub.id
            UNION ALL
            SELECT m.published_at FROM scheduled q
             CROSS JOIN LATERAL psg_message(sub.topic_id, q.partition, q.s) AS m
             WHERE q.sub_id = sub.id
            UNION ALL
            SELECT m.published_at FROM held h
             CROSS JOIN LATERAL psg_message(sub.topic_id, h.partition, h.s) AS m
             WHERE h.sub_id = sub.id
            UNION ALL
            SELECT published_at FROM in_flight WHERE sub_id = sub.id
        ) AS oldest);
END $$;

-- Replace a group's state if its generation is as expected: 'OK', 'NOSUB', or the
-- current generation (as text) on a conflict.
CREATE FUNCTION psg_group_save(
    p_sub text, p_expected bigint, p_generation bigint, p_state bytea, p_members text[]
) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    sid bigint;
    current bigint;
BEGIN
    SELECT id INTO sid FROM subscriptions WHERE name = p_sub FOR KEY SHARE;
    IF sid IS NULL THEN
        RETURN 'NOSUB';
    END IF;
    UPDATE groups SET generation = p_generation, state = p_state, members = p_members
     WHERE sub_id = sid AND generation = p_expected;
    IF FOUND THEN
        RETURN 'OK';
    END IF;
    IF p_expected = 0 THEN
        INSERT INTO groups (sub_id, generation, state, members)
        VALUES (sid, p_generation, p_state, p_members)
        ON CONFLICT (sub_id) DO NOTHING;
        IF FOUND THEN
            RETURN 'OK';
        END IF;
    END IF;
    SELECT generation INTO current FROM groups WHERE sub_id = sid;
    RETURN coalesce(current, 0)::text;
END $$;
