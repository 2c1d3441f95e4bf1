-- messages.sql: topics and their messages (schema version 1).
-- Errors the broker maps: PSG01 topic not found, PSG02 topic full.

CREATE FUNCTION psg_topic_create(
    p_name text, p_partitions int, p_max_messages bigint, p_drop_oldest boolean,
    p_dedup_window float8, p_record bytea
) RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE
    tid bigint;
BEGIN
    INSERT INTO topics (name, partitions, max_messages, drop_oldest, dedup_window, record)
    VALUES (p_name, p_partitions, p_max_messages, p_drop_oldest, p_dedup_window, p_record)
    ON CONFLICT (name) DO NOTHING
    RETURNING id INTO tid;
    IF tid IS NULL THEN
        RETURN false;
    END IF;
    INSERT INTO partitions (topic_id, partition)
    SELECT tid, g FROM generate_series(0, p_partitions - 1) AS g;
    RETURN true;
END $$;

-- Delete a topic with its messages (its subscriptions go first, see psg_sub_delete).
-- Deleting the topic row waits for publishes holding its partitions, so the messages
-- they stored are seen, and removed, by the statements after it.
CREATE FUNCTION psg_topic_delete(p_name text) RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE
    tid bigint;
    sub text;
BEGIN
    FOR sub IN SELECT s.name FROM subscriptions s JOIN topics t ON t.id = s.topic_id
               WHERE t.name = p_name LOOP
        PERFORM psg_sub_delete(sub);
    END LOOP;
    DELETE FROM topics WHERE name = p_name RETURNING id INTO tid;
    IF tid IS NULL THEN
        RETURN false;
    END IF;
    DELETE FROM messages WHERE topic_id = tid;
    DELETE FROM dedup WHERE topic_id = tid;
    RETURN true;
END $$;

-- Resolve a batch's dedup ids: for each draft, the id of the message it repeats (an
-- earlier one whose window is still open at the draft's publish time, or one earlier in
-- the batch), or NULL when the draft is to be stored. Rows in draft order.
CREATE FUNCTION psg_dedup_resolve(
    p_topic bigint, p_dedups text[], p_published float8[],
    OUT repeats text[], OUT first_of int[]
) LANGUAGE plpgsql AS $$
DECLARE
    old_ids text[];
    old_expiry float8[];
    seen jsonb := '{}';
    u text;
BEGIN
    SELECT array_agg(d.message_id ORDER BY x.i), array_agg(d.expires_at ORDER BY x.i)
      INTO old_ids, old_expiry
      FROM unnest(p_dedups) WITH ORDINALITY AS x (u, i)
      LEFT JOIN dedup d ON d.topic_id = p_topic AND d.dedup_id = x.u;
    repeats := array_fill(NULL::text, ARRAY[cardinality(p_dedups)]);
    first_of := array_fill(NULL::int, ARRAY[cardinality(p_dedups)]);
    FOR i IN 1 .. cardinality(p_dedups) LOOP
        u := p_dedups[i];
        CONTINUE WHEN u IS NULL;
        IF old_ids[i] IS NOT NULL AND old_expiry[i] > p_published[i] THEN
            repeats[i] := old_ids[i];
        ELSIF seen ? u THEN
            first_of[i] := (seen ->> u)::int;
        ELSE
            seen := seen || jsonb_build_object(u, i);
        END IF;
    END LOOP;
END $$;

-- Store a batch atomically; returns one id per draft, in order. Option arrays may be
-- NULL (no draft has that option): unnest pads them with NULLs.
CREATE FUNCTION psg_append(
    p_topic text,
    p_parts int[], p_ranks smallint[], p_data bytea[], p_published float8[],
    p_keys text[], p_attributes bytea[], p_modes smallint[], p_expires float8[],
    p_delivers float8[], p_dedups text[], p_compressions smallint[]
) RETURNS text[] LANGUAGE plpgsql AS $$
DECLARE
    t topics;
    n int := cardinality(p_parts);
    stored bigint := 0;
    locked int;
    repeats text[];
    first_of int[];
    fresh boolean[];
    fresh_count int := n;
    ids text[];
    orders bigint[];
    numbers int[];
    positions bigint[];
    slot int;
