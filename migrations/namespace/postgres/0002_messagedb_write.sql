-- messagedb's own write path: a group of writes in one call (one round trip, one transaction).
-- It takes a namespace-wide advisory lock first, then the same per-category locks as
-- write_message (hash_64(category), computed by the caller; sorted, so writers touching several
-- categories cannot deadlock): messagedb
-- writers in every process then commit in global-position order, so no reader ever sees a global
-- position before a lower one commits. Each write's expected version is checked inside the
-- transaction; a write that fails is reported in its row and writes nothing, its neighbours land.
--
-- Set-based: one version lookup per stream, one duplicate check of the ids callers gave, one
-- INSERT for every message. The lookups must use the indexes even when the table was empty when
-- the session planned them, hence enable_seqscan = off.
CREATE FUNCTION messagedb_write(
    _namespace_lock bigint,
    _category_locks bigint[], -- hash_64 of each category written, sorted, without repeats
    _stream text[],         -- per write
    _expected bigint[],     -- per write: the expected version or NULL
    _write integer[],       -- per message: its write (1-based, ascending)
    _type text[],           -- per message
    _data text[],           -- per message: JSON object text
    _metadata text[],       -- per message: JSON object text or NULL
    _id uuid[],             -- per message
    _given uuid[],          -- the ids callers gave (generated ones cannot collide)
    _notify text            -- NOTIFY payload on channel messagedb, NULL for none
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
DECLARE
    _lock bigint;
    _writes integer := coalesce(array_length(_stream, 1), 0);
    _versions jsonb;
    _taken uuid[];
    _base bigint[] := array_fill(NULL::bigint, ARRAY[_writes]);
    _error text[] := array_fill(NULL::text, ARRAY[_writes]);
    _actual bigint[] := array_fill(NULL::bigint, ARRAY[_writes]);
    _dup uuid[] := array_fill(NULL::uuid, ARRAY[_writes]);
    _first integer[] := array_fill(0, ARRAY[_writes]);
    _count integer[] := array_fill(0, ARRAY[_writes]);
    _v bigint;
    _taken_id uuid;
    _w integer;
    _m integer;
    _ws integer[];
    _lo bigint[];
    _hi bigint[];
    _k integer := 1;
BEGIN
    PERFORM pg_advisory_xact_lock(_namespace_lock);
    FOREACH _lock IN ARRAY _category_locks LOOP
        PERFORM pg_advisory_xact_lock(_lock);
    END LOOP;

    SELECT coalesce(jsonb_object_agg(d.s, (SELECT max(m.position) FROM messages m WHERE m.stream_name = d.s)), '{}')
    INTO _versions
    FROM (SELECT DISTINCT unnest(_stream) AS s) AS d;

    IF coalesce(cardinality(_given), 0) > 0 THEN
        SELECT array_agg(m.id) INTO _taken FROM messages m WHERE m.id = ANY (_given);
    END IF;

    -- Where each write's messages start, and how many it has.
    FOR _m IN 1 .. coalesce(array_length(_write, 1), 0) LOOP
        _w := _write[_m];
        IF _count[_w] = 0 THEN
            _first[_w] := _m;
        END IF;
        _count[_w] := _count[_w] + 1;
    END LOOP;

    FOR _w IN 1 .. _writes LOOP
        _v := coalesce((_versions ->> _stream[_w])::bigint, -1);
        IF _expected[_w] IS NOT NULL AND _expected[_w] <> _v THEN
            _error[_w] := 'STREAM_VERSION_CONFLICT';
            _actual[_w] := _v;
        ELSIF _taken IS NOT NULL AND _id[_first[_w] : _first[_w] + _count[_w] - 1] && _taken THEN
            _error[_w] := 'DUPLICATE_MESSAGE_ID';
            SELECT i INTO _taken_id FROM unnest(_id[_first[_w] : _first[_w] + _count[_w] - 1]) AS i
            WHERE i = ANY (_taken) LIMIT 1;
            _dup[_w] := _taken_id;
        ELSE
            _base[_w] := _v + 1;
            _versions := jsonb_set(_versions, ARRAY[_stream[_w]], to_jsonb(_v + _count[_w]));
        END IF;
    END LOOP;

    WITH inserted AS (
        INSERT INTO messages (id, stream_name, position, type, data, metadata)
        SELECT _id[x.m], _stream[x.w], _base[x.w] + (x.m - _first[x.w]), _type[x.m], _data[x.m]::jsonb, _metadata[x.m]::jsonb
        FROM unnest(_write) WITH ORDINALITY AS x(w, m)
        WHERE _base[x.w] IS NOT NULL
        ORDER BY x.m
        RETURNING global_position, id
    ), per_write AS (
        SELECT x.w, min(i.global_position) AS lo, max(i.global_position) AS hi
        FROM inserted i JOIN unnest(_id, _write) AS x(id, w) ON x.id = i.id
        GROUP BY x.w
    )
    SELECT array_agg(w ORDER BY w), array_agg(lo ORDER BY w), array_agg(hi ORDER BY w)
    INTO _ws, _lo, _hi
    FROM per_write;

    -- The default of messages.time: every message of the transaction has it.
    message_time := now() AT TIME ZONE 'utc';
    FOR _w IN 1 .. _writes LOOP
        write_index := _w - 1;
        error := _error[_w];
        actual_version := _actual[_w];
        duplicate_id := _dup[_w];
        first_position := _base[_w];
        first_global_position := NULL;
        last_global_position := NULL;
        IF _base[_w] IS NOT NULL AND _ws[_k] = _w THEN
            first_global_position := _lo[_k];
            last_global_position := _hi[_k];
            _k := _k + 1;
        END IF;
        RETURN NEXT;
    END LOOP;

    IF _notify IS NOT NULL THEN
        PERFORM pg_notify('messagedb', _notify);
    END IF;
END;
$$ LANGUAGE plpgsql VOLATILE
SET search_path FROM CURRENT
SET enable_seqscan = off;
