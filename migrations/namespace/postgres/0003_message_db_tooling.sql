-- The rest of Message DB 1.3's install, in a namespace schema messagedb created:
-- 1. its six report views, with Message DB's columns, rounding and row order;
-- 2. its login role `message_store`, with the privileges Message DB's install grants it;
-- 3. the debug NOTICEs of its functions (session settings message_store.debug, .debug_write,
--    .debug_get; off unless set), with the same texts.
--
-- Adopted schemas. An existing Message DB schema is adopted at version 1 (migrate_all) and this
-- migration then runs on it too. Message DB's install made its views, role, grants and debugging
-- functions already: such a schema is left exactly as it is (as 0002 leaves Message DB's functions
-- alone). The test: a schema is ours when it has messagedb_namespace_lock() and its write_message
-- calls it. Both come from 0001 and nothing else makes them; Message DB's write_message never
-- takes the namespace lock. (Looking for Message DB's views would not do: an operator may have
-- dropped them, and a schema without them could still hold Message DB's functions.)
--
-- Everything is one DO block so that the test is made once and guards every statement; the
-- functions and views are created with EXECUTE because a plain CREATE cannot be made conditional.
-- The functions keep 0001's signatures, results, errors and locks (write_message still takes the
-- shared namespace lock first); CREATE OR REPLACE keeps their owner and privileges.

DO $migration$
DECLARE
    _schema name := current_schema();
    _ours boolean;
    _role_exists boolean;
BEGIN
    SELECT EXISTS (
               SELECT 1 FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
               WHERE n.nspname = _schema AND p.proname = 'messagedb_namespace_lock'
           )
       AND EXISTS (
               SELECT 1 FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
               WHERE n.nspname = _schema AND p.proname = 'write_message'
                 AND p.prosrc LIKE '%messagedb_namespace_lock()%'
           )
      INTO _ours;
    IF NOT _ours THEN
        RAISE NOTICE 'Schema % holds Message DB''s own functions: its functions, views and privileges are left as they are', _schema;
        RETURN;
    END IF;

    ---------------------------------------------------------------------------------------------
    -- 3. Debug output. The test costs two current_setting() calls per call when debugging is
    -- off. NULLs print as <NULL>, as in Message DB.
    ---------------------------------------------------------------------------------------------

    EXECUTE $fn$
CREATE OR REPLACE FUNCTION acquire_lock(stream_name varchar) RETURNS bigint AS $$
DECLARE
    _category varchar;
    _category_name_hash bigint;
BEGIN
    _category := category(acquire_lock.stream_name);
    _category_name_hash := hash_64(_category);
    PERFORM pg_advisory_xact_lock(_category_name_hash);

    IF current_setting('message_store.debug_write', true) = 'on' OR current_setting('message_store.debug', true) = 'on' THEN
        RAISE NOTICE '» acquire_lock';
        RAISE NOTICE 'stream_name: %', acquire_lock.stream_name;
        RAISE NOTICE '_category: %', _category;
        RAISE NOTICE '_category_name_hash: %', _category_name_hash;
    END IF;

    RETURN _category_name_hash;
END;
$$ LANGUAGE plpgsql VOLATILE
$fn$;

    EXECUTE $fn$
