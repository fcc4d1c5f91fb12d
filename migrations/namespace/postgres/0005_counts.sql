-- Not in Message DB: counts and the list of streams, kept as messages are written and removed, so
-- that a namespace's counts and its stream and category listings cost the same at ten million
-- messages as at ten thousand. They are kept by triggers, so every writer keeps them: messagedb's
-- write path, Message DB's write_message (Eventide's writers included), imports, and plain SQL.
-- Writers of one category already hold its lock (write_message, messagedb_write), so the
-- category's row adds no waiting between writers of different categories.
-- A stream counts from the row written at its lowest position. The trigger functions run as
-- the schema's owner: a role that may insert messages (Message DB's message_store) needs no
-- privilege on these tables.

CREATE TABLE messagedb_categories (
    category text COLLATE "C" PRIMARY KEY,
    streams  bigint NOT NULL,
    messages bigint NOT NULL
);

-- Stream names in byte order (the listing's order, whatever the database's collation).
CREATE TABLE messagedb_streams (
    stream_name text COLLATE "C" PRIMARY KEY
);

INSERT INTO messagedb_streams (stream_name)
SELECT DISTINCT stream_name FROM messages;

INSERT INTO messagedb_categories (category, streams, messages)
SELECT category(stream_name), count(DISTINCT stream_name), count(*) FROM messages GROUP BY 1;

CREATE FUNCTION messagedb_count_inserted() RETURNS trigger AS $$
BEGIN
    WITH written AS (
        SELECT n.stream_name, count(*) AS messages, min(n.position) AS first
        FROM inserted n GROUP BY n.stream_name
    ), fresh AS (
        INSERT INTO messagedb_streams (stream_name)
        SELECT w.stream_name FROM written w
        WHERE NOT EXISTS (
            SELECT 1 FROM messages m WHERE m.stream_name = w.stream_name AND m.position < w.first
        )
        ON CONFLICT DO NOTHING
        RETURNING messagedb_streams.stream_name
    )
    INSERT INTO messagedb_categories AS c (category, streams, messages)
    SELECT category(w.stream_name), count(f.stream_name), sum(w.messages)
    FROM written w LEFT JOIN fresh f ON f.stream_name = w.stream_name COLLATE "C"
    GROUP BY 1
    -- In category order: statements writing several categories lock their rows in one order.
    ORDER BY category(w.stream_name) COLLATE "C"
    ON CONFLICT (category) DO UPDATE
    SET streams = c.streams + excluded.streams, messages = c.messages + excluded.messages;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT;

CREATE FUNCTION messagedb_count_deleted() RETURNS trigger AS $$
BEGIN
    WITH removed AS (
        SELECT d.stream_name, count(*) AS messages FROM deleted d GROUP BY d.stream_name
    ), gone AS (
        DELETE FROM messagedb_streams s USING removed r
        WHERE s.stream_name = r.stream_name COLLATE "C"
          AND NOT EXISTS (SELECT 1 FROM messages m WHERE m.stream_name = r.stream_name)
        RETURNING s.stream_name
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
    RETURN NULL;
END;
$$ LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT;

CREATE TRIGGER messagedb_count_inserted AFTER INSERT ON messages
    REFERENCING NEW TABLE AS inserted
    FOR EACH STATEMENT EXECUTE FUNCTION messagedb_count_inserted();

CREATE TRIGGER messagedb_count_deleted AFTER DELETE ON messages
    REFERENCING OLD TABLE AS deleted
    FOR EACH STATEMENT EXECUTE FUNCTION messagedb_count_deleted();
