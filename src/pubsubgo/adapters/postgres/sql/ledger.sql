-- ledger.sql: settling, releasing and re-queueing deliveries (schema version 1).

-- An ordered subscription's key is free again: its next held message is due now, or the
-- key is no longer busy. The caller holds the partition's cursor row.
CREATE FUNCTION psg_release_key(p_sub bigint, p_partition int, p_key text, p_now float8)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    next_s bigint;
    next_front smallint;
BEGIN
    SELECT s, front INTO next_s, next_front FROM held
     WHERE sub_id = p_sub AND partition = p_partition AND key = p_key
     ORDER BY front, s LIMIT 1;
    IF NOT FOUND THEN
        DELETE FROM busy_keys WHERE sub_id = p_sub AND partition = p_partition AND key = p_key;
        RETURN;
    END IF;
    DELETE FROM held WHERE sub_id = p_sub AND partition = p_partition AND key = p_key
       AND front = next_front AND s = next_s;
    INSERT INTO scheduled (sub_id, partition, s, due, attempts)
    VALUES (p_sub, p_partition, next_s, p_now, 0)
    ON CONFLICT (sub_id, partition, s) DO UPDATE SET due = excluded.due;
END $$;

-- Lock the cursor rows of the partitions named by in-flight deliveries of an ordered
-- subscription, in order: their keys change only under that lock (see psg_claim).
CREATE FUNCTION psg_lock_partitions_of(p_sub bigint, p_acks bigint[])
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    PERFORM 1 FROM cursors
      WHERE sub_id = p_sub AND partition IN (
            SELECT partition FROM in_flight WHERE sub_id = p_sub AND ack = ANY (p_acks)
               AND key IS NOT NULL)
      ORDER BY partition FOR UPDATE;
END $$;

-- Acknowledge deliveries; returns those settled with their publish times. An
-- exactly-once delivery past its deadline is refused unless p_force.
CREATE FUNCTION psg_settle(p_sub text, p_acks bigint[], p_now float8, p_force boolean)
RETURNS TABLE (r_ack bigint, r_published float8) LANGUAGE plpgsql AS $$
DECLARE
    sub subscriptions;
    gone record;
BEGIN
    SELECT * INTO sub FROM subscriptions WHERE name = p_sub;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    IF NOT sub.ordered THEN
        RETURN QUERY
        WITH settled AS (
            DELETE FROM in_flight f
             WHERE f.sub_id = sub.id AND f.ack = ANY (p_acks)
               AND (p_force OR NOT f.exactly_once OR p_now <= f.deadline)
            RETURNING f.ack, f.published_at
        )
        SELECT * FROM settled;
        RETURN;
    END IF;
    PERFORM psg_lock_partitions_of(sub.id, p_acks);
    FOR gone IN
        DELETE FROM in_flight f
         WHERE f.sub_id = sub.id AND f.ack = ANY (p_acks)
           AND (p_force OR NOT f.exactly_once OR p_now <= f.deadline)
        RETURNING f.ack, f.published_at, f.partition, f.key
    LOOP
        IF gone.key IS NOT NULL THEN
            PERFORM psg_release_key(sub.id, gone.partition, gone.key, p_now);
        END IF;
        r_ack := gone.ack;
        r_published := gone.published_at;
        RETURN NEXT;
    END LOOP;
END $$;

-- Return deliveries to the schedule, due at their time, with the attempts made so far
-- (the key of an ordered subscription stays busy: this message is still its next one).
CREATE FUNCTION psg_release(p_sub text, p_acks bigint[], p_due float8[])
RETURNS SETOF bigint LANGUAGE sql AS $$
    WITH back AS (
        DELETE FROM in_flight f USING unnest(p_acks, p_due) AS r (ack, due), subscriptions s
         WHERE s.name = p_sub AND f.sub_id = s.id AND f.ack = r.ack
        RETURNING f.sub_id, f.ack, f.partition, f.s, f.attempt, r.due
    ), queued AS (
        INSERT INTO scheduled (sub_id, partition, s, due, attempts)
        SELECT DISTINCT ON (partition, s) sub_id, partition, s, due, attempt FROM back
         ORDER BY partition, s, due
        ON CONFLICT (sub_id, partition, s)
        DO UPDATE SET due = excluded.due, attempts = excluded.attempts
    )
    SELECT ack FROM back
$$;

CREATE FUNCTION psg_extend(p_sub text, p_acks bigint[], p_deadline float8)
RETURNS SETOF bigint LANGUAGE sql AS $$
    UPDATE in_flight f SET deadline = p_deadline FROM subscriptions s
     WHERE s.name = p_sub AND f.sub_id = s.id AND f.ack = ANY (p_acks)
    RETURNING f.ack
$$;

-- Queue stored messages for this subscription alone (redrive); returns those queued.
-- In an ordered subscription a message whose key is busy waits at the head of its line.
CREATE FUNCTION psg_redeliver(
    p_sub text, p_parts int[], p_positions bigint[], p_due float8[], p_attempts int[]
) RETURNS TABLE (r_partition int, r_s bigint) LANGUAGE plpgsql AS $$
DECLARE
    sub subscriptions;
    e record;
BEGIN
    SELECT * INTO sub FROM subscriptions WHERE name = p_sub;
    IF NOT FOUND THEN
        RAISE EXCEPTION USING ERRCODE = 'PSG03', MESSAGE = p_sub;
    END IF;
    IF NOT sub.ordered THEN
        RETURN QUERY
        WITH present AS (
            SELECT DISTINCT ON (x.p, x.s) x.p, x.s, x.due, x.attempts
              FROM unnest(p_parts, p_positions, p_due, p_attempts) AS x (p, s, due, attempts)
             CROSS JOIN LATERAL psg_message(sub.topic_id, x.p, x.s) AS m
        ), queued AS (
            INSERT INTO scheduled (sub_id, partition, s, due, attempts)
            SELECT sub.id, f.p, f.s, f.due, f.attempts FROM present f
            ON CONFLICT (sub_id, partition, s)
            DO UPDATE SET due = excluded.due, attempts = excluded.attempts
        )
        SELECT f.p, f.s FROM present f;
        RETURN;
    END IF;
    PERFORM 1 FROM cursors WHERE sub_id = sub.id AND partition = ANY (p_parts)
      ORDER BY partition FOR UPDATE;
    FOR e IN
        SELECT x.p, x.s, x.due, x.attempts, m.key
          FROM unnest(p_parts, p_positions, p_due, p_attempts) AS x (p, s, due, attempts)
         CROSS JOIN LATERAL psg_message(sub.topic_id, x.p, x.s) AS m
    LOOP
        IF e.key IS NOT NULL AND EXISTS (SELECT 1 FROM busy_keys WHERE sub_id = sub.id
                                            AND partition = e.p AND key = e.key) THEN
            INSERT INTO held (sub_id, partition, key, front, s)
            VALUES (sub.id, e.p, e.key, 0, e.s) ON CONFLICT DO NOTHING;
        ELSE
            IF e.key IS NOT NULL THEN
                INSERT INTO busy_keys (sub_id, partition, key) VALUES (sub.id, e.p, e.key);
            END IF;
            INSERT INTO scheduled (sub_id, partition, s, due, attempts)
            VALUES (sub.id, e.p, e.s, e.due, e.attempts)
            ON CONFLICT (sub_id, partition, s)
            DO UPDATE SET due = excluded.due, attempts = excluded.attempts;
        END IF;
        r_partition := e.p;
        r_s := e.s;
        RETURN NEXT;
    END LOOP;
END $$;