BEGIN
    SELECT * INTO t FROM topics WHERE name = p_topic;
    IF NOT FOUND THEN
        RAISE EXCEPTION USING ERRCODE = 'PSG01', MESSAGE = p_topic;
    END IF;
    -- Lock the partitions written (all of them on a bounded topic, whose bound spans them),
    -- in partition order so that two batches never wait for each other in a circle.
    IF t.max_messages > 0 THEN
        SELECT count(*), coalesce(sum(x.messages), 0) INTO locked, stored FROM (
            SELECT messages FROM partitions WHERE topic_id = t.id ORDER BY partition FOR UPDATE
        ) AS x;
    ELSE
        SELECT count(*) INTO locked FROM (
            SELECT 1 FROM partitions
             WHERE topic_id = t.id AND partition = ANY (p_parts)
             ORDER BY partition FOR UPDATE
        ) AS x;
    END IF;
    IF locked = 0 THEN  -- deleted meanwhile
        RAISE EXCEPTION USING ERRCODE = 'PSG01', MESSAGE = p_topic;
    END IF;

    IF p_dedups IS NOT NULL AND t.dedup_window > 0 THEN
        DELETE FROM dedup WHERE topic_id = t.id AND dedup_id = ANY (ARRAY(
            SELECT dedup_id FROM dedup WHERE topic_id = t.id AND expires_at <= p_published[1]
             LIMIT 1000));
        SELECT r.repeats, r.first_of INTO repeats, first_of
          FROM psg_dedup_resolve(t.id, p_dedups, p_published) AS r;
        SELECT array_agg(repeats[i] IS NULL AND first_of[i] IS NULL ORDER BY i)
          INTO fresh FROM generate_series(1, n) AS i;
        SELECT count(*) INTO fresh_count FROM unnest(fresh) AS f WHERE f;
    END IF;

    IF t.max_messages > 0 AND NOT t.drop_oldest AND stored + fresh_count > t.max_messages THEN
        RAISE EXCEPTION USING ERRCODE = 'PSG02', MESSAGE = p_topic;
    END IF;

    -- Positions: the partitions' next orders, counted on draft by draft (a window
    -- function would sort the batch, payloads and all).
    SELECT array_agg(pt.next_order ORDER BY pt.partition),
           array_agg(pt.partition ORDER BY pt.partition)
      INTO orders, numbers
      FROM partitions pt WHERE pt.topic_id = t.id AND pt.partition = ANY (p_parts);
    positions := array_fill(NULL::bigint, ARRAY[n]);
    FOR i IN 1 .. n LOOP
        IF fresh IS NULL OR fresh[i] THEN
            slot := array_position(numbers, p_parts[i]);
            positions[i] := orders[slot] * 4 + p_ranks[i];
            orders[slot] := orders[slot] + 1;
        END IF;
    END LOOP;

    INSERT INTO messages (topic_id, partition, rank, s, published_at, data, key, attributes,
                          mode, expires_at, deliver_at, dedup_id, compression)
    SELECT t.id, u.p, u.r, u.s, u.pub, u.data, u.key, u.attrs, coalesce(u.mode, 0), u.exp,
           u.dlv, u.dedup, coalesce(u.comp, 0)
      FROM unnest(p_parts, p_ranks, positions, p_data, p_published, p_keys, p_attributes,
                  p_modes, p_expires, p_delivers, p_dedups, p_compressions)
           AS u (p, r, s, data, pub, key, attrs, mode, exp, dlv, dedup, comp)
     WHERE u.s IS NOT NULL;

    UPDATE partitions pt
       SET next_order = pt.next_order + x.cnt,
           messages = pt.messages + x.cnt,
           bytes = pt.bytes + x.size,
           publishes = pt.publishes + x.cnt,
           last_publish = greatest(pt.last_publish, x.last_pub),
           last_s = ARRAY[coalesce(x.l0, pt.last_s[1]), coalesce(x.l1, pt.last_s[2]),
                          coalesce(x.l2, pt.last_s[3]), coalesce(x.l3, pt.last_s[4])]
      FROM (SELECT p, count(s) AS cnt,
                   coalesce(sum(octet_length(data)) FILTER (WHERE s IS NOT NULL), 0) AS size,
                   max(pub) AS last_pub,
                   max(s) FILTER (WHERE r = 0) AS l0, max(s) FILTER (WHERE r = 1) AS l1,
                   max(s) FILTER (WHERE r = 2) AS l2, max(s) FILTER (WHERE r = 3) AS l3
              FROM unnest(p_parts, p_ranks, positions, p_data, p_published)
                   AS u (p, r, s, data, pub)
             GROUP BY p) AS x
     WHERE pt.topic_id = t.id AND pt.partition = x.p;

    SELECT array_agg(CASE WHEN u.s IS NOT NULL THEN u.p || '-' || u.s END ORDER BY u.i)
      INTO ids FROM unnest(p_parts, positions) WITH ORDINALITY AS u (p, s, i);

    IF fresh IS NOT NULL THEN
        FOR i IN 1 .. n LOOP
            IF repeats[i] IS NOT NULL THEN
                ids[i] := repeats[i];
            ELSIF first_of[i] IS NOT NULL THEN
                ids[i] := ids[first_of[i]];
            END IF;
        END LOOP;
        INSERT INTO dedup (topic_id, dedup_id, message_id, expires_at)
        SELECT t.id, p_dedups[i], ids[i], p_published[i] + t.dedup_window
          FROM generate_series(1, n) AS i
         WHERE fresh[i] AND p_dedups[i] IS NOT NULL
        ON CONFLICT (topic_id, dedup_id)
        DO UPDATE SET message_id = excluded.message_id, expires_at = excluded.expires_at;
    END IF;

    IF t.max_messages > 0 AND t.drop_oldest AND stored + fresh_count > t.max_messages THEN
        PERFORM psg_drop_oldest(t.id, t.partitions, stored + fresh_count - t.max_messages);
    END IF;
    -- No NOTIFY here: a transaction that notifies holds a database-wide lock from its
    -- commit until it is flushed, which would serialise every publish (the broker sends
    -- wake-ups afterwards, a few per second at most per process; see signal.py).
    RETURN ids;
