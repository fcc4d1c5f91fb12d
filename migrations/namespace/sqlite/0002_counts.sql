-- Counts and stream heads kept as messages are written and removed, so that a namespace's
-- counts and its stream and category listings cost the same at ten million messages as at ten
-- thousand (no scan of messages, no read of a message per stream listed).
CREATE TABLE categories (
    category TEXT    PRIMARY KEY,
    streams  INTEGER NOT NULL,
    messages INTEGER NOT NULL
) WITHOUT ROWID;

-- One row per stream: its version (last position) and the time of that message.
CREATE TABLE streams (
    stream_name TEXT    PRIMARY KEY,
    version     INTEGER NOT NULL,
    time        INTEGER NOT NULL
) WITHOUT ROWID;

-- SQLite takes the bare column `time` from the row holding max(position).
INSERT INTO streams (stream_name, version, time)
SELECT stream_name, max(position), time FROM messages GROUP BY stream_name;

INSERT INTO categories (category, streams, messages)
SELECT category, count(DISTINCT stream_name), count(*) FROM messages GROUP BY category;

CREATE TRIGGER messages_counted AFTER INSERT ON messages BEGIN
    INSERT INTO categories (category, streams, messages)
    VALUES (
        NEW.category,
        NOT EXISTS (SELECT 1 FROM streams WHERE stream_name = NEW.stream_name),
        1
    )
    ON CONFLICT (category) DO UPDATE SET streams = streams + excluded.streams, messages = messages + 1;
    INSERT INTO streams (stream_name, version, time) VALUES (NEW.stream_name, NEW.position, NEW.time)
    ON CONFLICT (stream_name) DO UPDATE SET version = excluded.version, time = excluded.time
    WHERE excluded.version > version;
END;

CREATE TRIGGER messages_uncounted AFTER DELETE ON messages BEGIN
    DELETE FROM streams WHERE stream_name = OLD.stream_name
        AND NOT EXISTS (SELECT 1 FROM messages WHERE stream_name = OLD.stream_name);
    UPDATE streams
    SET (version, time) = (SELECT position, time FROM messages WHERE stream_name = OLD.stream_name
                           ORDER BY position DESC LIMIT 1)
    WHERE stream_name = OLD.stream_name AND version = OLD.position;
    UPDATE categories
    SET messages = messages - 1,
        streams = streams - NOT EXISTS (SELECT 1 FROM streams WHERE stream_name = OLD.stream_name)
    WHERE category = OLD.category;
    DELETE FROM categories WHERE category = OLD.category AND messages = 0;
END;
