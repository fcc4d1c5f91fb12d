-- One namespace's messages (one SQLite database file per namespace).
-- global_position is the rowid: assigned max+1 by the single writer, so it increases in commit order.
CREATE TABLE messages (
    global_position INTEGER PRIMARY KEY,
    position        INTEGER NOT NULL,
    time            INTEGER NOT NULL,          -- microseconds since the Unix epoch, UTC
    stream_name     TEXT    NOT NULL,
    category        TEXT    NOT NULL,          -- category(stream_name), kept for the category index
    type            TEXT    NOT NULL,
    data            TEXT    NOT NULL,          -- JSON object text
    metadata        TEXT,                      -- JSON object text, NULL when none
    id              BLOB    NOT NULL,          -- UUID, 16 bytes
    correlation     TEXT,                      -- category(metadata.correlationStreamName)
    cardinal_hash   INTEGER                    -- hash_64(cardinal_id(stream_name)), NULL without an id
);

CREATE UNIQUE INDEX messages_id ON messages (id);
CREATE UNIQUE INDEX messages_stream ON messages (stream_name, position);
CREATE INDEX messages_category ON messages (category, global_position);
