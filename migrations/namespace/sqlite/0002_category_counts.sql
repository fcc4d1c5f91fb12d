-- Counts kept as messages are written and removed, so that a namespace's counts and its category
-- listing cost the same at ten million messages as at ten thousand (no scan of messages). One row
-- per category; a stream counts from the row written at its lowest position.
CREATE TABLE categories (
    category TEXT    PRIMARY KEY,
    streams  INTEGER NOT NULL,
    messages INTEGER NOT NULL
) WITHOUT ROWID;

INSERT INTO categories (category, streams, messages)
SELECT category, count(DISTINCT stream_name), count(*) FROM messages GROUP BY category;

-- A stream is new when no row of it sits below the one written (one probe of messages_stream).
CREATE TRIGGER messages_counted AFTER INSERT ON messages BEGIN
    INSERT INTO categories (category, streams, messages)
    VALUES (
        NEW.category,
        NOT EXISTS (SELECT 1 FROM messages WHERE stream_name = NEW.stream_name AND position < NEW.position),
        1
    )
    ON CONFLICT (category) DO UPDATE SET streams = streams + excluded.streams, messages = messages + 1;
END;

CREATE TRIGGER messages_uncounted AFTER DELETE ON messages BEGIN
    UPDATE categories
    SET messages = messages - 1,
        streams = streams - NOT EXISTS (SELECT 1 FROM messages WHERE stream_name = OLD.stream_name)
    WHERE category = OLD.category;
    DELETE FROM categories WHERE category = OLD.category AND messages = 0;
END;
