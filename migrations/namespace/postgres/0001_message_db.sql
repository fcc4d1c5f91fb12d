-- A namespace schema compatible with Message DB 1.3: its table, type, indexes and functions, with
-- its argument names, defaults, results and error messages. Run with search_path set to the
-- namespace schema; the functions call each other unqualified, as Message DB's do (clients set
-- search_path to the schema).

CREATE TABLE messages (
    global_position bigserial NOT NULL,
    position        bigint NOT NULL,
    time            timestamp without time zone DEFAULT (now() AT TIME ZONE 'utc') NOT NULL,
    stream_name     text NOT NULL,
    type            text NOT NULL,
    data            jsonb,
    metadata        jsonb,
    id              uuid NOT NULL DEFAULT gen_random_uuid()
);
ALTER TABLE messages ADD PRIMARY KEY (global_position) NOT DEFERRABLE INITIALLY IMMEDIATE;

CREATE TYPE message AS (
    id              varchar,
    stream_name     varchar,
    type            varchar,
    position        bigint,
    global_position bigint,
    data            varchar,
    metadata        varchar,
    time            timestamp
);

CREATE FUNCTION hash_64(value varchar) RETURNS bigint AS $$
DECLARE
    _hash bigint;
BEGIN
    SELECT left('x' || md5(hash_64.value), 17)::bit(64)::bigint INTO _hash;
    RETURN _hash;
END;
$$ LANGUAGE plpgsql IMMUTABLE;

CREATE FUNCTION category(stream_name varchar) RETURNS varchar AS $$
BEGIN
    RETURN split_part(category.stream_name, '-', 1);
END;
$$ LANGUAGE plpgsql IMMUTABLE;

CREATE FUNCTION id(stream_name varchar) RETURNS varchar AS $$
DECLARE
    _id_separator_position integer;
BEGIN
    _id_separator_position := strpos(id.stream_name, '-');
    IF _id_separator_position = 0 THEN
        RETURN NULL;
    END IF;
    RETURN substring(id.stream_name, _id_separator_position + 1);
END;
$$ LANGUAGE plpgsql IMMUTABLE;

CREATE FUNCTION cardinal_id(stream_name varchar) RETURNS varchar AS $$
DECLARE
    _id varchar;
BEGIN
    _id := id(cardinal_id.stream_name);
    IF _id IS NULL THEN
        RETURN NULL;
    END IF;
    RETURN split_part(_id, '+', 1);
END;
$$ LANGUAGE plpgsql IMMUTABLE;

CREATE FUNCTION is_category(stream_name varchar) RETURNS boolean AS $$
BEGIN
    IF NOT strpos(is_category.stream_name, '-') = 0 THEN
        RETURN FALSE;
    END IF;
    RETURN TRUE;
END;
$$ LANGUAGE plpgsql IMMUTABLE;

CREATE FUNCTION acquire_lock(stream_name varchar) RETURNS bigint AS $$
DECLARE
    _category varchar;
    _category_name_hash bigint;
BEGIN
    _category := category(acquire_lock.stream_name);
    _category_name_hash := hash_64(_category);
    PERFORM pg_advisory_xact_lock(_category_name_hash);
    RETURN _category_name_hash;
END;
$$ LANGUAGE plpgsql VOLATILE;

CREATE FUNCTION stream_version(stream_name varchar) RETURNS bigint AS $$
DECLARE
    _stream_version bigint;
BEGIN
    SELECT max(position) INTO _stream_version
    FROM messages
    WHERE messages.stream_name = stream_version.stream_name;
    RETURN _stream_version;
END;
$$ LANGUAGE plpgsql VOLATILE;

-- Not in Message DB: the key of the namespace lock every messagedb writer holds, shared, until it
-- commits (see 0002), so that whole-namespace readers can wait for writes in flight:
-- hash_64('messagedb:' || schema), as core computes it.
DO $$
BEGIN
    EXECUTE format(
        'CREATE OR REPLACE FUNCTION messagedb_namespace_lock() RETURNS bigint AS %L LANGUAGE sql IMMUTABLE',
        'SELECT ' || hash_64('messagedb:' || current_schema()) || '::bigint'
    );
END;
$$;