END $$;

-- Remove a bounded topic's ``excess`` oldest messages (by publish time, then partition,
-- then publish order), reading only the head of each lane.
CREATE FUNCTION psg_drop_oldest(p_topic bigint, p_partitions int, p_excess bigint)
RETURNS void LANGUAGE sql AS $$
    WITH victims AS (
        SELECT m.ctid AS row_id
          FROM generate_series(0, p_partitions - 1) AS p
         CROSS JOIN generate_series(0, 3) AS r
         CROSS JOIN LATERAL (
               SELECT ctid, partition, s, published_at FROM messages
                WHERE topic_id = p_topic AND partition = p AND rank = r
                ORDER BY s LIMIT p_excess) AS m
         ORDER BY m.published_at, m.partition, m.s
         LIMIT p_excess
    ), gone AS (
        -- By row address: a join on the key may be planned as a scan of the whole topic.
        DELETE FROM messages m WHERE m.ctid = ANY (ARRAY(SELECT row_id FROM victims))
        RETURNING m.partition, length(m.data) AS size
    )
    UPDATE partitions pt SET messages = pt.messages - g.cnt, bytes = pt.bytes - g.size
      FROM (SELECT partition, count(*) AS cnt, sum(size) AS size FROM gone GROUP BY partition) AS g
     WHERE pt.topic_id = p_topic AND pt.partition = g.partition
$$;

-- Delete messages by (partition, position); returns how many were stored.
CREATE FUNCTION psg_remove(p_topic text, p_parts int[], p_positions bigint[])
RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    tid bigint;
    removed bigint;
BEGIN
    SELECT id INTO tid FROM topics WHERE name = p_topic;
    IF tid IS NULL THEN
        RETURN 0;
    END IF;
    PERFORM 1 FROM partitions WHERE topic_id = tid AND partition = ANY (p_parts)
      ORDER BY partition FOR UPDATE;
    WITH gone AS (
        DELETE FROM messages m WHERE m.ctid = ANY (ARRAY(
            SELECT found.ctid FROM unnest(p_parts, p_positions) AS x (p, s)
             CROSS JOIN LATERAL (
                   SELECT ctid FROM messages
                    WHERE topic_id = tid AND partition = x.p AND rank = x.s % 4 AND s = x.s
                    LIMIT 1) AS found))
        RETURNING m.partition, length(m.data) AS size
    ), counted AS (
        UPDATE partitions pt SET messages = pt.messages - g.cnt, bytes = pt.bytes - g.size
          FROM (SELECT partition, count(*) AS cnt, sum(size) AS size FROM gone
                 GROUP BY partition) AS g
         WHERE pt.topic_id = tid AND pt.partition = g.partition
    )
    SELECT count(*) INTO removed FROM gone;
    RETURN removed;
