-- messagedb's own write path: a group of writes in one call (one round trip, one transaction).
--
-- Locks, in this order, held until commit:
-- 1. the namespace lock, shared: writers never wait for each other on it; a whole-namespace
--    reader that finds a global position missing below visible ones waits until every writer
--    holding it then has finished (core/src/postgres/read.rs), so it never skips a message
--    committed late. The write_message of schemas messagedb creates takes it too (an adopted
--    Message DB schema keeps its own functions).
-- 2. the per-category locks of write_message (hash_64(category), computed by the caller; sorted,
--    so writers touching several categories cannot deadlock): within a category, commit order is
--    global-position order, as in Message DB.
--
-- Each stream appears at most once per call (the caller puts repeats in its next call). Each
-- write's expected version is checked after the locks are held; a write that fails is reported in
-- its row and writes nothing, its neighbours land. Statement plans are generic (planned once per
-- session) and must use the indexes even when the table was empty when they were planned.
-- It sends no NOTIFY: a transaction that notifies holds PostgreSQL's global notify lock through
-- its commit, which would serialize every writer's commit; the caller notifies after committing.

CREATE FUNCTION messagedb_write(
    _namespace_lock bigint,   -- hash_64('messagedb:' || schema)
    _category_locks bigint[], -- hash_64 of each category written, sorted, without repeats
    _stream text[],           -- per write, each stream once
    _expected bigint[],       -- per write: the expected version or NULL
    _count integer[],         -- per write: how many messages it has (they follow the previous write's)
    _type text[],             -- per message
    _data text[],             -- per message: JSON object text
    _metadata text[],         -- per message: JSON object text or NULL
    _id uuid[],               -- per message
    _check_ids boolean        -- whether callers gave ids (generated ones cannot collide)
) RETURNS TABLE (
    write_index integer,
    first_position bigint,
    first_global_position bigint,
    last_global_position bigint,
    error text,
    actual_version bigint,
    duplicate_id uuid,
    message_time timestamp
) AS $$
#variable_conflict use_column
DECLARE
    _version bigint;
BEGIN
    PERFORM pg_advisory_xact_lock_shared(_namespace_lock);
    PERFORM pg_advisory_xact_lock(k) FROM unnest(_category_locks) AS k;

    IF cardinality(_stream) = 1 THEN
        -- One write (the common case when writers are few): no joins.
        write_index := 0;
        SELECT max(m.position) INTO _version FROM messages m WHERE m.stream_name = _stream[1];
        _version := coalesce(_version, -1);
        IF _expected[1] IS NOT NULL AND _expected[1] <> _version THEN
            error := 'STREAM_VERSION_CONFLICT';
            actual_version := _version;
            RETURN NEXT;
            RETURN;
        END IF;
        IF _check_ids THEN
            SELECT m.id INTO duplicate_id FROM messages m WHERE m.id = ANY (_id) LIMIT 1;
            IF duplicate_id IS NOT NULL THEN
                error := 'DUPLICATE_MESSAGE_ID';
                RETURN NEXT;
                RETURN;
            END IF;
        END IF;
        first_position := _version + 1;
        WITH inserted AS (
            INSERT INTO messages (id, stream_name, position, type, data, metadata)
            SELECT u.id, _stream[1], _version + u.j, u.type, u.data::jsonb, u.metadata::jsonb
            FROM unnest(_id, _type, _data, _metadata) WITH ORDINALITY AS u(id, type, data, metadata, j)
            ORDER BY u.j
            RETURNING messages.global_position, messages.time
        )
        SELECT min(i.global_position), max(i.global_position), min(i.time)
        INTO first_global_position, last_global_position, message_time
        FROM inserted i;
        RETURN NEXT;
    ELSE
        RETURN QUERY
        WITH w AS (
            SELECT u.i::integer AS i, u.stream, u.expected, u.n,
                   (sum(u.n) OVER (ORDER BY u.i) - u.n)::integer AS first,
                   coalesce((SELECT max(m.position) FROM messages m WHERE m.stream_name = u.stream), -1) AS version
            FROM unnest(_stream, _expected, _count) WITH ORDINALITY AS u(stream, expected, n, i)
        ), checked AS (
            SELECT w.i, w.stream, w.n, w.first, w.version,
                   CASE WHEN w.expected IS NOT NULL AND w.expected <> w.version THEN 'STREAM_VERSION_CONFLICT'
                        WHEN d.id IS NOT NULL THEN 'DUPLICATE_MESSAGE_ID' END AS failure,
                   d.id AS dup
            FROM w LEFT JOIN LATERAL (
                SELECT m.id FROM messages m
                WHERE _check_ids AND m.id = ANY (_id[w.first + 1 : w.first + w.n]) LIMIT 1
            ) d ON true
        ), inserted AS (
            INSERT INTO messages (id, stream_name, position, type, data, metadata)
            SELECT _id[c.first + j], c.stream, c.version + j, _type[c.first + j],
                   _data[c.first + j]::jsonb, _metadata[c.first + j]::jsonb
            FROM checked c CROSS JOIN LATERAL generate_series(1, c.n) AS j
            WHERE c.failure IS NULL
            ORDER BY c.i, j
            RETURNING messages.stream_name, messages.global_position, messages.time
        )
        SELECT c.i - 1, CASE WHEN c.failure IS NULL THEN c.version + 1 END, r.lo, r.hi, c.failure,
               CASE WHEN c.failure = 'STREAM_VERSION_CONFLICT' THEN c.version END, c.dup, r.t
        FROM checked c LEFT JOIN (
            SELECT i.stream_name, min(i.global_position) AS lo, max(i.global_position) AS hi,
                   min(i.time) AS t
            FROM inserted i GROUP BY i.stream_name
        ) r ON r.stream_name = c.stream
        ORDER BY c.i;
    END IF;
END;
$$ LANGUAGE plpgsql VOLATILE
SET search_path FROM CURRENT
SET enable_seqscan = off
SET plan_cache_mode = force_generic_plan;