CREATE OR REPLACE FUNCTION write_message(
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

    -- After the insert, as in Message DB: only a write that happened is reported.
    IF current_setting('message_store.debug_write', true) = 'on' OR current_setting('message_store.debug', true) = 'on' THEN
        RAISE NOTICE '» write_message';
        RAISE NOTICE 'id ($1): %', write_message.id;
        RAISE NOTICE 'stream_name ($2): %', write_message.stream_name;
        RAISE NOTICE 'type ($3): %', write_message.type;
        RAISE NOTICE 'data ($4): %', write_message.data;
        RAISE NOTICE 'metadata ($5): %', write_message.metadata;
        RAISE NOTICE 'expected_version ($6): %', write_message.expected_version;
        RAISE NOTICE '_stream_version: %', _stream_version;
        RAISE NOTICE '_next_position: %', _next_position;
    END IF;

    RETURN _next_position;
END;
$$ LANGUAGE plpgsql VOLATILE
$fn$;

    EXECUTE $fn$
CREATE OR REPLACE FUNCTION get_stream_messages(
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

    IF current_setting('message_store.debug_get', true) = 'on' OR current_setting('message_store.debug', true) = 'on' THEN
        RAISE NOTICE '» get_stream_messages';
        RAISE NOTICE 'stream_name ($1): %', get_stream_messages.stream_name;
        RAISE NOTICE 'position ($2): %', get_stream_messages.position;
        RAISE NOTICE 'batch_size ($3): %', get_stream_messages.batch_size;
        RAISE NOTICE 'condition ($4): %', get_stream_messages.condition;
        RAISE NOTICE 'Generated Command: %', _command;
    END IF;

    RETURN QUERY EXECUTE _command USING
        get_stream_messages.stream_name,
        get_stream_messages.position,
        get_stream_messages.batch_size;
END;
$$ LANGUAGE plpgsql VOLATILE
$fn$;

    EXECUTE $fn$
CREATE OR REPLACE FUNCTION get_category_messages(
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

    IF current_setting('message_store.debug_get', true) = 'on' OR current_setting('message_store.debug', true) = 'on' THEN
        RAISE NOTICE '» get_category_messages';
        RAISE NOTICE 'category ($1): %', get_category_messages.category;
        RAISE NOTICE 'position ($2): %', get_category_messages.position;
        RAISE NOTICE 'batch_size ($3): %', get_category_messages.batch_size;
        RAISE NOTICE 'correlation ($4): %', get_category_messages.correlation;
        RAISE NOTICE 'consumer_group_member ($5): %', get_category_messages.consumer_group_member;
        RAISE NOTICE 'consumer_group_size ($6): %', get_category_messages.consumer_group_size;
        RAISE NOTICE 'condition: %', get_category_messages.condition;
        RAISE NOTICE 'Generated Command: %', _command;
    END IF;

    RETURN QUERY EXECUTE _command USING
        get_category_messages.category,
        get_category_messages.position,
        get_category_messages.batch_size,
        get_category_messages.correlation,
        get_category_messages.consumer_group_member,
        get_category_messages.consumer_group_size;
END;
$$ LANGUAGE plpgsql VOLATILE
$fn$;

    -- Message DB's NOTICE names this function get_last_message (its name before 1.3): kept.
    EXECUTE $fn$
CREATE OR REPLACE FUNCTION get_last_stream_message(
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

    IF current_setting('message_store.debug_get', true) = 'on' OR current_setting('message_store.debug', true) = 'on' THEN
        RAISE NOTICE '» get_last_message';
        RAISE NOTICE 'stream_name ($1): %', get_last_stream_message.stream_name;
        RAISE NOTICE 'type ($2): %', get_last_stream_message.type;
        RAISE NOTICE 'Generated Command: %', _command;
    END IF;

    RETURN QUERY EXECUTE _command USING
        get_last_stream_message.stream_name,
        get_last_stream_message.type;
END;
$$ LANGUAGE plpgsql VOLATILE
$fn$;

    ---------------------------------------------------------------------------------------------
    -- 1. Report views. Percent is of all messages of the schema, ROUND(…, 2) of a numeric, so
    -- halves round away from zero. Rows come in the views' ORDER BY (the database's collation).
    -- The names inside bind to this schema's table and category() when the view is created.
    ---------------------------------------------------------------------------------------------

    EXECUTE $view$
CREATE OR REPLACE VIEW stream_summary AS
    WITH
        stream_count AS (
            SELECT stream_name, COUNT(id) AS message_count
            FROM messages
            GROUP BY stream_name
        ),
        total_count AS (
            SELECT COUNT(id)::decimal AS total_count
            FROM messages
        )
    SELECT
        stream_name,
        message_count,
        ROUND((message_count / total_count)::decimal * 100, 2) AS percent
    FROM stream_count, total_count
    ORDER BY stream_name
$view$;

    EXECUTE $view$
CREATE OR REPLACE VIEW type_summary AS
    WITH
        type_count AS (
            SELECT type, COUNT(id) AS message_count
            FROM messages
            GROUP BY type
        ),
        total_count AS (
            SELECT COUNT(id)::decimal AS total_count
            FROM messages
        )
    SELECT
        type,
        message_count,
        ROUND((message_count / total_count)::decimal * 100, 2) AS percent
    FROM type_count, total_count
    ORDER BY type
$view$;

    EXECUTE $view$
CREATE OR REPLACE VIEW stream_type_summary AS
    WITH
        type_count AS (
            SELECT stream_name, type, COUNT(id) AS message_count
            FROM messages
            GROUP BY stream_name, type
        ),
        total_count AS (
            SELECT COUNT(id)::decimal AS total_count
            FROM messages
        )
    SELECT
        stream_name,
        type,
        message_count,
        ROUND((message_count / total_count)::decimal * 100, 2) AS percent
    FROM type_count, total_count
    ORDER BY stream_name, type
$view$;

    EXECUTE $view$
CREATE OR REPLACE VIEW type_stream_summary AS
    WITH
        type_count AS (
            SELECT type, stream_name, COUNT(id) AS message_count
            FROM messages
            GROUP BY type, stream_name
        ),
        total_count AS (
            SELECT COUNT(id)::decimal AS total_count
            FROM messages
        )
    SELECT
        type,
        stream_name,
        message_count,
        ROUND((message_count / total_count)::decimal * 100, 2) AS percent
    FROM type_count, total_count
    ORDER BY type, stream_name
$view$;

    EXECUTE $view$
CREATE OR REPLACE VIEW category_type_summary AS
    WITH
        type_count AS (
            SELECT category(stream_name) AS category, type, COUNT(id) AS message_count
            FROM messages
            GROUP BY category, type
        ),
        total_count AS (
            SELECT COUNT(id)::decimal AS total_count
            FROM messages
        )
    SELECT
        category,
        type,
        message_count,
        ROUND((message_count / total_count)::decimal * 100, 2) AS percent
    FROM type_count, total_count
    ORDER BY category, type
$view$;

    EXECUTE $view$
CREATE OR REPLACE VIEW type_category_summary AS
    WITH
        type_count AS (
            SELECT type, category(stream_name) AS category, COUNT(id) AS message_count
            FROM messages
            GROUP BY type, category
        ),
        total_count AS (
            SELECT COUNT(id)::decimal AS total_count
            FROM messages
        )
    SELECT
        type,
        category,
        message_count,
        ROUND((message_count / total_count)::decimal * 100, 2) AS percent
    FROM type_count, total_count
    ORDER BY type, category
$view$;

    ---------------------------------------------------------------------------------------------
    -- 2. The message_store role. Roles belong to the cluster and this runs once per namespace
    -- schema, in every database messagedb uses: the role is created once, WITH LOGIN and no
    -- password as Message DB's install creates it, and only by a user who may create roles.
    -- Anyone else gets a NOTICE: the store must open for a database user without CREATEROLE.
    -- Two databases migrating at once may both try: the loser's duplicate is not an error.
    ---------------------------------------------------------------------------------------------

    SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'message_store') INTO _role_exists;
    IF NOT _role_exists THEN
        IF (SELECT rolsuper OR rolcreaterole FROM pg_roles WHERE rolname = current_user) THEN
            BEGIN
                CREATE ROLE message_store WITH LOGIN;
            EXCEPTION WHEN duplicate_object OR unique_violation THEN
                NULL;
            END;
        ELSE
            -- This migration does not run again on this schema: a role created later gets its
            -- privileges here from whoever creates it (namespaces created after it get them).
            RAISE NOTICE 'Role message_store does not exist and % may not create roles: schema % grants it nothing (create the role, then grant it Message DB''s privileges on this schema by hand)', current_user, _schema;
            RETURN;
        END IF;
    END IF;

    -- Message DB's grants, on this schema's objects: a client connecting as message_store reads
    -- and appends, never updates or deletes, and reaches nothing outside the namespace schemas
    -- (no privilege on the registry schema messagedb). They are given in every namespace schema:
    -- a Message DB client of another namespace connects as message_store and sets its
    -- search_path to that namespace's schema. gen_random_uuid() is built in since PostgreSQL 13
    -- and executable by everyone, so Message DB's grant on it is not repeated; neither is one on
    -- messagedb_write (messagedb's own write path, not Message DB's interface).
    -- messagedb_namespace_lock() is granted because our write_message calls it.
    EXECUTE format('GRANT USAGE ON SCHEMA %I TO message_store', _schema);
    GRANT SELECT, INSERT ON messages TO message_store;
    EXECUTE format(
        'GRANT USAGE, SELECT ON SEQUENCE %s TO message_store',
        pg_get_serial_sequence(format('%I.messages', _schema), 'global_position')
    );
    GRANT EXECUTE ON FUNCTION
        acquire_lock(varchar),
        cardinal_id(varchar),
        category(varchar),
        get_category_messages(varchar, bigint, bigint, varchar, bigint, bigint, varchar),
        get_last_stream_message(varchar, varchar),
        get_stream_messages(varchar, bigint, bigint, varchar),
        hash_64(varchar),
        id(varchar),
        is_category(varchar),
        message_store_version(),
        stream_version(varchar),
        write_message(varchar, varchar, varchar, jsonb, jsonb, bigint),
        messagedb_namespace_lock()
    TO message_store;
    GRANT SELECT ON
        category_type_summary,
        stream_summary,
        stream_type_summary,
        type_category_summary,
        type_stream_summary,
        type_summary
    TO message_store;

    -- The role's search_path. Message DB's clients call its functions unqualified; Message DB's
    -- install sets nothing and relies on the server's default "$user", public, which for role
    -- message_store names schema message_store. Here every namespace schema has functions of
    -- the same names, so a search_path listing several schemas would silently send every
    -- unqualified call to the first one listed: the role's search_path names exactly one
    -- namespace schema, the default namespace's `message_store` (then public, as the default
    -- has it), and clients of other namespaces set theirs. It is set by the migration of schema
    -- message_store only, for this database only (ALTER ROLE … IN DATABASE: other databases of
    -- the cluster, a Message DB among them, are not touched), so that it holds even where the
    -- server's default search_path was changed; and only when the role has no search_path of
    -- its own for this database or all databases (an operator's choice is kept). A default
    -- namespace on another schema (`?schema=`) sets nothing: its clients set search_path.
    -- Changing another role's settings needs CREATEROLE (and, from PostgreSQL 16, admin rights
    -- on the role): without them, a NOTICE.
    IF _schema = 'message_store' AND NOT EXISTS (
        SELECT 1
        FROM pg_db_role_setting s
        JOIN pg_roles r ON r.oid = s.setrole
        WHERE r.rolname = 'message_store'
          AND s.setdatabase IN (0, (SELECT oid FROM pg_database WHERE datname = current_database()))
          AND EXISTS (SELECT 1 FROM unnest(s.setconfig) AS c WHERE c LIKE 'search_path=%')
    ) THEN
        BEGIN
            EXECUTE format(
                'ALTER ROLE message_store IN DATABASE %I SET search_path TO message_store, public',
                current_database()
            );
        EXCEPTION WHEN insufficient_privilege THEN
            RAISE NOTICE '% may not change role message_store: its search_path is left as it is', current_user;
        END;
    END IF;
END;
$migration$;