END $$;

-- Retention for one partition: delete up to ``p_most`` messages published before
-- ``p_before`` from the head of each lane (like a log's retention). The partition's row
-- is locked only while this one statement runs; the next duty round does the rest.
CREATE FUNCTION psg_trim(p_topic bigint, p_partition int, p_before float8, p_most int)
RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    removed bigint;
BEGIN
    PERFORM 1 FROM partitions WHERE topic_id = p_topic AND partition = p_partition FOR UPDATE;
    WITH heads AS (
        SELECT m.ctid AS row_id, m.rank, m.s, m.published_at
          FROM generate_series(0, 3) AS r
         CROSS JOIN LATERAL (
               SELECT ctid, rank, s, published_at FROM messages
                WHERE topic_id = p_topic AND partition = p_partition AND rank = r
                ORDER BY s LIMIT p_most) AS m
    ), stops AS (  -- per lane, the first message young enough to stay
        SELECT rank, min(s) FILTER (WHERE published_at >= p_before) AS stop FROM heads
         GROUP BY rank
    ), victims AS (
        SELECT h.row_id FROM heads h JOIN stops st USING (rank)
         WHERE st.stop IS NULL OR h.s < st.stop
         ORDER BY h.s LIMIT p_most
    ), gone AS (
        DELETE FROM messages m WHERE m.ctid = ANY (ARRAY(SELECT row_id FROM victims))
        RETURNING length(m.data) AS size
    ), counted AS (
        UPDATE partitions pt
           SET messages = pt.messages - (SELECT count(*) FROM gone),
               bytes = pt.bytes - (SELECT coalesce(sum(size), 0) FROM gone)
         WHERE pt.topic_id = p_topic AND pt.partition = p_partition
    )
    SELECT count(*) INTO removed FROM gone;
    RETURN removed;
END $$;

-- Up to ``p_limit`` messages of one partition after position ``p_after``, in publish
-- order: the four lanes merged (each read in order from its index).
CREATE FUNCTION psg_read_after(p_topic bigint, p_partition int, p_after bigint, p_limit int)
RETURNS SETOF messages LANGUAGE sql STABLE AS $$
    SELECT * FROM (
        (SELECT * FROM messages WHERE topic_id = p_topic AND partition = p_partition
            AND rank = 0 AND s > p_after ORDER BY s LIMIT p_limit)
        UNION ALL
        (SELECT * FROM messages WHERE topic_id = p_topic AND partition = p_partition
            AND rank = 1 AND s > p_after ORDER BY s LIMIT p_limit)
        UNION ALL
        (SELECT * FROM messages WHERE topic_id = p_topic AND partition = p_partition
            AND rank = 2 AND s > p_after ORDER BY s LIMIT p_limit)
        UNION ALL
        (SELECT * FROM messages WHERE topic_id = p_topic AND partition = p_partition
            AND rank = 3 AND s > p_after ORDER BY s LIMIT p_limit)
    ) AS m ORDER BY s LIMIT p_limit
$$;

-- Browse: stored messages partition by partition in publish order, after (partition,
-- position); NULL when the topic does not exist.
CREATE FUNCTION psg_browse(p_topic text, p_partition int, p_after bigint, p_limit int)
RETURNS SETOF messages LANGUAGE plpgsql STABLE AS $$
DECLARE
    t topics;
    so_far int := 0;
    got int;
BEGIN
    SELECT * INTO t FROM topics WHERE name = p_topic;
    IF NOT FOUND THEN
        RAISE EXCEPTION USING ERRCODE = 'PSG01', MESSAGE = p_topic;
    END IF;
    FOR p IN p_partition .. t.partitions - 1 LOOP
        RETURN QUERY SELECT * FROM psg_read_after(
            t.id, p, CASE WHEN p = p_partition THEN p_after ELSE -1 END, p_limit - so_far);
        GET DIAGNOSTICS got = ROW_COUNT;
        so_far := so_far + got;
        EXIT WHEN so_far >= p_limit;
    END LOOP;
END $$;