CREATE FUNCTION write_message(
    id varchar,
    stream_name varchar,
    "type" varchar,
    data jsonb,
    metadata jsonb DEFAULT NULL,
    expected_version bigint DEFAULT NULL
) RETURNS bigint AS $$
DECLARE
    _message_id uuid;
    _stream_version bigint;
    _next_position bigint;
BEGIN
    -- Not in Message DB: the namespace lock, shared (see messagedb_namespace_lock).
    PERFORM pg_advisory_xact_lock_shared(messagedb_namespace_lock());
    PERFORM acquire_lock(write_message.stream_name);

    _stream_version := stream_version(write_message.stream_name);
    IF _stream_version IS NULL THEN
        _stream_version := -1;
    END IF;

    IF write_message.expected_version IS NOT NULL THEN
        IF write_message.expected_version != _stream_version THEN
            RAISE EXCEPTION
                'Wrong expected version: % (Stream: %, Stream Version: %)',
                write_message.expected_version,
                write_message.stream_name,
                _stream_version;
        END IF;
    END IF;

    _next_position := _stream_version + 1;
    _message_id = uuid(write_message.id);

    INSERT INTO messages (id, stream_name, position, type, data, metadata)
    VALUES (
        _message_id,
        write_message.stream_name,
        _next_position,
        write_message.type,
        write_message.data,
        write_message.metadata
    );

    RETURN _next_position;
END;
$$ LANGUAGE plpgsql VOLATILE;

CREATE FUNCTION get_stream_messages(
    stream_name varchar,
    "position" bigint DEFAULT 0,
    batch_size bigint DEFAULT 1000,
    condition varchar DEFAULT NULL
) RETURNS SETOF message AS $$
DECLARE
    _command text;
    _setting text;
BEGIN
    IF is_category(get_stream_messages.stream_name) THEN
        RAISE EXCEPTION 'Must be a stream name: %', get_stream_messages.stream_name;
    END IF;

    position := COALESCE(position, 0);
    batch_size := COALESCE(batch_size, 1000);

    _command := '
        SELECT
            id::varchar,
            stream_name::varchar,
            type::varchar,
            position::bigint,
            global_position::bigint,
            data::varchar,
            metadata::varchar,
            time::timestamp
        FROM
            messages
        WHERE
            stream_name = $1 AND
            position >= $2';

    IF get_stream_messages.condition IS NOT NULL THEN
        _setting := current_setting('message_store.sql_condition', true);
        IF _setting IS NULL OR _setting = 'off' THEN
            RAISE EXCEPTION 'Retrieval with SQL condition is not activated';
        END IF;
        _command := _command || ' AND (%s)';
        _command := format(_command, get_stream_messages.condition);
    END IF;

    _command := _command || '
        ORDER BY
            position ASC';

    IF get_stream_messages.batch_size != -1 THEN
        _command := _command || '
            LIMIT
                $3';
    END IF;

    RETURN QUERY EXECUTE _command USING
        get_stream_messages.stream_name,
        get_stream_messages.position,
        get_stream_messages.batch_size;
END;
$$ LANGUAGE plpgsql VOLATILE;

CREATE FUNCTION get_category_messages(
    category varchar,
    "position" bigint DEFAULT 1,
    batch_size bigint DEFAULT 1000,
    correlation varchar DEFAULT NULL,
    consumer_group_member bigint DEFAULT NULL,
    consumer_group_size bigint DEFAULT NULL,
    condition varchar DEFAULT NULL
) RETURNS SETOF message AS $$
DECLARE
    _command text;
    _setting text;
