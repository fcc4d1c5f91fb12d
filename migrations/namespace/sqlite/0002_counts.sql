-- A namespace's counts and its list of streams, kept so that its counts and its stream and
-- category listings cost the same at ten million messages as at ten thousand. They are brought
-- up to date when they are read, by the writer (core/src/backend/sqlite/write.rs, count_up), not
-- when messages are written: a write pays nothing for them (triggers keeping them on every insert
-- doubled an insert's cost). Global positions are rowids, taken in commit order by one writer, so
-- every message after counted_to is one not yet counted.
CREATE TABLE categories (
    category TEXT    PRIMARY KEY,
    streams  INTEGER NOT NULL,
    messages INTEGER NOT NULL
) WITHOUT ROWID;

-- One row per stream, in byte order: its version (last position) and the time of that message
-- (microseconds), as of counted_to.
CREATE TABLE streams (
    stream_name TEXT    PRIMARY KEY,
    version     INTEGER NOT NULL,
    time        INTEGER NOT NULL
) WITHOUT ROWID;

-- Every message at or below this global position is counted.
CREATE TABLE counted (
    counted_to INTEGER NOT NULL
);
INSERT INTO counted (counted_to) VALUES (0);
