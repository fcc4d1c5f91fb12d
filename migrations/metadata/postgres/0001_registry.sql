-- The registry of namespaces, in schema `messagedb`. Each namespace is one PostgreSQL schema.
-- Tokens are never stored, only their SHA-256 (lowercase hex).
CREATE TABLE messagedb.namespaces (
    id             text        PRIMARY KEY,
    schema_name    text        NOT NULL UNIQUE,
    description    text        NOT NULL DEFAULT '',
    created_at     timestamptz NOT NULL,
    token_sha256   text,
    metadata       jsonb,
    schema_version integer     NOT NULL DEFAULT 0
);
