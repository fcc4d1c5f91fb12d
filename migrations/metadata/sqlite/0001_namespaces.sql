-- The registry of namespaces. Tokens are never stored, only their SHA-256 (lowercase hex).
CREATE TABLE namespaces (
    id           TEXT    PRIMARY KEY,
    description  TEXT    NOT NULL DEFAULT '',
    created_at   INTEGER NOT NULL,          -- microseconds since the Unix epoch, UTC
    token_sha256 TEXT,                      -- NULL: no token can reach the namespace yet
    metadata     TEXT                       -- JSON object text
) WITHOUT ROWID;