BEGIN
    IF NOT is_category(get_category_messages.category) THEN
        RAISE EXCEPTION 'Must be a category: %', get_category_messages.category;
    END IF;

    position := COALESCE(position, 1);
    batch_size := COALESCE(batch_size, 1000);

    _command := '
        SELECT
            id::varchar,
            stream_name::varchar,
            type::varchar,
            position::bigint,
            global_position::bigint,
            data::varchar,
            metadata::varchar,
            time::timestamp
        FROM
            messages
        WHERE
            category(stream_name) = $1 AND
            global_position >= $2';

    IF get_category_messages.correlation IS NOT NULL THEN
        IF position('-' IN get_category_messages.correlation) > 0 THEN
            RAISE EXCEPTION
                'Correlation must be a category (Correlation: %)',
                get_category_messages.correlation;
        END IF;
        _command := _command || ' AND
            category(metadata->>''correlationStreamName'') = $4';
    END IF;

    IF (get_category_messages.consumer_group_member IS NOT NULL AND
        get_category_messages.consumer_group_size IS NULL) OR
       (get_category_messages.consumer_group_member IS NULL AND
        get_category_messages.consumer_group_size IS NOT NULL) THEN
        RAISE EXCEPTION
            'Consumer group member and size must be specified (Consumer Group Member: %, Consumer Group Size: %)',
            get_category_messages.consumer_group_member,
            get_category_messages.consumer_group_size;
    END IF;

    IF get_category_messages.consumer_group_member IS NOT NULL THEN
        IF get_category_messages.consumer_group_size < 1 THEN
            RAISE EXCEPTION
                'Consumer group size must not be less than 1 (Consumer Group Member: %, Consumer Group Size: %)',
                get_category_messages.consumer_group_member,
                get_category_messages.consumer_group_size;
        END IF;
        IF get_category_messages.consumer_group_member < 0 THEN
            RAISE EXCEPTION
                'Consumer group member must not be less than 0 (Consumer Group Member: %, Consumer Group Size: %)',
                get_category_messages.consumer_group_member,
                get_category_messages.consumer_group_size;
        END IF;
        IF get_category_messages.consumer_group_member >= get_category_messages.consumer_group_size THEN
            RAISE EXCEPTION
                'Consumer group member must be less than the group size (Consumer Group Member: %, Consumer Group Size: %)',
                get_category_messages.consumer_group_member,
                get_category_messages.consumer_group_size;
        END IF;
        _command := _command || ' AND
            MOD(@hash_64(cardinal_id(stream_name)), $6) = $5';
    END IF;

    IF get_category_messages.condition IS NOT NULL THEN
        _setting := current_setting('message_store.sql_condition', true);
        IF _setting IS NULL OR _setting = 'off' THEN
            RAISE EXCEPTION 'Retrieval with SQL condition is not activated';
        END IF;
        _command := _command || ' AND (%s)';
        _command := format(_command, get_category_messages.condition);
    END IF;

    _command := _command || '
        ORDER BY
            global_position ASC';

    IF get_category_messages.batch_size != -1 THEN
        _command := _command || '
            LIMIT
                $3';
    END IF;

    RETURN QUERY EXECUTE _command USING
        get_category_messages.category,
        get_category_messages.position,
        get_category_messages.batch_size,
        get_category_messages.correlation,
        get_category_messages.consumer_group_member,
        get_category_messages.consumer_group_size;
END;
$$ LANGUAGE plpgsql VOLATILE;

CREATE FUNCTION get_last_stream_message(
    stream_name varchar,
    "type" varchar DEFAULT NULL
) RETURNS SETOF message AS $$
DECLARE
    _command text;
BEGIN
    _command := '
        SELECT
            id::varchar,
            stream_name::varchar,
            type::varchar,
            position::bigint,
            global_position::bigint,
            data::varchar,
            metadata::varchar,
            time::timestamp
        FROM
            messages
        WHERE
            stream_name = $1';

    IF get_last_stream_message.type IS NOT NULL THEN
        _command := _command || ' AND
            type = $2';
    END IF;

    _command := _command || '
        ORDER BY
            position DESC
        LIMIT
            1';

    RETURN QUERY EXECUTE _command USING
        get_last_stream_message.stream_name,
        get_last_stream_message.type;
END;
$$ LANGUAGE plpgsql VOLATILE;

CREATE FUNCTION message_store_version() RETURNS varchar AS $$
BEGIN
    RETURN '1.3.0';
END;
$$ LANGUAGE plpgsql VOLATILE;

CREATE UNIQUE INDEX messages_id ON messages (id);
CREATE UNIQUE INDEX messages_stream ON messages (stream_name, position);
CREATE INDEX messages_category ON messages (
    category(stream_name),
    global_position,
    category(metadata->>'correlationStreamName')
);
