-- messagedb's own write path: a group of writes in one call (one round trip, one transaction).
-- It takes the same per-category advisory locks as write_message (sorted, so writers touching
-- several categories cannot deadlock) and, first, a namespace-wide lock: messagedb writers in every
-- process then commit in global-position order, so no reader ever sees a global position before a
-- lower one commits. Each write's expected version is checked against the stream inside the
-- transaction; a write that fails is reported in its row and writes nothing, its neighbours land.
CREATE FUNCTION messagedb_write(
    _namespace_lock bigint,
    _write integer[],       -- per message: the index of its write (0-based, ascending)
    _stream text[],         -- per message
    _type text[],
    _data text[],           -- JSON object text
    _metadata text[],       -- JSON object text or NULL
    _id uuid[],
    _expected bigint[],     -- per write: the expected version or NULL
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
    _n integer := coalesce(array_length(_write, 1), 0);
    _i integer := 1;
    _start integer;
    _w integer;
    _stream_name text;
    _version bigint;
BEGIN
    PERFORM pg_advisory_xact_lock(_namespace_lock);
    FOR _lock IN SELECT DISTINCT hash_64(category(s)) AS k FROM unnest(_stream) AS s ORDER BY k LOOP
        PERFORM pg_advisory_xact_lock(_lock);
    END LOOP;

    WHILE _i <= _n LOOP
        _w := _write[_i];
        _start := _i;
        WHILE _i <= _n AND _write[_i] = _w LOOP
            _i := _i + 1;
        END LOOP;
        _stream_name := _stream[_start];
        write_index := _w;
        first_position := NULL;
        first_global_position := NULL;
        last_global_position := NULL;
        error := NULL;
        actual_version := NULL;
        duplicate_id := NULL;
        -- The default of messages.time: every message of the transaction has it.
        message_time := now() AT TIME ZONE 'utc';

        SELECT max(m.position) INTO _version FROM messages m WHERE m.stream_name = _stream_name;
        _version := coalesce(_version, -1);
        IF _expected[_w + 1] IS NOT NULL AND _expected[_w + 1] != _version THEN
            error := 'STREAM_VERSION_CONFLICT';
            actual_version := _version;
            RETURN NEXT;
            CONTINUE;
        END IF;

        SELECT m.id INTO duplicate_id FROM messages m WHERE m.id = ANY (_id[_start:_i - 1]) LIMIT 1;
        IF duplicate_id IS NOT NULL THEN
            error := 'DUPLICATE_MESSAGE_ID';
            RETURN NEXT;
            CONTINUE;
        END IF;

        WITH inserted AS (
            INSERT INTO messages (id, stream_name, position, type, data, metadata)
            SELECT _id[j], _stream_name, _version + 1 + (j - _start), _type[j], _data[j]::jsonb, _metadata[j]::jsonb
            FROM generate_series(_start, _i - 1) AS j
            ORDER BY j
            RETURNING global_position
        )
        SELECT min(global_position), max(global_position)
        INTO first_global_position, last_global_position
        FROM inserted;
        first_position := _version + 1;
        RETURN NEXT;
    END LOOP;

    IF _notify IS NOT NULL THEN
        PERFORM pg_notify('messagedb', _notify);
    END IF;
END;
$$ LANGUAGE plpgsql VOLATILE
SET search_path FROM CURRENT;
