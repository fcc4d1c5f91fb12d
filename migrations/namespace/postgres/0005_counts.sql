-- Not in Message DB: a namespace's counts and its list of streams, kept so that its counts and
-- its stream and category listings cost the same at ten million messages as at ten thousand.
--
-- They are brought up to date when they are read, not when messages are written: a write pays
-- nothing for them (a trigger that updated a count row on every write cost a third of
-- PostgreSQL's write throughput, measured with pgbench on write_message). messagedb_count(_to)
-- adds the messages after counted_to up to _to, reading them through the primary key, so a read
-- of the counts costs what was written since the last one. The caller passes a _to below which
-- every global position is settled (committed or never to be): messagedb waits for the
-- namespace's writers in flight first (count_up in core/src/backend/postgres/read.rs).
-- Deletes (a namespace cleared before an import, plain SQL) are subtracted by a trigger.

CREATE TABLE messagedb_categories (
    category text COLLATE "C" PRIMARY KEY,
    streams  bigint NOT NULL,
    messages bigint NOT NULL
);

-- One row per stream, in byte order (the listing's order, whatever the database's collation):
-- its version (last position) and the time of that message, as of counted_to.
CREATE TABLE messagedb_streams (
    stream_name text COLLATE "C" PRIMARY KEY,
    version     bigint NOT NULL,
    time        timestamp without time zone NOT NULL
);

-- Every message at or below this global position is counted.
CREATE TABLE messagedb_counted (
    counted_to bigint NOT NULL
);
INSERT INTO messagedb_counted (counted_to) VALUES (0);

CREATE FUNCTION messagedb_count(_to bigint) RETURNS void AS $$
DECLARE
    _from bigint;
BEGIN
    -- One counter at a time; the next one finds the work done.
    SELECT counted_to INTO _from FROM messagedb_counted FOR UPDATE;
    IF _to <= _from THEN
        RETURN;
    END IF;
    WITH added AS (
        SELECT m.stream_name, count(*) AS messages, max(m.position) AS version,
               (array_agg(m.time ORDER BY m.position DESC))[1] AS time
        FROM messages m
        WHERE m.global_position > _from AND m.global_position <= _to
        GROUP BY m.stream_name
    ), heads AS (
        INSERT INTO messagedb_streams AS s (stream_name, version, time)
        SELECT a.stream_name, a.version, a.time FROM added a
        ON CONFLICT (stream_name) DO UPDATE SET version = excluded.version, time = excluded.time
        WHERE excluded.version > s.version
        RETURNING s.stream_name, s.xmax = 0 AS fresh -- inserted, not updated: a new stream
    )
    INSERT INTO messagedb_categories AS c (category, streams, messages)
    SELECT category(a.stream_name), count(*) FILTER (WHERE h.fresh), sum(a.messages)
    FROM added a LEFT JOIN heads h ON h.stream_name = a.stream_name COLLATE "C"
    GROUP BY 1
    ON CONFLICT (category) DO UPDATE
    SET streams = c.streams + excluded.streams, messages = c.messages + excluded.messages;
    UPDATE messagedb_counted SET counted_to = _to;
END;
$$ LANGUAGE plpgsql SET search_path FROM CURRENT;

CREATE FUNCTION messagedb_count_deleted() RETURNS trigger AS $$
DECLARE
    _counted bigint;
BEGIN
    SELECT counted_to INTO _counted FROM messagedb_counted FOR UPDATE;
    WITH removed AS (
        SELECT d.stream_name, count(*) AS messages FROM deleted d
        WHERE d.global_position <= _counted GROUP BY d.stream_name
    ), gone AS (
        DELETE FROM messagedb_streams s USING removed r
        WHERE s.stream_name = r.stream_name COLLATE "C"
          AND NOT EXISTS (SELECT 1 FROM messages m WHERE m.stream_name = r.stream_name)
        RETURNING s.stream_name
    ), kept AS (
        -- A stream whose last message went keeps the one now last.
        UPDATE messagedb_streams s SET version = l.position, time = l.time
        FROM removed r CROSS JOIN LATERAL (
            SELECT m.position, m.time FROM messages m WHERE m.stream_name = r.stream_name
            ORDER BY m.position DESC LIMIT 1
        ) l
        WHERE s.stream_name = r.stream_name COLLATE "C" AND s.version <> l.position
    )
    UPDATE messagedb_categories c
    SET streams = c.streams - x.streams, messages = c.messages - x.messages
    FROM (
        SELECT category(r.stream_name) AS category, count(g.stream_name) AS streams,
               sum(r.messages) AS messages
        FROM removed r LEFT JOIN gone g ON g.stream_name = r.stream_name COLLATE "C"
        GROUP BY 1
    ) x
    WHERE c.category = x.category;
    DELETE FROM messagedb_categories WHERE messages <= 0;
    -- A cleared namespace starts its global positions again from 1.
    UPDATE messagedb_counted
    SET counted_to = least(counted_to, coalesce((SELECT max(global_position) FROM messages), 0));
    RETURN NULL;
END;
$$ LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT;

CREATE TRIGGER messagedb_count_deleted AFTER DELETE ON messages
    REFERENCING OLD TABLE AS deleted
    FOR EACH STATEMENT EXECUTE FUNCTION messagedb_count_deleted();

-- Messages are only appended, never updated: their indexes' pages may be filled before they split
-- (the default leaves a tenth of each page free for inserts that do not come). Only later splits
-- are affected; an index missing from an adopted schema is left alone.
ALTER INDEX IF EXISTS messages_pkey SET (fillfactor = 100);
ALTER INDEX IF EXISTS messages_id SET (fillfactor = 100);
ALTER INDEX IF EXISTS messages_stream SET (fillfactor = 100);
ALTER INDEX IF EXISTS messages_category SET (fillfactor = 100);
